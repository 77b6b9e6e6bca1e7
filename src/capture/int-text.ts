/**
 * int-text.ts: an integer's decimal text for the --json hot path, around V8's number-string cache.
 *
 * `${n}`, String(n) and n.toString() of a number beyond the small-integer range (every ts_ns, a
 * socket's serial, a netns inode, byte counts past 2 GiB) go through V8's number-string cache, a
 * table in the old generation: each new string it takes is kept alive by it past the next
 * scavenge and so is promoted, and dies there when the next distinct number replaces it. At storm
 * rates that piled about 15 bytes of dead strings a line into the old generation (2 MB/s at 10k
 * connections/s) until a full GC: measured with bench/rss-timeline.js and a 1M-line micro run.
 * toFixed(0) writes the same digits for every safe integer (below 2^53: any clock, count or
 * inode seen in practice) without the cache, and is faster there; past 2^53 it would write the
 * double's exact value where String() writes the shortest one, so those (rare) keep the template,
 * as do small integers (cheapest, never promoted).
 */
const SMALL = 0x3fffffff;

/** The decimal text of a non-negative integer (as `${n}` writes it). */
export function intText(n: number): string {
  return n <= SMALL || n > Number.MAX_SAFE_INTEGER ? `${n}` : n.toFixed(0);
}
