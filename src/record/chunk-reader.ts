/**
 * chunk-reader.ts: reads ranges of a recording through one growing buffer, serving ranges that are
 * already in memory without a read. The scan, seeks and cursors each have their own.
 */
import * as fs from 'fs';
import { errorLine } from '../one-line';
import { RecordingError } from './format';

/** Reads file ranges through one growing buffer; ranges are served from memory when they fit. */
export class ChunkReader {
  buf: Buffer;
  start = 0;
  len = 0;
  constructor(private readonly fd: number, private readonly size: number, chunk: number) {
    this.buf = Buffer.allocUnsafe(chunk);
  }
  /** Make file bytes [pos, pos + n) available; returns their offset in this.buf. */
  ensure(pos: number, n: number): number {
    if (pos >= this.start && pos + n <= this.start + this.len) return pos - this.start;
    if (n > this.buf.length) this.buf = Buffer.allocUnsafe(Math.max(n, this.buf.length * 2));
    const want = Math.min(this.buf.length, this.size - pos);
    let got = 0;
    try {
      while (got < want) {
        const r = fs.readSync(this.fd, this.buf, got, want - got, pos + got);
        if (r <= 0) break;
        got += r;
      }
    } catch (e) {
      throw new RecordingError('EIO', `cannot read recording: ${errorLine(e)}`);
    }
    this.start = pos;
    this.len = got;
    if (got < n) throw new RecordingError('EIO', 'recording shrank while it was being read');
    return 0;
  }
}
