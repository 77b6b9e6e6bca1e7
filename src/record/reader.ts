/**
 * reader.ts: open, validate and read a recording (format.ts describes the bytes and the rules for
 * cut and damaged files).
 *
 * openRecording() scans the whole file once, synchronously, in big chunks: it checks the header and
 * every frame's CRCs, so a corrupt file fails before anything is replayed, and it builds a small
 * index (one entry per RECORDS frame: file offset, record count, running maximum timestamp) for
 * seeking, plus the process infos and warnings. Reading records afterwards (batches(), cursor())
 * re-reads big chunks into one reusable buffer and hands out subarrays of it: no allocation per
 * record, and a batch is only valid until the next read.
 */
import * as fs from 'fs';
import { RECORD_SIZE } from '../capture/layout';
import {
  EndInfo, FILE_HEADER_FIXED, FORMAT_VERSION, FRAME_HEADER, FrameType, HeaderJson, MAGIC,
  MAX_FRAME_PAYLOAD, MAX_HEADER_JSON, ProcessInfo, RecordingError, crc32,
} from './format';

export interface RecordingHeader {
  formatVersion: number;
  recordSize: number;
  host: string;
  kernel: string;
  startWallMs: number;
  /** CLOCK_MONOTONIC ns at startWallMs. */
  startMonoNs: bigint;
  socktopVersion: string;
  backend: string;
  /** The JSON block as stored (extra keys included). */
  json: HeaderJson;
}

export interface ProcessEntry {
  info: ProcessInfo;
  /** Records before this PROCESS frame in the file (post it before record number atRecord). */
  atRecord: number;
}

export interface RecordBatch {
  /** count whole records from byte 0. Valid only until the next read from the same cursor. */
  bytes: Uint8Array;
  /** DataView over exactly `bytes`: record k's fields at k * 128 + Offset.x. */
  view: DataView;
  count: number;
  /** Index of the first record of this batch in the recording. */
  first: number;
}

export interface OpenOptions {
  /** Check payload CRCs during the scan (default true). */
  verify?: boolean;
  /** Read buffer size (default 4 MiB). */
  chunkBytes?: number;
}

const TWO32 = 4294967296;

/** u64 little-endian at b[at] as a double (exact below 2^53 ns = 104 days of uptime). */
export function tsAt(b: Uint8Array, at: number): number {
  const lo = (b[at] | (b[at + 1] << 8) | (b[at + 2] << 16) | (b[at + 3] << 24)) >>> 0;
  const hi = (b[at + 4] | (b[at + 5] << 8) | (b[at + 6] << 16) | (b[at + 7] << 24)) >>> 0;
  return hi * TWO32 + lo;
}

function oneLine(e: unknown): string {
  const err = e as NodeJS.ErrnoException;
  if (err && err.code) {
    return `${err.code}: ${String(err.message ?? '').replace(/^[A-Z]+: /, '').split(/[,\n]/)[0]}`;
  }
  return String((err && err.message) || err).split('\n')[0];
}

/** Reads file ranges through one growing buffer; ranges are served from memory when they fit. */
class ChunkReader {
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
      throw new RecordingError('EIO', `cannot read recording: ${oneLine(e)}`);
    }
    this.start = pos;
    this.len = got;
    if (got < n) throw new RecordingError('EIO', 'recording shrank while it was being read');
    return 0;
  }
}

export class Recording {
  readonly path: string;
  readonly header: RecordingHeader;
  readonly fileSize: number;
  readonly warnings: string[] = [];
  readonly processes: ProcessEntry[] = [];
  /** The END frame, or null when the recorder did not finish. */
  end: EndInfo | null = null;
  /** Whole records in the file. */
  records = 0;
  /** True when the file was cut short (or its tail damaged). */
  truncated = false;
  /** Timestamp (ns, as a double) of the first record; 0 when there are none. */
  firstTsNs = 0;
  /** Largest timestamp of any record. */
  lastTsNs = 0;
  /** DROPS records seen (any stage) and the events they say were lost. */
  dropRecords = 0;
  droppedEvents = 0;

  // index of RECORDS frames (only those holding at least one whole record)
  private readonly fOff: number[] = [];
  private readonly fCount: number[] = [];
  private readonly fFirst: number[] = [];
  /** Running maximum timestamp up to the end of each frame. */
  private readonly fMaxTs: number[] = [];
  private fd: number;
  private readonly chunkBytes: number;
  private seekReader: ChunkReader | null = null;

