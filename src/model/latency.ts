/**
 * latency.ts: a fixed-size log-bucket histogram of durations (connect latency), no per-sample
 * allocation. Buckets are quarter-octaves of microseconds: bucket i holds values in
 * [2^(i/4), 2^((i+1)/4)) us, so a reported percentile is within about 19% of the true value,
 * which is plenty to tell a 50 us loopback connect from a 40 ms WAN one. Bucket 0 also takes
 * everything below 1 us; the last bucket takes everything above ~2^28 us (about 4.5 minutes).
 */

const SUB = 4;
const BUCKETS = 28 * SUB + 1;

export class LatencyHistogram {
  private readonly buckets = new Uint32Array(BUCKETS);
  count = 0;
  minNs = Infinity;
  maxNs = 0;
  /** The lowest and highest bucket holding a sample: merge() walks only those. */
  private lo = BUCKETS;
  private hi = -1;

  add(ns: number): void {
    const us = ns / 1000;
    let i = us < 1 ? 0 : Math.floor(Math.log2(us) * SUB);
    if (i >= BUCKETS) i = BUCKETS - 1;
    this.buckets[i]++;
    if (i < this.lo) this.lo = i;
    if (i > this.hi) this.hi = i;
    this.count++;
    if (ns < this.minNs) this.minNs = ns;
    if (ns > this.maxNs) this.maxNs = ns;
  }

  /**
   * The q-quantile (0 < q <= 1) in nanoseconds, NaN when empty. Reports the geometric middle of
   * the bucket holding the rank, clamped to the observed min and max (so one sample reads exact).
   */
  quantileNs(q: number): number {
    if (this.count === 0) return NaN;
    const rank = Math.max(1, Math.ceil(q * this.count));
    let seen = 0;
    for (let i = 0; i < BUCKETS; i++) {
      seen += this.buckets[i];
      if (seen >= rank) {
        const mid = i === 0 ? 0.5 : Math.pow(2, (i + 0.5) / SUB);
        return Math.min(this.maxNs, Math.max(this.minNs, mid * 1000));
      }
    }
    return this.maxNs;
  }

  /** quantileNs(qa) and quantileNs(qb) (qa <= qb) in one pass over the buckets, into out[0], out[1]. */
  quantilesNs(qa: number, qb: number, out: Float64Array): void {
    if (this.count === 0) {
      out[0] = out[1] = NaN;
      return;
    }
    const rankA = Math.max(1, Math.ceil(qa * this.count));
    const rankB = Math.max(1, Math.ceil(qb * this.count));
    let seen = 0;
    let which = 0;
    for (let i = 0; i < BUCKETS && which < 2; i++) {
      seen += this.buckets[i];
      while (which < 2 && seen >= (which === 0 ? rankA : rankB)) {
        const mid = i === 0 ? 0.5 : Math.pow(2, (i + 0.5) / SUB);
        out[which++] = Math.min(this.maxNs, Math.max(this.minNs, mid * 1000));
      }
    }
    while (which < 2) out[which++] = this.maxNs;
  }

  /** Add every sample of `other` (a group's histogram from its members'). */
  merge(other: LatencyHistogram): void {
    if (other.count === 0) return;
    for (let i = other.lo; i <= other.hi; i++) this.buckets[i] += other.buckets[i];
    if (other.lo < this.lo) this.lo = other.lo;
    if (other.hi > this.hi) this.hi = other.hi;
    this.count += other.count;
    if (other.minNs < this.minNs) this.minNs = other.minNs;
    if (other.maxNs > this.maxNs) this.maxNs = other.maxNs;
  }

  reset(): void {
    this.buckets.fill(0);
    this.lo = BUCKETS;
    this.hi = -1;
    this.count = 0;
    this.minNs = Infinity;
    this.maxNs = 0;
  }
}
