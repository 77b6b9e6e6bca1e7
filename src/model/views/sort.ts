/**
 * sort.ts: the views' sort: each row's key read once into a typed array, then an index array
 * sorted, so the comparator touches only typed arrays (100k sockets: one pass over the rows, then
 * n log n comparisons of numbers). Ties fall back to a second key, so the order holds still from
 * frame to frame and the selection does not jump.
 *
 * A view of 100k sockets shows a screenful: with `limit` (the rows up to the bottom of the screen,
 * and a page more), only the first `limit` rows are put in order: the limit-th smallest key is
 * found in linear time (quickselect), the rows up to it are sorted, the rest follow unsorted. The
 * End key asks for the whole order (limit = all rows), and gets it.
 */

export type NumberKey<R> = (row: R) => number;
export type TextKey<R> = (row: R) => string;

let keys = new Float64Array(0);
let ties = new Float64Array(0);

function ensure(n: number): void {
  if (keys.length >= n) return;
  const size = Math.max(n, keys.length * 2, 1024);
  keys = new Float64Array(size);
  ties = new Float64Array(size);
}

/**
 * Sort `rows` in place by `key` (NaN sorts as the smallest), ties by `tie` ascending; with
 * `limit`, only the first `limit` rows are guaranteed in order (see above).
 */
export function sortByNumber<R>(rows: R[], key: NumberKey<R>, descending: boolean, tie: NumberKey<R>, limit = Infinity): R[] {
  const n = rows.length;
  ensure(n);
  const k = keys;
  const t = ties;
  // Keys as "smaller first" either way: descending sorts the negated key.
  const sign = descending ? -1 : 1;
  for (let i = 0; i < n; i++) {
    const v = key(rows[i]);
    k[i] = sign * (Number.isNaN(v) ? -Infinity : v);
    t[i] = tie(rows[i]);
  }
  if (limit * 4 < n) return sortHead(rows, n, limit);
  const idx = new Array<number>(n);
  for (let i = 0; i < n; i++) idx[i] = i;
  idx.sort((a, b) => k[a] - k[b] || t[a] - t[b]);
  const copy = rows.slice();
  for (let i = 0; i < n; i++) rows[i] = copy[idx[i]];
  return rows;
}

let marks = new Uint8Array(0);

/**
 * The rows whose keys (in `keys`/`ties`) are up to the limit-th smallest, sorted, moved to the
 * front; the others keep their relative order behind them. In place: no copy of the n rows.
 */
function sortHead<R>(rows: R[], n: number, limit: number): R[] {
  const k = keys;
  const t = ties;
  const bound = kthSmallest(k.subarray(0, n), limit - 1);
  const idx: number[] = [];
  for (let i = 0; i < n; i++) if (k[i] <= bound) idx.push(i);
  idx.sort((a, b) => k[a] - k[b] || t[a] - t[b]);
  if (marks.length < n) marks = new Uint8Array(Math.max(n, marks.length * 2));
  const head = idx.map((i) => {
    marks[i] = 1;
    return rows[i];
  });
  // Compact the rest towards the end, from the back (a write never passes the read).
  let w = n;
  for (let i = n - 1; i >= 0; i--) {
    if (marks[i]) marks[i] = 0;
    else rows[--w] = rows[i];
  }
  for (let i = 0; i < head.length; i++) rows[i] = head[i];
  return rows;
}

let work = new Float64Array(0);

/** The k-th smallest (0-based) of `values`, in linear expected time, on a scratch copy. */
function kthSmallest(values: Float64Array, kth: number): number {
  const n = values.length;
  if (work.length < n) work = new Float64Array(Math.max(n, work.length * 2));
  const a = work;
  a.set(values);
  let lo = 0;
  let hi = n - 1;
  while (lo < hi) {
    const pivot = a[(lo + hi) >>> 1];
    let i = lo;
    let j = hi;
    while (i <= j) {
      while (a[i] < pivot) i++;
      while (a[j] > pivot) j--;
      if (i <= j) {
        const x = a[i];
        a[i] = a[j];
        a[j] = x;
        i++;
        j--;
      }
    }
    if (kth <= j) hi = j;
    else if (kth >= i) lo = i;
    else return a[kth];
  }
  return a[kth];
}

/** Sort `rows` in place by text, ties by `tie` ascending. */
export function sortByText<R>(rows: R[], key: TextKey<R>, descending: boolean, tie: NumberKey<R>): R[] {
  const dir = descending ? -1 : 1;
  const texts = rows.map(key);
  const idx = rows.map((_, i) => i);
  idx.sort((a, b) => dir * (texts[a] < texts[b] ? -1 : texts[a] > texts[b] ? 1 : 0) || tie(rows[a]) - tie(rows[b]));
  const copy = rows.slice();
  for (let i = 0; i < idx.length; i++) rows[i] = copy[idx[i]];
  return rows;
}

/** A view's sort keys: numeric ones and text ones, by name. */
export interface SortSpec<R> {
  numbers: Record<string, NumberKey<R>>;
  texts: Record<string, TextKey<R>>;
  tie: NumberKey<R>;
}

export function sortBySpec<R>(rows: R[], spec: SortSpec<R>, key: string, descending: boolean, limit = Infinity): R[] {
  const num = spec.numbers[key];
  if (num) return sortByNumber(rows, num, descending, spec.tie, limit);
  const text = spec.texts[key];
  if (text) return sortByText(rows, text, descending, spec.tie);
  return rows;
}