  constructor(filePath: string, opts: OpenOptions = {}) {
    this.path = filePath;
    this.chunkBytes = opts.chunkBytes ?? 4 << 20;
    try {
      this.fd = fs.openSync(filePath, 'r');
    } catch (e) {
      throw new RecordingError('EIO', `cannot open recording ${filePath}: ${oneLine(e)}`);
    }
    try {
      const st = fs.fstatSync(this.fd);
      if (st.isDirectory()) throw new RecordingError('EIO', `${filePath} is a directory, not a recording`);
      this.fileSize = st.size;
      const reader = new ChunkReader(this.fd, this.fileSize, this.chunkBytes);
      const first = this.readHeader(reader);
      this.header = first.header;
      this.scan(reader, first.headerLen, opts.verify ?? true);
    } catch (e) {
      try {
        fs.closeSync(this.fd);
      } catch {
        /* ignore */
      }
      this.fd = -1;
      if (e instanceof RecordingError) throw e;
      throw new RecordingError('EIO', `cannot read recording ${filePath}: ${oneLine(e)}`);
    }
  }

  /** Nanoseconds from the first record to the latest timestamp. */
  get durationNs(): number {
    return this.records > 0 ? this.lastTsNs - this.firstTsNs : 0;
  }

  get frameCount(): number {
    return this.fOff.length;
  }

  private fail(code: 'ECORRUPT' | 'ETRUNCATED', what: string): never {
    throw new RecordingError(code, `${this.path}: ${what}`);
  }

  private readHeader(r: ChunkReader): { header: RecordingHeader; headerLen: number } {
    const size = this.fileSize;
    const p = this.path;
    if (size === 0) throw new RecordingError('EEMPTY', `${p}: empty file, not a socktop recording`);
    const n0 = Math.min(size, FILE_HEADER_FIXED);
    const at = r.ensure(0, n0);
    const b = r.buf;
    const m = Math.min(n0, MAGIC.length);
    if (b.compare(MAGIC, 0, m, at, at + m) !== 0) {
      throw new RecordingError('EFOREIGN', `${p}: not a socktop recording (unknown file type)`);
    }
    if (size < 12) this.fail('ETRUNCATED', 'recording is cut short inside its header: nothing to replay');
    const version = b.readUInt16LE(at + 8);
    if (version === 0) this.fail('ECORRUPT', 'corrupt recording: format version 0');
    if (version > FORMAT_VERSION) {
      throw new RecordingError('ENEWER',
        `${p}: recording format version ${version} is newer than this socktop reads (${FORMAT_VERSION}): upgrade socktop`);
    }
    const recordSize = b.readUInt16LE(at + 10);
    if (recordSize !== RECORD_SIZE) {
      throw new RecordingError('ERECORDSIZE',
        `${p}: recording has ${recordSize}-byte records, this socktop reads ${RECORD_SIZE}-byte records`);
    }
    if (size < FILE_HEADER_FIXED) this.fail('ETRUNCATED', 'recording is cut short inside its header: nothing to replay');
    if (crc32(b, at, at + 24) !== b.readUInt32LE(at + 24)) this.fail('ECORRUPT', 'corrupt recording: header checksum mismatch');
    const headerLen = b.readUInt32LE(at + 12);
    const jsonLen = b.readUInt32LE(at + 16);
    const jsonCrc = b.readUInt32LE(at + 20);
    if (jsonLen > MAX_HEADER_JSON || headerLen !== FILE_HEADER_FIXED + ((jsonLen + 7) & ~7)) {
      this.fail('ECORRUPT', 'corrupt recording: impossible header length');
    }
    if (size < headerLen) this.fail('ETRUNCATED', 'recording is cut short inside its header: nothing to replay');
    const j = r.ensure(FILE_HEADER_FIXED, jsonLen);
    if (crc32(r.buf, j, j + jsonLen) !== jsonCrc) this.fail('ECORRUPT', 'corrupt recording: header checksum mismatch');
    let json: HeaderJson;
    try {
      json = JSON.parse(r.buf.toString('utf8', j, j + jsonLen));
    } catch {
      this.fail('ECORRUPT', 'corrupt recording: unreadable header');
    }
    if (json === null || typeof json !== 'object' || Array.isArray(json)) {
      this.fail('ECORRUPT', 'corrupt recording: unreadable header');
    }
    let startMono = 0n;
    try {
      startMono = BigInt(String(json.start_mono_ns ?? '0'));
    } catch {
      startMono = 0n;
    }
    const header: RecordingHeader = {
      formatVersion: version,
      recordSize,
      host: String(json.host ?? ''),
      kernel: String(json.kernel ?? ''),
      startWallMs: Number(json.start_wall_ms) || 0,
      startMonoNs: startMono,
      socktopVersion: String(json.socktop_version ?? ''),
      backend: String(json.backend ?? ''),
      json,
    };
    return { header, headerLen };
  }

