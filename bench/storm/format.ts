/** bench/storm/format.ts: the report's cells: numbers, seen / truth, median [min-max], and the table layout. */
import type { LoadTruth } from './load-events';
import { type Stat, median, stat } from './stats';
import type { SeenRun } from './summary';

export const f0 = (x: number | null | undefined): string => (x === null || x === undefined || !Number.isFinite(x) ? '-' : x.toFixed(0));
export const f1 = (x: number | null | undefined): string => (x === null || x === undefined || !Number.isFinite(x) ? '-' : x.toFixed(1));

export function table(rows: string[][]): string {
  const w = rows[0].map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length)));
  return rows.map((r) => r.map((c, i) => (i === 0 ? c.padEnd(w[i]) : c.padStart(w[i]))).join('  ')).join('\n');
}

export function seenVsTruth(seen: number | null | undefined, truth: number): string {
  if (seen === undefined) return '-';
  return seen === truth ? `${seen}/${truth} ✓` : `${seen}/${truth} ✗`;
}

export const rateName = (r: number): string => (r === 0 ? 'max' : `${r / 1000}k/s`);

/** "median [min-max]" (just the value for one run or no spread). */
export function fStat(st: Stat, fmt: (x: number) => string): string {
  if (st.n === 0) return '-';
  const m = fmt(st.med);
  if (st.n === 1 || fmt(st.min) === fmt(st.max)) return m;
  return `${m} [${fmt(st.min)}-${fmt(st.max)}]`;
}

/**
 * Seen / truth of one category over the reps: one run as "seen/truth ✓", several as how many short
 * or how many extra (never "short -1": an event counted too many is not one lost).
 */
export function seenCell(rs: SeenRun[], c: keyof LoadTruth): string {
  if (rs.length === 0) return '-';
  if (rs.some((r) => r.seen[c] === undefined)) return '-';
  if (rs.length === 1) return seenVsTruth(rs[0].seen[c], rs[0].truth[c]);
  const over = rs.map((r) => (r.seen[c] as number) - r.truth[c]);
  const truth = f0(median(rs.map((r) => r.truth[c])));
  if (over.every((d) => d === 0)) return `all equal ✓ (${truth})`;
  if (over.every((d) => d <= 0)) return `short ${fStat(stat(over.map((d) => -d)), f0)} of ${truth} ✗`;
  if (over.every((d) => d >= 0)) return `extra ${fStat(stat(over), f0)} over ${truth} ✗`;
  return `seen - truth ${fStat(stat(over), f0)} of ${truth} ✗`;
}
