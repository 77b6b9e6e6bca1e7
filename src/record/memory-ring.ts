/**
 * memory-ring.ts: the last seconds of records, in memory, for a triggered recording
 * (trigger-stage.ts). Whole polled batches are kept as copies (one allocation per batch, never per
 * record), oldest first, and let go when they are older than the window (by record time) or when
 * the ring holds more bytes than its cap.
 *
 * Nothing goes silently: a batch let go by the byte cap while it was still inside the window is
 * remembered (time span and record count) until it ages out of the window, so the recording made
 * from the ring can say how many records of the window it does not hold (a DROPS record of the
 * recording stage) and from when it really starts.
 */
import { Offset, RECORD_SIZE } from '../capture/layout';

export interface HeldBatch {
  bytes: Uint8Array;
  count: number;
  /** Oldest and newest record time in the batch (ns, CLOCK_MONOTONIC; 0s skipped). */
  firstTsNs: number;
  lastTsNs: number;
}

interface Evicted {
  lastTsNs: number;
  count: number;
}

const TWO32 = 4294967296;

export class MemoryRing {
  private readonly held: HeldBatch[] = [];
  private readonly evicted: Evicted[] = [];
  private heldBytes = 0;
  private newestNs = 0;
  /** Records the byte cap let go while inside the window, since the start. */
  evictedRecords = 0;

  constructor(private readonly windowNs: number, private readonly maxBytes: number) {}

  get bytes(): number {
    return this.heldBytes;
  }

  get records(): number {
    let n = 0;
    for (const b of this.held) n += b.count;
    return n;
  }

  /** Keep a copy of `count` records from staging[0...]. */
  push(staging: Uint8Array, count: number): void {
    if (count <= 0) return;
    const bytes = staging.slice(0, count * RECORD_SIZE);
    const view = new DataView(bytes.buffer);
    let first = 0;
    let last = 0;
    for (let i = 0, at = 0; i < count; i++, at += RECORD_SIZE) {
      const ts = view.getUint32(at + Offset.ts_ns + 4, true) * TWO32 + view.getUint32(at + Offset.ts_ns, true);
      if (ts === 0) continue;
      if (first === 0 || ts < first) first = ts;
      if (ts > last) last = ts;
    }
    this.held.push({ bytes, count, firstTsNs: first, lastTsNs: last });
    this.heldBytes += bytes.length;
    if (last > this.newestNs) this.newestNs = last;
    this.trim();
  }

  /** Batches holding a record at or after `fromNs`, oldest first (still held by the ring). */
  since(fromNs: number): HeldBatch[] {
    return this.held.filter((b) => b.lastTsNs === 0 || b.lastTsNs >= fromNs);
  }

  /** Records of [fromNs, now] the byte cap let go. */
  evictedSince(fromNs: number): number {
    let n = 0;
    for (const e of this.evicted) if (e.lastTsNs >= fromNs) n += e.count;
    return n;
  }

  /** Let go of everything (written to a recording). */
  clear(): void {
    this.held.length = 0;
    this.evicted.length = 0;
    this.heldBytes = 0;
  }

  private trim(): void {
    const oldest = this.newestNs - this.windowNs;
    while (this.held.length > 1 && this.held[0].lastTsNs !== 0 && this.held[0].lastTsNs < oldest) this.drop();
    while (this.held.length > 1 && this.heldBytes > this.maxBytes) {
      const b = this.drop();
      this.evicted.push({ lastTsNs: b.lastTsNs, count: b.count });
      this.evictedRecords += b.count;
    }
    while (this.evicted.length > 0 && this.evicted[0].lastTsNs < oldest) this.evicted.shift();
  }

  private drop(): HeldBatch {
    const b = this.held.shift()!;
    this.heldBytes -= b.bytes.length;
    return b;
  }
}