  private allZero(r: ChunkReader, from: number): boolean {
    for (let pos = from; pos < this.fileSize; ) {
      const n = Math.min(this.chunkBytes, this.fileSize - pos);
      const at = r.ensure(pos, n);
      const b = r.buf;
      for (let i = at; i < at + n; i++) if (b[i] !== 0) return false;
      pos += n;
    }
    return true;
  }

  private addRecords(b: Uint8Array, at: number, payloadOff: number, n: number): void {
    if (n <= 0) return;
    let max = this.records === 0 ? -Infinity : this.lastTsNs;
    if (this.records === 0) this.firstTsNs = tsAt(b, at);
    for (let k = 0, o = at; k < n; k++, o += RECORD_SIZE) {
      const t = tsAt(b, o);
      if (t > max) max = t;
      if (b[o + 56] === 14) {
        this.dropRecords++;
        this.droppedEvents += (b[o + 68] | (b[o + 69] << 8) | (b[o + 70] << 16) | (b[o + 71] << 24)) >>> 0;
      }
    }
    this.lastTsNs = max;
    this.fOff.push(payloadOff);
    this.fCount.push(n);
    this.fFirst.push(this.records);
    this.fMaxTs.push(max);
    this.records += n;
  }

  private cutWarning(): void {
    this.truncated = true;
    this.warnings.push(
      `${this.path}: recording was cut short after ${this.records} records: replaying up to the last whole record`);
  }

  private scan(r: ChunkReader, headerLen: number, verify: boolean): void {
    const size = this.fileSize;
    let pos = headerLen;
    let unknownWarned = false;
    while (pos < size) {
      const rem = size - pos;
      if (rem < FRAME_HEADER) {
        if (this.allZero(r, pos)) {
          this.truncated = true;
          this.warnings.push(`${this.path}: recording ends in ${rem} zero bytes (not written before a crash): replaying its ${this.records} records`);
        } else {
          this.cutWarning();
        }
        return;
      }
      const h = r.ensure(pos, FRAME_HEADER);
      let b = r.buf;
      if (crc32(b, h, h + 12) !== b.readUInt32LE(h + 12)) {
        if (this.allZero(r, pos)) {
          this.truncated = true;
          this.warnings.push(`${this.path}: recording ends in ${size - pos} zero bytes (not written before a crash): replaying its ${this.records} records`);
          return;
        }
        this.fail('ECORRUPT', `corrupt recording: damaged frame header at byte ${pos}`);
      }
      const type = b[h];
      const len = b.readUInt32LE(h + 4);
      const pcrc = b.readUInt32LE(h + 8);
      if (len > MAX_FRAME_PAYLOAD || (type === FrameType.Records && len % RECORD_SIZE !== 0)) {
        this.fail('ECORRUPT', `corrupt recording: impossible frame length ${len} at byte ${pos}`);
      }
      const payload = pos + FRAME_HEADER;
      if (payload + len > size) {
        // Cut inside this frame's payload: keep the whole records that made it.
        if (type === FrameType.Records) {
          const n = Math.floor((size - payload) / RECORD_SIZE);
          if (n > 0) {
            const at = r.ensure(payload, n * RECORD_SIZE);
            this.addRecords(r.buf, at, payload, n);
          }
        }
        this.cutWarning();
        return;
      }
      const at = r.ensure(payload, len);
      b = r.buf;
      if ((verify || type !== FrameType.Records) && crc32(b, at, at + len) !== pcrc) {
        if (payload + len === size) {
          this.truncated = true;
          this.warnings.push(
            `${this.path}: the last frame of the recording is damaged (torn write): replaying the ${this.records} records before it`);
          return;
        }
        this.fail('ECORRUPT', `corrupt recording: checksum mismatch in the frame at byte ${pos}`);
      }
      if (type === FrameType.Records) {
        this.addRecords(b, at, payload, len / RECORD_SIZE);
      } else if (type === FrameType.Process) {
        const info = this.parseJson(b, at, len, pos) as ProcessInfo;
        if (info && typeof info === 'object' && Number.isInteger(info.pid)) {
          this.processes.push({ info, atRecord: this.records });
        }
      } else if (type === FrameType.End) {
        this.end = this.parseJson(b, at, len, pos) as EndInfo;
      } else if (!unknownWarned) {
        unknownWarned = true;
        this.warnings.push(`${this.path}: skipped frames of unknown type ${type} (written by a newer socktop?)`);
      }
      pos = payload + len;
    }
    if (!this.end && !this.truncated) {
      this.truncated = true;
      this.warnings.push(
        `${this.path}: recording has no end marker (the recorder did not finish): replaying its ${this.records} records`);
    }
  }

