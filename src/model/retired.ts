/**
 * retired.ts: the totals of processes the model no longer holds (exited and aged out, or
 * evicted), per command and user, so the commands view still says "curl: 51 processes, 102
 * connects, 2 failed" after the rows themselves are gone. Capped: the least recently retired
 * commands go first.
 */
import type { ProcessRow } from './processes';
import { LatencyHistogram } from './latency';

export class RetiredTotals {
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
    this.accepts += row.accepts;
    this.connectsOk += row.connectsOk;
    this.connectsFailed += row.connectsFailed;
    this.closes += row.closes;
    this.errors += row.errors;
    this.retransmits += row.retransmits;
    this.bytesSent += row.bytesSent;
    this.bytesReceived += row.bytesReceived;
    if (row.lastNs > this.lastNs) this.lastNs = row.lastNs;
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
