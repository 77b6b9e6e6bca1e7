/**
 * ring.ts: a lock-free single-producer / single-consumer ring of fixed-size records in a
 * SharedArrayBuffer. The capture worker (or the replay worker) produces; the UI thread consumes.
 *
 * Memory layout (byte offsets in the SharedArrayBuffer):
 *
 *     0   Int32 capacity (records, a power of two)       4  Int32 record size (bytes)
 *    64   Int32 head: records ever published  (producer writes, consumer reads)   own cache line
 *   128   Int32 tail: records ever consumed   (consumer writes, producer reads)   own cache line
 *   192   BigInt64 drops: records refused because the ring was full (producer writes)
 *   200   BigInt64 published: records accepted in total (producer writes)
 *   256   Int32 control word: 1 = the consumer asks the producer to stop
 *   512   data: capacity * recordSize bytes; record i lives at (i & (capacity - 1)) * recordSize
 *
 * head and tail are free-running 32-bit counters that wrap; (head - tail) >>> 0 is the fill level,
 * which is correct across the wrap because capacity <= 2^30. The producer copies records into free
 * slots, then publishes them all with one Atomics.store of head (sequentially consistent, so the
 * consumer that Atomics.loads head sees the record bytes). The consumer reads records in place and
 * then releases the slots with one Atomics.store of tail. Neither side ever blocks: a full ring makes
 * the producer count a drop (never overwrite), which the UI shows.
 */

const HEADER_BYTES = 512;
const I32_CAPACITY = 0;
const I32_RECORD_SIZE = 1;
const I32_HEAD = 64 / 4;
const I32_TAIL = 128 / 4;
const I64_DROPS = 192 / 8;
const I64_PUBLISHED = 200 / 8;
const I32_CONTROL = 256 / 4;

// Atomics.waitAsync is ES2024; typed here because tsconfig's target lib (ES2022) lacks it.
type WaitAsyncResult =
  | { async: false; value: 'not-equal' | 'timed-out' }
  | { async: true; value: Promise<'ok' | 'timed-out'> };
const waitAsync = (Atomics as unknown as {
  waitAsync(typedArray: Int32Array, index: number, value: number, timeoutMs?: number): WaitAsyncResult;
}).waitAsync;

export type RecordVisitor = (view: DataView, offset: number) => void;

export class SharedRing {
  readonly sab: SharedArrayBuffer;
  readonly capacity: number;
  readonly recordSize: number;
  /** DataView over the data area; a record's fields are read at offset + field offset. */
  readonly view: DataView;
  readonly bytes: Uint8Array;
  private readonly i32: Int32Array;
  private readonly i64: BigInt64Array;
  private readonly mask: number;

  /** Allocate a ring holding `capacity` records (rounded up to a power of two). */
  static create(capacity: number, recordSize: number): SharedRing {
    if (!Number.isInteger(recordSize) || recordSize <= 0 || recordSize % 8 !== 0) {
      throw new RangeError(`record size must be a positive multiple of 8, got ${recordSize}`);
    }
    let cap = 1;
    while (cap < capacity) cap *= 2;
    if (cap > 2 ** 30) throw new RangeError(`ring capacity ${capacity} is too large`);
    const sab = new SharedArrayBuffer(HEADER_BYTES + cap * recordSize);
    const i32 = new Int32Array(sab, 0, HEADER_BYTES / 4);
    i32[I32_CAPACITY] = cap;
    i32[I32_RECORD_SIZE] = recordSize;
    return new SharedRing(sab);
  }

  /** Attach to a ring created elsewhere (e.g. passed to a worker in workerData). */
  constructor(sab: SharedArrayBuffer) {
    this.sab = sab;
    this.i32 = new Int32Array(sab, 0, HEADER_BYTES / 4);
    this.i64 = new BigInt64Array(sab, 0, HEADER_BYTES / 8);
    this.capacity = this.i32[I32_CAPACITY];
    this.recordSize = this.i32[I32_RECORD_SIZE];
    this.mask = this.capacity - 1;
    this.view = new DataView(sab, HEADER_BYTES, this.capacity * this.recordSize);
    this.bytes = new Uint8Array(sab, HEADER_BYTES, this.capacity * this.recordSize);
  }

