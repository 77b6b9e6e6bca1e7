/**
 * process-table.ts: the model's rows, one per process (tgid): lookup with a one-entry cache,
 * creation, renames (exec, pid reuse), eviction over the cap and aging at refresh.
 * htop's Table to processes.ts's Process. Only the model (model.ts) writes to it.
 */
import { EventKind, Offset } from '../capture/layout';
import { readComm } from '../capture/decode';
import type { IngestCursor } from './ingest-cursor';
import { ProcessRow } from './processes';

/** Kinds only a running process's own syscalls produce. */
const MADE_BY_A_CALL: readonly boolean[] = (() => {
  const a: boolean[] = [];
  for (const k of [EventKind.Socket, EventKind.Bind, EventKind.Listen, EventKind.ConnectStart, EventKind.Accept]) a[k] = true;
  return a;
})();

const SEC = 1e9;

export function pow2AtLeast(n: number): number {
  let p = 1;
  while (p < n) p *= 2;
  return p;
}

export interface ProcessTableOptions {
  maxProcesses: number;
  rateWindowSec: number;
  exitedTtlSec: number;
  idleTtlSec: number;
  /**
   * The parent pid of a process first seen (live: /proc; replay: the recording): undefined when
   * not known yet (asked again at the next refreshes), null when it never will be (not asked again).
   */
  parentOf?: (pid: number) => number | undefined | null;
}

/** Lookups of a parent pid per process at most: at first sight, then at each refresh while the
 *  source says "not yet" (a replay's recorded parent may arrive a few frames after the first
 *  record). Live, a process gone from /proc at first sight is "never": one failed open each. */
const PPID_TRIES = 30;

export class ProcessTable {
  private readonly rows = new Map<number, ProcessRow>();
  /** One-entry cache: consecutive records very often belong to the same process. */
  private lastRow: ProcessRow | undefined;
  private evicted = 0;

  /** Called with each row that leaves the table (aged out or evicted), for the commands' totals. */
  onRemove: ((row: ProcessRow) => void) | null = null;

  constructor(private readonly cursor: IngestCursor, private readonly options: ProcessTableOptions) {}

  get(pid: number): ProcessRow | undefined {
    return this.rows.get(pid);
  }

  /** The row is the live one for its pid (not one replaced by a later process with that pid). */
  isCurrent(row: ProcessRow): boolean {
    return this.rows.get(row.pid) === row;
  }

  values(): IterableIterator<ProcessRow> {
    return this.rows.values();
  }

  get size(): number {
    return this.rows.size;
  }

  get evictedCount(): number {
    return this.evicted;
  }

  /** The row of the record's process: found, renamed, or created. */
  rowFor(pid: number, view: DataView, off: number, kind: number): ProcessRow {
    let row = this.lastRow;
    if (row === undefined || row.pid !== pid) {
      row = this.rows.get(pid);
      if (row === undefined) row = this.newRow(pid, view, off);
      this.lastRow = row;
    }
    if (this.commChanged(row, view, off) && view.getUint8(off + Offset.comm) !== 0) {
      // After an exit, late events of the old process still arrive (tcp_destroy_sock, state
      // changes): only a call that a live process makes means the pid now names another process.
      if (!row.exited) this.updateComm(row, view, off);
      else if (MADE_BY_A_CALL[kind]) row = this.newRow(pid, view, off);
    }
    return row;
  }

  updateComm(row: ProcessRow, view: DataView, off: number): void {
    const c = off + Offset.comm;
    row.commW0 = view.getUint32(c, true);
    row.commW1 = view.getUint32(c + 4, true);
    row.commW2 = view.getUint32(c + 8, true);
    row.commW3 = view.getUint32(c + 12, true);
    row.comm = readComm(view, off);
    row.uid = view.getUint32(off + Offset.uid, true);
  }

  /** Age out exited and long-idle rows, then evaluate the others' rates at `nowNs`. */
  refresh(nowNs: number): void {
    const o = this.options;
    const exitedBefore = nowNs - o.exitedTtlSec * SEC;
    const idleBefore = nowNs - o.idleTtlSec * SEC;
    for (const row of this.rows.values()) {
      if ((row.exited && row.exitNs < exitedBefore)
        || (!row.exited && row.open <= 0 && !row.listen?.size && row.lastNs < idleBefore)) {
        this.remove(row);
        continue;
      }
      if (row.ppid < 0 && row.ppidTries < PPID_TRIES) this.lookUpParent(row);
      row.refresh(nowNs, o.rateWindowSec);
    }
  }

  private newRow(pid: number, view: DataView, off: number): ProcessRow {
    if (this.rows.size >= this.options.maxProcesses) this.evict();
    const replaced = this.rows.get(pid);
    if (replaced) this.onRemove?.(replaced); // pid reuse: the old process's totals are kept
    const row = new ProcessRow(pid, pow2AtLeast(this.options.rateWindowSec + 2));
    row.firstNs = row.lastNs = this.cursor.ts;
    this.updateComm(row, view, off);
    this.rows.set(pid, row);
    this.lastRow = row;
    this.lookUpParent(row);
    return row;
  }

  /** At first sight, while /proc still has the process (a short-lived one is gone by the frame). */
  private lookUpParent(row: ProcessRow): void {
    const parentOf = this.options.parentOf;
    if (!parentOf) return;
    row.ppidTries++;
    const ppid = parentOf(row.pid);
    if (ppid === null) row.ppidTries = PPID_TRIES;
    else if (ppid !== undefined && ppid >= 0) row.ppid = ppid;
  }

  private commChanged(row: ProcessRow, view: DataView, off: number): boolean {
    const c = off + Offset.comm;
    return view.getUint32(c, true) !== row.commW0 || view.getUint32(c + 4, true) !== row.commW1
      || view.getUint32(c + 8, true) !== row.commW2 || view.getUint32(c + 12, true) !== row.commW3;
  }

  /** Over the cap: drop a tenth of the rows, exited ones first, then the longest idle. */
  private evict(): void {
    const rows = [...this.rows.values()].sort(
      (a, b) => Number(b.exited) - Number(a.exited) || a.lastNs - b.lastNs,
    );
    const n = Math.max(1, Math.floor(rows.length / 10));
    for (let i = 0; i < n; i++) this.remove(rows[i]);
    this.evicted += n;
  }

  private remove(row: ProcessRow): void {
    this.onRemove?.(row);
    if (this.rows.get(row.pid) === row) this.rows.delete(row.pid);
    if (this.lastRow === row) this.lastRow = undefined;
  }
}
