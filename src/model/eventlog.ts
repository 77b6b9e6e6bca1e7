/**
 * eventlog.ts: a bounded ring of raw RECORD_SIZE-byte records, copied word by word from the shared ring
 * (the slot there is reused once drain returns) and decoded only when the detail view asks.
 *
 * Memory: every process with an event has one (32 records = 4 KiB at full size), and a churn of
 * short-lived processes keeps thousands of them for the exited rows' minute on screen, most with
 * 3 to 6 records. So the storage starts at INITIAL_RECORDS and doubles as records come, up to
 * `capacity`; it becomes a ring only once full. Same records kept, same order.
 */
import { RECORD_SIZE } from '../capture/layout';
import { decodeEvent, EventJson } from '../capture/decode';

const WORDS = RECORD_SIZE / 4;
/** Records the storage holds before it first grows. */
const INITIAL_RECORDS = 4;

export class EventLog {
  readonly capacity: number;
  private words: Uint32Array;
  private view: DataView;
  /** Records ever pushed; the newest is at (pushed - 1) % capacity. */
  pushed = 0;

  constructor(capacity: number) {
    this.capacity = capacity;
    this.words = new Uint32Array(Math.min(capacity, INITIAL_RECORDS) * WORDS);
    this.view = new DataView(this.words.buffer);
  }

  /** Records the storage has room for now (grows to `capacity`). */
  get allocated(): number {
    return this.words.length / WORDS;
  }

  /** Before the ring wraps, slot k holds record k: growing is a copy to a larger array. */
  private grow(): void {
    const bigger = new Uint32Array(Math.min(this.capacity, this.allocated * 2) * WORDS);
    bigger.set(this.words);
    this.words = bigger;
    this.view = new DataView(bigger.buffer);
  }

  /** Copy one record: `src` is a Uint32Array over the source buffer, `word` the record's word index. */
  push(src: Uint32Array, word: number): void {
    if (this.pushed < this.capacity && this.pushed * WORDS >= this.words.length) this.grow();
    const base = (this.pushed % this.capacity) * WORDS;
    const w = this.words;
    for (let i = 0; i < WORDS; i++) w[base + i] = src[word + i];
    this.pushed++;
  }

  get size(): number {
    return Math.min(this.pushed, this.capacity);
  }

  /** Decode up to `max` records, newest first. */
  recent(max = this.capacity): EventJson[] {
    const out: EventJson[] = [];
    const n = Math.min(max, this.size);
    for (let k = 1; k <= n; k++) {
      const slot = (this.pushed - k) % this.capacity;
      out.push(decodeEvent(this.view, slot * RECORD_SIZE));
    }
    return out;
  }
}

/**
 * Word view of whatever buffer a DataView covers, cached per view, so copying a record is 32
 * typed-array moves instead of 32 DataView calls. Records sit at multiples of RECORD_SIZE (160) bytes and the ring's
 * data area starts 4-byte aligned; an unaligned view (never produced here) falls back to a copy.
 */
export class WordSource {
  private lastView: DataView | undefined;
  private words: Uint32Array = new Uint32Array(0);
  private aligned = true;
  private readonly scratch = new Uint32Array(WORDS);

  /** Returns the word index of the record at `off` inside `this.array`. */
  locate(view: DataView, off: number): number {
    if (view !== this.lastView) this.attach(view);
    if (this.aligned) return off >>> 2;
    for (let i = 0; i < WORDS; i++) this.scratch[i] = view.getUint32(off + 4 * i, true);
    return 0;
  }

  get array(): Uint32Array {
    return this.aligned ? this.words : this.scratch;
  }

  private attach(view: DataView): void {
    this.lastView = view;
    this.aligned = view.byteOffset % 4 === 0 && view.byteLength % 4 === 0;
    if (this.aligned) this.words = new Uint32Array(view.buffer, view.byteOffset, view.byteLength / 4);
  }
}
