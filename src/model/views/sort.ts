/**
 * sort.ts: the views' sort: each row's key read once into a typed array, then an index array
 * sorted, so the comparator touches only typed arrays (100k sockets: one pass over the rows, then
 * n log n comparisons of numbers). Ties fall back to a second key, so the order holds still from
 * frame to frame and the selection does not jump.
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

/** Sort `rows` in place by `key` (NaN sorts as the smallest), ties by `tie` ascending. */
export function sortByNumber<R>(rows: R[], key: NumberKey<R>, descending: boolean, tie: NumberKey<R>): R[] {
  const n = rows.length;
  ensure(n);
  const k = keys;
  const t = ties;
  const idx = new Array<number>(n);
  for (let i = 0; i < n; i++) {
    const v = key(rows[i]);
    k[i] = Number.isNaN(v) ? -Infinity : v;
    t[i] = tie(rows[i]);
    idx[i] = i;
  }
  if (descending) idx.sort((a, b) => k[b] - k[a] || t[a] - t[b]);
  else idx.sort((a, b) => k[a] - k[b] || t[a] - t[b]);
  const copy = rows.slice();
  for (let i = 0; i < n; i++) rows[i] = copy[idx[i]];
  return rows;
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

export function sortBySpec<R>(rows: R[], spec: SortSpec<R>, key: string, descending: boolean): R[] {
  const num = spec.numbers[key];
  if (num) return sortByNumber(rows, num, descending, spec.tie);
  const text = spec.texts[key];
  if (text) return sortByText(rows, text, descending, spec.tie);
  return rows;
}
