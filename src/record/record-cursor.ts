/**
 * record-cursor.ts: sequential, seekable reading of a recording's records through its frame index.
 * A batch is a subarray of the cursor's own buffer: valid until its next read.
 */
import { RECORD_SIZE } from '../capture/layout';
import type { ChunkReader } from './chunk-reader';

export interface RecordBatch {
  /** count whole records from byte 0. Valid only until the next read from the same cursor. */
  bytes: Uint8Array;
  /** DataView over exactly `bytes`: record k's fields at k * 128 + Offset.x. */
  view: DataView;
  count: number;
  /** Index of the first record of this batch in the recording. */
  first: number;
}

/** What a cursor needs of the recording (reader.ts Recording): its frame index. */
export interface FrameIndex {
  readonly records: number;
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
      const pos = rec.frameOff(this.fi) + this.inFrame * RECORD_SIZE;
      const at = this.reader.ensure(pos, n * RECORD_SIZE);
      bytes = this.reader.buf.subarray(at, at + n * RECORD_SIZE);
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

  atEnd(): boolean {
    return this.position >= this.rec.records;
  }
}
