/** bench/storm/stats.ts: medians and spreads over runs and reps. */

/** Median of a list (NaN for none). */
export function median(xs: number[]): number {
  const s = xs.filter((x) => Number.isFinite(x)).sort((a, b) => a - b);
  if (s.length === 0) return NaN;
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
}

export interface Stat { n: number; med: number; min: number; max: number }
export function stat(xs: number[]): Stat {
  const v = xs.filter((x) => Number.isFinite(x));
  return { n: v.length, med: median(v), min: v.length ? Math.min(...v) : NaN, max: v.length ? Math.max(...v) : NaN };
}
