/**
 * query.ts: sort keys of the process table. The UI's columns map onto these; the model sorts rows
 * by them so batch mode and the TUI order rows identically.
 */
import { ProcessRow } from './processes';
import { RowFilter, rowMatches } from './filter';

export const SORT_KEYS = [
  'pid', 'user', 'comm', 'listen', 'open', 'conn', 'acc', 'close', 'err', 'fail', 'queue', 'ovfl', 'accp99',
  'retx', 'tx', 'rx', 'p50', 'p99', 'age',
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
  fail: (r) => r.failTotal,
  // Fullest queue first: length over limit, then length.
  queue: (r) => (r.queueMax > 0 ? r.queueLen / r.queueMax : 0) * 1e6 + r.queueLen,
  ovfl: (r) => r.overflows,
  accp99: (r) => (Number.isNaN(r.acceptP99Ns) ? -1 : r.acceptP99Ns),
};

/**
 * Sort rows in place. Ties fall back to the most recent activity, then pid, so the order is
 * stable from frame to frame and the selection does not jump around.
 */
export function sortRows(
  rows: ProcessRow[], key: SortKey, descending: boolean, nowNs: number, userName: (uid: number) => string,
): ProcessRow[] {
  const num = NUMERIC[key];
  if (num) return sortNumeric(rows, rows.length, num, descending, nowNs);
  const dir = descending ? -1 : 1;
  const primary = key === 'user'
    ? (a: ProcessRow, b: ProcessRow) => cmpStr(userName(a.uid), userName(b.uid))
    : (a: ProcessRow, b: ProcessRow) => cmpStr(a.comm, b.comm);
  return rows.sort((a, b) => dir * primary(a, b) || b.lastNs - a.lastNs || a.pid - b.pid);
}

/**
 * The same order for a numeric key, as the frame needs it for 10k rows: each row's key, lastNs and
 * pid are read once into typed arrays (filled as the rows are gathered, see filterSort) and an
 * index array is sorted, so the comparator (about n log n calls: 130k at 10k rows) reads only
 * typed arrays instead of scattered row objects.
 */
let keyBuf = new Float64Array(0);
let lastBuf = new Float64Array(0);
let pidBuf = new Float64Array(0);

function ensureBuffers(n: number): void {
  if (keyBuf.length >= n) return;
  const size = Math.max(n, keyBuf.length * 2, 1024);
  keyBuf = new Float64Array(size);
  lastBuf = new Float64Array(size);
  pidBuf = new Float64Array(size);
}

function fillKeys(row: ProcessRow, i: number, num: NumericGetter, nowNs: number): void {
  keyBuf[i] = num(row, nowNs);
  lastBuf[i] = row.lastNs;
  pidBuf[i] = row.pid;
}

/** Sort rows[0..n) whose keys are in the buffers (filled = true) or not yet (false). */
function sortNumeric(rows: ProcessRow[], n: number, num: NumericGetter, descending: boolean, nowNs: number, filled = false): ProcessRow[] {
  if (!filled) {
    ensureBuffers(n);
    for (let i = 0; i < n; i++) fillKeys(rows[i], i, num, nowNs);
  }
  const k = keyBuf;
  const last = lastBuf;
  const pid = pidBuf;
  const idx = previousOrder(rows, n);
  if (descending) idx.sort((a, b) => k[b] - k[a] || last[b] - last[a] || pid[a] - pid[b]);
  else idx.sort((a, b) => k[a] - k[b] || last[b] - last[a] || pid[a] - pid[b]);
  const copy = rows.slice(0, n);
  for (let i = 0; i < n; i++) {
    const row = copy[idx[i]];
    rows[i] = row;
    row.sortRank = i;
  }
  return rows;
}

/**
 * Indexes of rows[0..n) in the order of the previous sort (rows new since then last). From one
 * frame to the next the order barely changes, and Array.prototype.sort (TimSort) finishes a
 * nearly sorted array in close to n comparisons instead of n log n: at 10k rows, the larger part
 * of a frame's query. A plain array of small integers, not a typed array: TypedArray sort is a
 * merge sort that gains nothing from order already there.
 */
function previousOrder(rows: ProcessRow[], n: number): number[] {
  const byRank = new Int32Array(n).fill(-1);
  const unranked: number[] = [];
  for (let i = 0; i < n; i++) {
    const r = rows[i].sortRank;
    if (r >= 0 && r < n && byRank[r] < 0) byRank[r] = i;
    else unranked.push(i);
  }
  const idx: number[] = [];
  for (let r = 0; r < n; r++) if (byRank[r] >= 0) idx.push(byRank[r]);
  for (const i of unranked) idx.push(i);
  return idx;
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
  const num = NUMERIC[key];
  if (!num) {
    for (const row of rows) if (rowMatches(filter, row.pid, row.comm, row)) out.push(row);
    return sortRows(out, key, descending, nowNs, userName);
  }
  // Gather and read the sort keys in the same pass: each row object is visited once.
  for (const row of rows) {
    if (!rowMatches(filter, row.pid, row.comm, row)) continue;
    const i = out.length;
    if (i >= keyBuf.length) ensureBuffers(i + 1);
    fillKeys(row, i, num, nowNs);
    out.push(row);
  }
  return sortNumeric(out, out.length, num, descending, nowNs, true);
}
