/**
 * retired.ts: the totals of processes the model no longer holds (exited and aged out, or
 * evicted), per command and user, so the commands view still says "curl: 51 processes, 102
 * connects, 2 failed" after the rows themselves are gone. Capped: the least recently retired
 * commands go first.
 */
import type { ProcessRow } from './processes';
import { LatencyHistogram } from './latency';

/** The running counters a process row, a retired command and a commands-view group all keep. */
export interface Totals {
  accepts: number;
  connectsOk: number;
  connectsFailed: number;
  closes: number;
  errors: number;
  retransmits: number;
  bytesSent: number;
  bytesReceived: number;
  lastNs: number;
}

/** Add `from`'s counters to `into` (lastNs: the later of the two). */
export function addTotals(into: Totals, from: Totals): void {
  into.accepts += from.accepts;
  into.connectsOk += from.connectsOk;
  into.connectsFailed += from.connectsFailed;
  into.closes += from.closes;
  into.errors += from.errors;
  into.retransmits += from.retransmits;
  into.bytesSent += from.bytesSent;
  into.bytesReceived += from.bytesReceived;
  if (from.lastNs > into.lastNs) into.lastNs = from.lastNs;
}

export class RetiredTotals implements Totals {
  processes = 0;
  accepts = 0;
  connectsOk = 0;
  connectsFailed = 0;
  closes = 0;
  errors = 0;
  retransmits = 0;
  bytesSent = 0;
  bytesReceived = 0;
  lastNs = 0;
  readonly latency = new LatencyHistogram();

  constructor(readonly comm: string, readonly uid: number) {}

  add(row: ProcessRow): void {
    this.processes++;
    addTotals(this, row);
    if (row.latency) this.latency.merge(row.latency);
  }
}

export class RetiredCommands {
  private readonly map = new Map<string, RetiredTotals>();

  constructor(private readonly max = 4096) {}

  add(row: ProcessRow): void {
    const key = `${row.comm}\0${row.uid}`;
    let t = this.map.get(key);
    if (t === undefined) {
      if (this.map.size >= this.max) {
        const oldest = [...this.map].sort((a, b) => a[1].lastNs - b[1].lastNs);
        for (let i = 0; i < this.max / 10; i++) this.map.delete(oldest[i][0]);
      }
      t = new RetiredTotals(row.comm, row.uid);
      this.map.set(key, t);
    }
    t.add(row);
  }

  values(): IterableIterator<RetiredTotals> {
    return this.map.values();
  }
}