  // ---------------------------------------------------------------- producer side

  /**
   * Copy `count` whole records from `src` (recordSize bytes each, starting at byte 0) into the
   * ring and publish them at once. Records that do not fit are counted as drops, never written.
   * Returns how many were accepted.
   */
  pushBatch(src: Uint8Array, count: number): number {
    const head = Atomics.load(this.i32, I32_HEAD);
    const tail = Atomics.load(this.i32, I32_TAIL);
    const free = this.capacity - ((head - tail) >>> 0);
    const n = count < free ? count : free;
    if (n > 0) {
      const size = this.recordSize;
      const start = head & this.mask;
      const first = Math.min(n, this.capacity - start);
      this.bytes.set(src.subarray(0, first * size), start * size);
      if (n > first) this.bytes.set(src.subarray(first * size, n * size), 0);
      Atomics.store(this.i32, I32_HEAD, (head + n) | 0);
      Atomics.add(this.i64, I64_PUBLISHED, BigInt(n));
      Atomics.notify(this.i32, I32_HEAD);
    }
    if (n < count) Atomics.add(this.i64, I64_DROPS, BigInt(count - n));
    return n;
  }

  /** True once the consumer has asked the producer to stop. */
  stopRequested(): boolean {
    return Atomics.load(this.i32, I32_CONTROL) === 1;
  }

  // ---------------------------------------------------------------- consumer side

  /**
   * Visit every published record in order (at most `max`), then release their slots.
   * The visitor gets the shared DataView and the record's byte offset: it must read what it needs
   * before returning, because the slot is reused after drain returns. Returns the number visited.
   */
  drain(visit: RecordVisitor, max = Infinity): number {
    const head = Atomics.load(this.i32, I32_HEAD);
    const tail = Atomics.load(this.i32, I32_TAIL);
    let n = (head - tail) >>> 0;
    if (n > max) n = max;
    const size = this.recordSize;
    const view = this.view;
    for (let i = 0; i < n; i++) visit(view, ((tail + i) & this.mask) * size);
    if (n > 0) Atomics.store(this.i32, I32_TAIL, (tail + n) | 0);
    return n;
  }

  /** Resolve when records are available or after timeoutMs (for consumers that want to sleep). */
  async waitForData(timeoutMs: number): Promise<void> {
    const tail = Atomics.load(this.i32, I32_TAIL);
    const head = Atomics.load(this.i32, I32_HEAD);
    if (head !== tail) return;
    const r = waitAsync(this.i32, I32_HEAD, head, timeoutMs);
    if (!r.async) return;
    // Atomics.waitAsync holds no ref on Node's event loop: with nothing else alive the process
    // would exit with this promise pending (and records undrained). A ref'd timer keeps the loop
    // alive and ends the wait itself (waitAsync's own timeout may fire after it).
    let timer: ReturnType<typeof setTimeout> | undefined;
    const timedOut = new Promise<void>((resolve) => {
      timer = setTimeout(resolve, Math.min(Math.max(timeoutMs, 0), 2 ** 31 - 1));
    });
    await Promise.race([r.value, timedOut]);
    clearTimeout(timer);
  }

  requestStop(): void {
    Atomics.store(this.i32, I32_CONTROL, 1);
    Atomics.notify(this.i32, I32_CONTROL);
  }

  // ---------------------------------------------------------------- either side

  /** Records published but not yet consumed. */
  available(): number {
    return (Atomics.load(this.i32, I32_HEAD) - Atomics.load(this.i32, I32_TAIL)) >>> 0;
  }

  /** Records refused because the ring was full. */
  drops(): number {
    return Number(Atomics.load(this.i64, I64_DROPS));
  }

  /** Records accepted into the ring since it was created. */
  published(): number {
    return Number(Atomics.load(this.i64, I64_PUBLISHED));
  }
}
