/**
 * record-cursor.ts: sequential, seekable reading of a recording's records through its frame index.
 * A batch is a subarray of the cursor's own buffer: valid until its next read.
 */
import { RECORD_SIZE, widenRecords } from '../capture/layout';
import type { ChunkReader } from './chunk-reader';

export interface RecordBatch {
  /** count whole records from byte 0. Valid only until the next read from the same cursor. */
  bytes: Uint8Array;
  /** DataView over exactly `bytes`: record k's fields at k * RECORD_SIZE + Offset.x. */
  view: DataView;
  count: number;
  /** Index of the first record of this batch in the recording. */
  first: number;
}

/** What a cursor needs of the recording (reader.ts Recording): its frame index. */
export interface FrameIndex {
  readonly records: number;
  /** Bytes per record in the file (RECORD_SIZE, or an older layout's, widened here). */
  readonly stride: number;
  readonly frameCount: number;
  frameOf(index: number): number;
  frameFirst(i: number): number;
  frameOff(i: number): number;
  frameCountAt(i: number): number;
  /** The DROPS record the reader made for damage (frame i), or undefined. */
  synthAt(i: number): Uint8Array | undefined;
}

/** Sequential reader over a recording's records; seekable by record index. */
export class RecordCursor {
  private fi = 0;
  private inFrame = 0;
  /** Index of the next record next() returns. */
  position = 0;
  /** Older-layout records widened to RECORD_SIZE (grown on demand, reused). */
  private wide = new Uint8Array(0);

  constructor(private readonly rec: FrameIndex, private readonly reader: ChunkReader) {}

  seek(index: number): void {
    const total = this.rec.records;
    const i = Math.max(0, Math.min(index, total));
    this.position = i;
    if (i >= total) {
      this.fi = this.rec.frameCount;
      this.inFrame = 0;
      return;
    }
    this.fi = this.rec.frameOf(i);
    this.inFrame = i - this.rec.frameFirst(this.fi);
  }

  /** The next up to `max` records (contiguous, from one frame), or null at the end. */
  next(max = Infinity): RecordBatch | null {
    const rec = this.rec;
    while (this.fi < rec.frameCount && this.inFrame >= rec.frameCountAt(this.fi)) {
      this.fi++;
      this.inFrame = 0;
    }
    if (this.fi >= rec.frameCount || max <= 0) return null;
    const left = rec.frameCountAt(this.fi) - this.inFrame;
    const n = Math.min(left, Math.floor(max));
    const synth = rec.synthAt(this.fi);
    let bytes: Uint8Array;
    if (synth) {
      bytes = synth.subarray(this.inFrame * RECORD_SIZE, (this.inFrame + n) * RECORD_SIZE);
    } else {
      const stride = rec.stride;
      const pos = rec.frameOff(this.fi) + this.inFrame * stride;
      const at = this.reader.ensure(pos, n * stride);
      bytes = this.reader.buf.subarray(at, at + n * stride);
      if (stride !== RECORD_SIZE) bytes = this.widen(bytes, stride, n);
    }
    const batch: RecordBatch = {
      bytes,
      view: new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength),
      count: n,
      first: this.position,
    };
    this.inFrame += n;
    this.position += n;
    return batch;
  }

  /** `n` records of `stride` bytes as RECORD_SIZE-byte records, in the cursor's own buffer. */
  private widen(bytes: Uint8Array, stride: number, n: number): Uint8Array {
    if (this.wide.length < n * RECORD_SIZE) this.wide = new Uint8Array(n * RECORD_SIZE);
    widenRecords(bytes, stride, n, this.wide);
    return this.wide.subarray(0, n * RECORD_SIZE);
  }

  atEnd(): boolean {
    return this.position >= this.rec.records;
  }
}