  private parseJson(b: Buffer, at: number, len: number, pos: number): unknown {
    try {
      return JSON.parse(b.toString('utf8', at, at + len));
    } catch {
      this.fail('ECORRUPT', `corrupt recording: unreadable metadata in the frame at byte ${pos}`);
    }
  }

  // ------------------------------------------------------------------------------ reading

  /** A cursor over the records, starting at record 0. */
  cursor(): RecordCursor {
    return new RecordCursor(this, new ChunkReader(this.fdOrThrow(), this.fileSize, this.chunkBytes));
  }

  /** Iterate record batches from record `from` on, at most `max` records per batch. */
  *batches(from = 0, max = Infinity): IterableIterator<RecordBatch> {
    const c = this.cursor();
    c.seek(from);
    for (let b = c.next(max); b; b = c.next(max)) yield b;
  }

  /**
   * How many leading records are due at `relNs` nanoseconds after the first record: the records
   * before the first one whose running-maximum timestamp exceeds firstTsNs + relNs.
   */
  recordsUntil(relNs: number): number {
    const limit = this.firstTsNs + relNs;
    const fmax = this.fMaxTs;
    let lo = 0;
    let hi = fmax.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (fmax[mid] <= limit) lo = mid + 1;
      else hi = mid;
    }
    if (lo >= fmax.length) return this.records;
    let max = lo > 0 ? fmax[lo - 1] : -Infinity;
    if (!this.seekReader) this.seekReader = new ChunkReader(this.fdOrThrow(), this.fileSize, this.chunkBytes);
    const n = this.fCount[lo];
    const at = this.seekReader.ensure(this.fOff[lo], n * RECORD_SIZE);
    const b = this.seekReader.buf;
    for (let k = 0; k < n; k++) {
      const t = tsAt(b, at + k * RECORD_SIZE);
      if (t > max) max = t;
      if (max > limit) return this.fFirst[lo] + k;
    }
    return this.fFirst[lo] + n;
  }

  /** Frame holding record `index` (binary search). */
  frameOf(index: number): number {
    const ff = this.fFirst;
    let lo = 0;
    let hi = ff.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >>> 1;
      if (ff[mid] <= index) lo = mid;
      else hi = mid - 1;
    }
    return lo;
  }

  /** @internal for RecordCursor */
  frame(i: number): { off: number; count: number; first: number } {
    return { off: this.fOff[i], count: this.fCount[i], first: this.fFirst[i] };
  }
  /** @internal */
  frameOff(i: number): number {
    return this.fOff[i];
  }
  /** @internal */
  frameCountAt(i: number): number {
    return this.fCount[i];
  }

  private fdOrThrow(): number {
    if (this.fd < 0) throw new RecordingError('EIO', `${this.path}: recording is closed`);
    return this.fd;
  }

  close(): void {
    if (this.fd >= 0) {
      try {
        fs.closeSync(this.fd);
      } catch {
        /* ignore */
      }
      this.fd = -1;
    }
  }
}

/** Sequential reader over a recording's records; seekable by record index. */
export class RecordCursor {
  private fi = 0;
  private inFrame = 0;
  /** Index of the next record next() returns. */
  position = 0;

  constructor(private readonly rec: Recording, private readonly reader: ChunkReader) {}

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
    this.inFrame = i - this.rec.frame(this.fi).first;
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
    const pos = rec.frameOff(this.fi) + this.inFrame * RECORD_SIZE;
    const at = this.reader.ensure(pos, n * RECORD_SIZE);
    const bytes = this.reader.buf.subarray(at, at + n * RECORD_SIZE);
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

/** Open a recording: validates it and returns it with its header, index, process infos and warnings. */
export function openRecording(filePath: string, opts?: OpenOptions): Recording {
  return new Recording(filePath, opts);
}
export const readRecording = openRecording;
