/**
 * rates.ts: per-second counters in a small ring of 1-second buckets, keyed by record time.
 *
 * Why buckets and not an exponential average: a bucket ring gives an exact sliding window (the
 * figure a user can check against their own load generator), costs one add per event, and the same
 * structure with more slots doubles as the chart's per-second history.
 *
 * Rate over a window of W seconds at time `now` (second N, fraction f into it): the partial current
 * bucket N, the full buckets N-1 .. N-W+1, and bucket N-W weighted by (1 - f), divided by W. That is
 * the count in (now - W, now] assuming events spread evenly within a second.
 */

export const NS_PER_SEC = 1e9;

export class RateWindow {
  readonly series: number;
  readonly slots: number;
  private readonly mask: number;
  /** counts[slot * series + s] */
  private readonly counts: Float64Array;
  /** The absolute second each slot holds; -1 = empty. */
  private readonly secs: Float64Array;

  /** `slots` must be a power of two and larger than any window asked for. */
  constructor(series: number, slots = 8) {
    if (slots & (slots - 1)) throw new RangeError('slots must be a power of two');
    this.series = series;
    this.slots = slots;
    this.mask = slots - 1;
    this.counts = new Float64Array(series * slots);
    this.secs = new Float64Array(slots).fill(-1);
  }

  /** Add `n` to series `s` at record time `tsNs`. Events older than the ring are ignored here. */
  add(s: number, tsNs: number, n: number): void {
    this.addAt(s, Math.floor(tsNs / NS_PER_SEC), n);
  }

  /** add() for a time already turned into its second (a small integer: no boxing per call). */
  addAt(s: number, sec: number, n: number): void {
    const slot = sec & this.mask;
    const held = this.secs[slot];
    if (held !== sec) {
      if (held > sec) return; // too old: its bucket was reused by a newer second
      this.secs[slot] = sec;
      this.counts.fill(0, slot * this.series, slot * this.series + this.series);
    }
    this.counts[slot * this.series + s] += n;
  }

  /** Count of series `s` in absolute second `sec` (0 when that second is not held). */
  countAt(s: number, sec: number): number {
    const slot = sec & this.mask;
    return this.secs[slot] === sec ? this.counts[slot * this.series + s] : 0;
  }

  /** Events per second of series `s` over the last `windowSec` seconds ending at `nowNs`. */
  rate(s: number, nowNs: number, windowSec = 5): number {
    const now = nowNs / NS_PER_SEC;
    const cur = Math.floor(now);
    const frac = now - cur;
    let sum = 0;
    for (let k = 0; k < windowSec; k++) sum += this.countAt(s, cur - k);
    sum += this.countAt(s, cur - windowSec) * (1 - frac);
    return sum / windowSec;
  }

  /**
   * rate() of every series at once into `out` (out[s] for series s): one pass over the window's
   * buckets instead of one per series (the per-frame refresh of 10k rows calls this per row).
   */
  rates(nowNs: number, windowSec: number, out: Float64Array): void {
    const now = nowNs / NS_PER_SEC;
    const cur = Math.floor(now);
    const ns = this.series;
    out.fill(0, 0, ns);
    for (let k = 0; k <= windowSec; k++) {
      const sec = cur - k;
      const slot = sec & this.mask;
      if (this.secs[slot] !== sec) continue;
      const w = k === windowSec ? 1 - (now - cur) : 1;
      const base = slot * ns;
      for (let s = 0; s < ns; s++) out[s] += this.counts[base + s] * w;
    }
    for (let s = 0; s < ns; s++) out[s] /= windowSec;
  }

  /** Per-second counts of series `s` for the `n` complete seconds before `nowNs`, oldest first. */
  history(s: number, nowNs: number, n: number, out: number[] = []): number[] {
    const cur = Math.floor(nowNs / NS_PER_SEC);
    out.length = 0;
    for (let k = n; k >= 1; k--) out.push(this.countAt(s, cur - k));
    return out;
  }

  /** The newest second with any data, or -1. */
  newestSecond(): number {
    let best = -1;
    for (let i = 0; i < this.slots; i++) if (this.secs[i] > best) best = this.secs[i];
    return best;
  }
}
