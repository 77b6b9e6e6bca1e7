/**
 * query.ts: sort keys of the process table. The UI's columns map onto these; the model sorts rows
 * by them so batch mode and the TUI order rows identically.
 */
import { ProcessRow } from './processes';
import { RowFilter, rowMatches } from './filter';

export const SORT_KEYS = [
  'pid', 'user', 'comm', 'listen', 'open', 'conn', 'acc', 'close', 'err', 'retx', 'tx', 'rx',
  'p50', 'p99', 'age',
] as const;
export type SortKey = (typeof SORT_KEYS)[number];

export function isSortKey(s: string): s is SortKey {
  return (SORT_KEYS as readonly string[]).includes(s);
}

type NumericGetter = (r: ProcessRow, nowNs: number) => number;

const NUMERIC: Partial<Record<SortKey, NumericGetter>> = {
  pid: (r) => r.pid,
  listen: (r) => (r.listen ? r.listen.size : 0),
  open: (r) => r.open,
  conn: (r) => r.connRate,
  acc: (r) => r.accRate,
  close: (r) => r.closeRate,
  err: (r) => r.errors,
  retx: (r) => r.retransmits,
  tx: (r) => r.txRate,
  rx: (r) => r.rxRate,
  // Rows without a sample sort below every measured latency.
  p50: (r) => (Number.isNaN(r.p50Ns) ? -1 : r.p50Ns),
  p99: (r) => (Number.isNaN(r.p99Ns) ? -1 : r.p99Ns),
  age: (r, now) => now - r.lastNs,
};

/**
 * Sort rows in place. Ties fall back to the most recent activity, then pid, so the order is
 * stable from frame to frame and the selection does not jump around.
 */
export function sortRows(
  rows: ProcessRow[], key: SortKey, descending: boolean, nowNs: number, userName: (uid: number) => string,
): ProcessRow[] {
  const dir = descending ? -1 : 1;
  const num = NUMERIC[key];
  const primary = num
    ? (a: ProcessRow, b: ProcessRow) => num(a, nowNs) - num(b, nowNs)
    : key === 'user'
      ? (a: ProcessRow, b: ProcessRow) => cmpStr(userName(a.uid), userName(b.uid))
      : (a: ProcessRow, b: ProcessRow) => cmpStr(a.comm, b.comm);
  return rows.sort((a, b) => dir * primary(a, b) || b.lastNs - a.lastNs || a.pid - b.pid);
}

function cmpStr(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Rows that pass `filter`, sorted: the model's query, also used on a paused (frozen) copy. */
export function filterSort(
  rows: Iterable<ProcessRow>, filter: RowFilter, key: SortKey, descending: boolean, nowNs: number,
  userName: (uid: number) => string,
): ProcessRow[] {
  const out: ProcessRow[] = [];
  for (const row of rows) if (rowMatches(filter, row.pid, row.comm)) out.push(row);
  return sortRows(out, key, descending, nowNs, userName);
}
