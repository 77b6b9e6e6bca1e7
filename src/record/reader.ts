/**
 * reader.ts: open, validate and read a recording (format.ts describes the bytes and the rules for
 * cut and damaged files).
 *
 * openRecording() scans the whole file once, synchronously, in big chunks: it checks the header and
 * every frame's CRCs, so a corrupt file fails before anything is replayed (or, with `salvage`, its
 * damaged places are known, warned about and stepped over before anything is replayed), and it
 * builds a small index (one entry per RECORDS frame: file offset, record count, running maximum
 * timestamp; plus, in salvage, one in-memory DROPS record per damaged place that lost records) for
 * seeking, plus the process infos and warnings. Reading records afterwards (batches(), cursor())
 * re-reads big chunks into one reusable buffer and hands out subarrays of it: no allocation per
 * record, and a batch is only valid until the next read.
 *
 * Longer than most files (under 700 lines) on purpose: the frame scan, its resynchronisation after
 * damage and the index it builds are one state machine over the same private index; the header
 * (header-reader.ts), the buffer (chunk-reader.ts) and the cursor (record-cursor.ts) live apart.
 */
import * as fs from 'fs';
import { performance } from 'perf_hooks';
import { DropStage, EventKind, Offset, RECORD_SIZE } from '../capture/layout';
import {
  DamageReport, EndInfo, FRAME_HEADER, FrameType, MAX_FRAME_PAYLOAD, MAX_HEADER_JSON, ProcessInfo,
  RecordingError, crc32,
} from './format';
import { fileKind } from './safe-open';
import { ChunkReader } from './chunk-reader';
import { HeaderContext, jsonObject, readRecordingHeader, RecordingHeader } from './header-reader';

export type { RecordingHeader } from './header-reader';
export type { DamageReport } from './format';
import { FrameIndex, RecordBatch, RecordCursor } from './record-cursor';

export type { RecordBatch } from './record-cursor';
import { errorLine } from '../one-line';

export interface ProcessEntry {
  info: ProcessInfo;
  /** Records before this PROCESS frame in the file (post it before record number atRecord). */
  atRecord: number;
}

export interface OpenOptions {
  /** Check payload CRCs during the scan (default true). */
  verify?: boolean;
  /** Read buffer size (default 4 MiB). */
  chunkBytes?: number;
  /**
   * Step over damage instead of failing (what `socktop replay` does; format.ts, "salvage"): every
   * intact frame is replayed, each damaged place gives one warning (where, what) and a DROPS record
   * (stage recording) counting the records lost there, and `damaged` is set. Default false: damage
   * in the middle of the file is ECORRUPT (the strict reading).
   */
  salvage?: boolean;
}


/** The most one write of the writer puts in the file (a RECORDS frame of 256 KiB and its header):
 * damage at the end of the file beyond that is no torn write. */
const TORN_WRITE_MAX = 256 * 1024 + FRAME_HEADER;

/** Bytes of frames scanned between two steps of an incremental scan (openRecordingAsync). */
const SCAN_STEP_BYTES = 1 << 20;

/** At most this many damage warnings; the rest are summed up in one more. */
const MAX_DAMAGE_WARNINGS = 5;
const FRAME_NAMES: Record<number, string> = { 1: 'records', 2: 'process', 3: 'end' };

const TWO32 = 4294967296;

/** u64 little-endian at b[at] as a double (exact below 2^53 ns = 104 days of uptime). */
export function tsAt(b: Uint8Array, at: number): number {
  const lo = (b[at] | (b[at + 1] << 8) | (b[at + 2] << 16) | (b[at + 3] << 24)) >>> 0;
  const hi = (b[at + 4] | (b[at + 5] << 8) | (b[at + 6] << 16) | (b[at + 7] << 24)) >>> 0;
  return hi * TWO32 + lo;
}

/** What a damaged frame of this type took with it. */
function lostText(type: number, records: number): string {
  if (type === FrameType.Records) return `${records} records lost, counted as recording drops`;
  if (type === FrameType.Process) return 'a process description lost';
  if (type === FrameType.End) return 'the end marker lost';
  return 'nothing replayable lost';
}

/**
 * Open a recording for reading without ever waiting: O_NONBLOCK, so opening a FIFO returns at once
 * (and fstat then refuses it) instead of blocking until a writer comes, deaf to Ctrl-C; O_NOCTTY so
 * a terminal never becomes ours. Only regular files are recordings (the caller checks with fstat).
 */
function openForReading(filePath: string): number {
  const C = fs.constants;
  try {
    return fs.openSync(filePath, C.O_RDONLY | C.O_NONBLOCK | C.O_NOCTTY);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENXIO' || code === 'ENODEV' || code === 'EOPNOTSUPP') {
      // A socket (or a device without a driver): say what it is.
      let st: fs.Stats | null = null;
      try {
        st = fs.statSync(filePath);
      } catch {
        st = null;
      }
      if (st && !st.isFile()) throw new RecordingError('EIO', `${filePath} is not a regular file (${fileKind(st)}): not a recording`);
    }
    throw new RecordingError('EIO', `cannot open recording ${filePath}: ${errorLine(e)}`);
  }
}

export class Recording implements FrameIndex {
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
  /** Damage stepped over (salvage only): one entry per damaged place. Empty for an intact file,
   * and for a file that is only cut short (crash, full disk, torn last write). */
  readonly damage: DamageReport[] = [];
  /** Records lost to damage (counted by the DROPS records the reader added). */
  damagedRecords = 0;

  // index of RECORDS frames (only those holding at least one whole record)
  private readonly fOff: number[] = [];
  private readonly fCount: number[] = [];
  private readonly fFirst: number[] = [];
  /** Running maximum timestamp up to the end of each frame. */
  private readonly fMaxTs: number[] = [];
  private fd: number;
  private readonly chunkBytes: number;
  private seekReader: ChunkReader | null = null;
  /** Reader for resynchronisation probes (payload CRCs), apart from the scan's own. */
  private probeReader: ChunkReader | null = null;
  private readonly salvage: boolean;
  /** Bytes per record in the file: RECORD_SIZE, or RECORD_SIZE_V2 for layouts 1-2 (whose records
   * the cursor widens; fields before `serial`'s end sit at the same offsets in both). */
  stride = RECORD_SIZE;
  /** DROPS records made by the reader for damaged places: frame index -> the record. */
  private readonly synth = new Map<number, Uint8Array>();
  /** Records lost to damage before any record was read: their DROPS record waits for a timestamp. */
  private pendingLost = 0;

  /** The frame scan still to run (a constructor called with `deferScan`), in steps. */
  private pendingScan: Generator<void, void, void> | null = null;

  /** `deferScan`: read the header only; scanFor() then runs the scan in slices (openRecordingAsync). */
  constructor(filePath: string, opts: OpenOptions = {}, deferScan = false) {
    this.path = filePath;
    this.chunkBytes = opts.chunkBytes ?? 4 << 20;
    this.salvage = opts.salvage ?? false;
    this.fd = openForReading(filePath);
    try {
      const st = fs.fstatSync(this.fd);
      if (!st.isFile()) throw new RecordingError('EIO', `${filePath} is not a regular file (${fileKind(st)}): not a recording`);
      this.fileSize = st.size;
      const reader = new ChunkReader(this.fd, this.fileSize, this.chunkBytes);
      const first = readRecordingHeader(reader, this.headerContext());
      this.header = first.header;
      this.stride = first.header.recordSize;
      this.pendingScan = this.scan(reader, first.headerLen, opts.verify ?? true);
    } catch (e) {
      this.failOpen(e);
    }
    if (!deferScan) this.scanFor(Infinity);
  }

  /**
   * Run the scan for about `budgetMs` (one step, SCAN_STEP_BYTES of frames, at least). True once
   * it is complete; a bad file throws as the constructor would.
   */
  scanFor(budgetMs: number): boolean {
    const scan = this.pendingScan;
    if (!scan) return true;
    const until = performance.now() + budgetMs;
    try {
      for (;;) {
        if (scan.next().done) {
          this.pendingScan = null;
          return true;
        }
        if (performance.now() >= until) return false;
      }
    } catch (e) {
      this.pendingScan = null;
      this.failOpen(e);
    }
  }

  /** Close the file and throw `e` as a RecordingError (a failed open). */
  private failOpen(e: unknown): never {
    try {
      fs.closeSync(this.fd);
    } catch {
      /* ignore */
    }
    this.fd = -1;
    if (e instanceof RecordingError) throw e;
    throw new RecordingError('EIO', `cannot read recording ${this.path}: ${errorLine(e)}`);
  }

  /** True when damage was stepped over (salvage): the replay is incomplete. */
  get damaged(): boolean {
    return this.damage.length > 0;
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

  /** What the header reader may use of this recording: its damage notes and frame search. */
  private headerContext(): HeaderContext {
    return {
      path: this.path,
      fileSize: this.fileSize,
      salvage: this.salvage,
      noteDamage: (d, text) => this.noteDamage(d, text),
      validFrameAt: (pos) => this.validFrameAt(pos),
      findFrame: (r, from) => this.findFrame(r, from),
    };
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
    for (let k = 0, o = at; k < n; k++, o += this.stride) {
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

  /** Records read from the file; a DROPS record for damage before the first record goes first. */
  private fileRecords(b: Uint8Array, at: number, payloadOff: number, n: number): void {
    if (n <= 0) return;
    if (this.pendingLost > 0) {
      const lost = this.pendingLost;
      this.pendingLost = 0;
      this.addDropRecord(lost, tsAt(b, at));
    }
    this.addRecords(b, at, payloadOff, n);
  }

  /**
   * A DROPS record (stage recording) for `count` records lost to damage, as a frame of its own
   * held in memory, stamped with the running maximum timestamp so far (replay pacing stays
   * monotonic). Before any record, it waits for the first one's timestamp (fileRecords).
   */
  private addDropRecord(count: number, tsNs?: number): void {
    if (count <= 0) return;
    if (tsNs === undefined) {
      if (this.records === 0) {
        this.pendingLost += count;
        return;
      }
      tsNs = this.lastTsNs;
    }
    const rec = new Uint8Array(RECORD_SIZE); // made here: this socktop's layout, whatever the file's
    const v = new DataView(rec.buffer);
    const ts = Math.max(0, tsNs);
    v.setUint32(Offset.ts_ns, ts % TWO32, true);
    v.setUint32(Offset.ts_ns + 4, Math.floor(ts / TWO32), true);
    rec[Offset.kind] = EventKind.Drops;
    rec[Offset.new_state] = DropStage.Recording;
    v.setUint32(Offset.count, Math.min(count, 0xffffffff), true);
    this.synth.set(this.fOff.length, rec);
    this.addRecords(rec, 0, -1, 1);
  }

  /** Note a damaged place: one warning (up to MAX_DAMAGE_WARNINGS) and the DROPS record. */
  private noteDamage(d: DamageReport, text: string): void {
    this.damage.push(d);
    if (d.records > 0) {
      this.damagedRecords += d.records;
      this.addDropRecord(d.records);
    }
    if (this.damage.length <= MAX_DAMAGE_WARNINGS) this.warnings.push(`${this.path}: damaged recording: ${text}`);
  }

  /**
   * Whether a valid frame starts at `pos`: header checksum, a known type, a possible length and the
   * payload checksum (or, for a frame the end of the file cuts, its header alone). Uses a reader of
   * its own, so the scan's buffer stays valid.
   */
  private validFrameAt(pos: number): boolean {
    const size = this.fileSize;
    if (pos < 0 || pos + FRAME_HEADER > size) return false;
    const pr = this.probe();
    const h = pr.ensure(pos, FRAME_HEADER);
    const b = pr.buf;
    const type = b[h];
    if (type < FrameType.Records || type > FrameType.End || b[h + 1] !== 0 || b[h + 2] !== 0 || b[h + 3] !== 0) return false;
    if (crc32(b, h, h + 12) !== b.readUInt32LE(h + 12)) return false;
    const len = b.readUInt32LE(h + 4);
    if (len > MAX_FRAME_PAYLOAD || (type === FrameType.Records && len % this.stride !== 0)) return false;
    if (pos + FRAME_HEADER + len > size) return true;
    const crc = b.readUInt32LE(h + 8);
    const at = pr.ensure(pos + FRAME_HEADER, len);
    return crc32(pr.buf, at, at + len) === crc;
  }

  /** The first valid frame at or after `from` (a byte-by-byte search), or -1. */
  private findFrame(r: ChunkReader, from: number): number {
    const size = this.fileSize;
    let p = from;
    while (p + FRAME_HEADER <= size) {
      const n = Math.min(Math.max(this.chunkBytes, 1 << 16), size - p);
      const at = r.ensure(p, n);
      const b = r.buf;
      const last = n - FRAME_HEADER;
      for (let i = 0; i <= last; i++) {
        const o = at + i;
        const t = b[o];
        // Cheap filters first: a frame header starts with a known type, then three zero bytes.
        if (t < FrameType.Records || t > FrameType.End || b[o + 1] !== 0 || b[o + 2] !== 0 || b[o + 3] !== 0) continue;
        if (crc32(b, o, o + 12) !== b.readUInt32LE(o + 12)) continue;
        if (this.validFrameAt(p + i)) return p + i;
      }
      p += last + 1;
    }
    return -1;
  }

  /**
   * Step over a frame whose header cannot be trusted (salvage). Where does it end? At its own
   * length when that leads to the end of the file or to a valid frame (a flip in its type, flags or
   * checksum bytes), else at the next valid frame a byte-by-byte search finds. Then:
   * - its payload checksum (from the damaged header: that field may have survived) matches: the
   *   payload is intact and is replayed (records, or the process/end JSON);
   * - else it is lost: exactly len/128 records when the damaged header's type and length agree with
   *   where it ends, none when the payload is JSON (process, end), else at most what the skipped
   *   bytes could hold. A DROPS record counts them.
   * Damage with no intact frame after it is the file's last frame: a torn write, like a cut (one
   * warning, not counted as damage). Returns the next frame's offset, or -1 at the end.
   */
  private resync(r: ChunkReader, pos: number, frameNo: number, what: string, type: number, len: number, pcrc: number): number {
    const size = this.fileSize;
    const own = pos + FRAME_HEADER + len;
    let next: number;
    if (len <= MAX_FRAME_PAYLOAD && own === size) next = -1;
    else if (len <= MAX_FRAME_PAYLOAD && own < size && this.validFrameAt(own)) next = own;
    else next = this.findFrame(r, pos + 1);
    const end = next < 0 ? size : next;
    const bytes = end - pos;
    const plen = bytes - FRAME_HEADER;
    let kind = 0;
    let json: Record<string, unknown> | null = null;
    let intact = false;
    const pr = this.probe();
    let at = 0;
    if (plen >= 0 && plen <= MAX_FRAME_PAYLOAD) {
      at = pr.ensure(pos + FRAME_HEADER, plen);
      intact = crc32(pr.buf, at, at + plen) === pcrc;
      json = plen > 1 && plen <= MAX_HEADER_JSON && pr.buf[at] === 0x7b ? jsonObject(pr.buf, at, plen) : null;
      if (json) kind = 'pid' in json ? FrameType.Process : FrameType.End;
      else if (plen % this.stride === 0 && (intact || type === FrameType.Records)) kind = FrameType.Records;
    }
    const where = `${what} (frame ${frameNo}) at byte ${pos}`;
    if (intact && kind !== 0) {
      // Only the header was hit: the payload's checksum vouches for it.
      if (kind === FrameType.Records) this.fileRecords(pr.buf, at, pos + FRAME_HEADER, plen / this.stride);
      else if (kind === FrameType.Process && Number.isInteger(json!.pid)) {
        this.processes.push({ info: json as unknown as ProcessInfo, atRecord: this.records });
      } else if (kind === FrameType.End) this.end = json as unknown as EndInfo;
      const text = `${where}: its payload is intact (checksum): replayed it`;
      if (next < 0) this.warnings.push(`${this.path}: the last frame of the recording is damaged: ${text}`);
      else this.noteDamage({ offset: pos, frame: frameNo, what, bytes: 0, records: 0, exact: true }, text);
      return next;
    }
    let records: number;
    let exact = true;
    let lost: string;
    if (kind === FrameType.Records && own === end) {
      records = plen / this.stride;
      lost = lostText(kind, records);
    } else if (kind === FrameType.Process || kind === FrameType.End) {
      records = 0;
      lost = lostText(kind, 0);
    } else {
      records = Math.floor(Math.max(0, plen) / this.stride);
      exact = false;
      lost = records > 0 ? `up to ${records} records lost, counted as recording drops` : 'no whole record lost';
    }
    if (next < 0 && bytes <= TORN_WRITE_MAX) {
      // The last frame of the file, no bigger than one write: a write torn by a crash, like a cut.
      this.truncated = true;
      this.warnings.push(`${this.path}: the last frame of the recording is damaged (torn write): ${where}: ` +
        `replaying the ${this.records} records before it`);
      return -1;
    }
    const skipped = next < 0 ? `skipped the last ${bytes} bytes of the file` : `skipped ${bytes} bytes to the next intact frame at byte ${next}`;
    this.noteDamage({ offset: pos, frame: frameNo, what, bytes, records, exact }, `${where}: ${skipped}, ${lost}`);
    return next;
  }

  private probe(): ChunkReader {
    if (!this.probeReader) this.probeReader = new ChunkReader(this.fd, this.fileSize, Math.min(this.chunkBytes, 1 << 20));
    return this.probeReader;
  }

  private cutWarning(): void {
    this.truncated = true;
    this.warnings.push(
      `${this.path}: recording was cut short after ${this.records} records: replaying up to the last whole record`);
  }

  /** The frame scan, as steps: it yields after every SCAN_STEP_BYTES of the file. */
  private *scan(r: ChunkReader, headerLen: number, verify: boolean): Generator<void, void, void> {
    const size = this.fileSize;
    let pos = headerLen;
    /** Frames before pos; the one at pos is frame + 1 (1-based, in file order). */
    let frame = 0;
    let unknownWarned = false;
    let stepEnd = pos + SCAN_STEP_BYTES;
    while (pos < size) {
      if (pos >= stepEnd) {
        yield;
        stepEnd = pos + SCAN_STEP_BYTES;
      }
      const rem = size - pos;
      if (rem < FRAME_HEADER) {
        if (this.allZero(r, pos)) {
          this.truncated = true;
          this.warnings.push(`${this.path}: recording ends in ${rem} zero bytes (not written before a crash): replaying its ${this.records} records`);
        } else {
          this.cutWarning();
        }
        break;
      }
      const h = r.ensure(pos, FRAME_HEADER);
      let b = r.buf;
      const headerOk = crc32(b, h, h + 12) === b.readUInt32LE(h + 12);
      const type = b[h];
      const len = b.readUInt32LE(h + 4);
      const pcrc = b.readUInt32LE(h + 8);
      if (!headerOk && this.allZero(r, pos)) {
        this.truncated = true;
        this.warnings.push(`${this.path}: recording ends in ${size - pos} zero bytes (not written before a crash): replaying its ${this.records} records`);
        break;
      }
      const lengthOk = len <= MAX_FRAME_PAYLOAD && (type !== FrameType.Records || len % this.stride === 0);
      if (!headerOk || !lengthOk) {
        if (!this.salvage) {
          if (!headerOk) this.fail('ECORRUPT', `corrupt recording: damaged frame header at byte ${pos}`);
          this.fail('ECORRUPT', `corrupt recording: impossible frame length ${len} at byte ${pos}`);
        }
        const next = this.resync(r, pos, frame + 1, headerOk ? `impossible frame length ${len}` : 'damaged frame header', type, len, pcrc);
        frame++;
        if (next < 0) {
          if (!this.end) this.truncated = true; // the rest of the file is gone, END frame included
          break;
        }
        pos = next;
        continue;
      }
      const payload = pos + FRAME_HEADER;
      if (payload + len > size) {
        // Cut inside this frame's payload: keep the whole records that made it.
        if (type === FrameType.Records) {
          const n = Math.floor((size - payload) / this.stride);
          if (n > 0) {
            const at = r.ensure(payload, n * this.stride);
            this.fileRecords(r.buf, at, payload, n);
          }
        }
        this.cutWarning();
        break;
      }
      const at = r.ensure(payload, len);
      b = r.buf;
      if ((verify || type !== FrameType.Records) && crc32(b, at, at + len) !== pcrc) {
        if (payload + len === size) {
          this.truncated = true;
          this.warnings.push(
            `${this.path}: the last frame of the recording is damaged (torn write): replaying the ${this.records} records before it`);
          break;
        }
        if (!this.salvage) this.fail('ECORRUPT', `corrupt recording: checksum mismatch in the frame at byte ${pos}`);
        // The header is intact: its length is right, the next frame follows this one.
        const records = type === FrameType.Records ? len / this.stride : 0;
        this.noteDamage({ offset: pos, frame: frame + 1, what: 'checksum mismatch', bytes: FRAME_HEADER + len, records, exact: true },
          `checksum mismatch in frame ${frame + 1} (${FRAME_NAMES[type] ?? `type ${type}`}) at byte ${pos}: skipped it, ${lostText(type, records)}`);
      } else if (type === FrameType.Records) {
        this.fileRecords(b, at, payload, len / this.stride);
      } else if (type === FrameType.Process) {
        const info = this.parseJson(b, at, len, pos, frame + 1, type) as ProcessInfo | null;
        if (info && typeof info === 'object' && Number.isInteger(info.pid)) {
          this.processes.push({ info, atRecord: this.records });
        }
      } else if (type === FrameType.End) {
        const end = this.parseJson(b, at, len, pos, frame + 1, type) as EndInfo | null;
        if (end && typeof end === 'object') this.end = end;
      } else if (!unknownWarned) {
        unknownWarned = true;
        this.warnings.push(`${this.path}: skipped frames of unknown type ${type} (written by a newer socktop?)`);
      }
      pos = payload + len;
      frame++;
    }
    if (this.pendingLost > 0) {
      // Damage, and not one record after it: the DROPS record alone, at the recording's start.
      const lost = this.pendingLost;
      this.pendingLost = 0;
      const start = Number(this.header?.startMonoNs ?? 0n);
      this.addDropRecord(lost, Number.isFinite(start) ? start : 0);
    }
    if (this.damage.length > MAX_DAMAGE_WARNINGS) {
      this.warnings.push(`${this.path}: damaged recording: ${this.damage.length - MAX_DAMAGE_WARNINGS} more damaged places ` +
        `not listed (${this.damagedRecords} records lost in all, counted as recording drops)`);
    }
    if (!this.end && !this.truncated) {
      this.truncated = true;
      this.warnings.push(
        `${this.path}: recording has no end marker (the recorder did not finish): replaying its ${this.records} records`);
    }
  }

  private parseJson(b: Buffer, at: number, len: number, pos: number, frameNo: number, type: number): unknown {
    try {
      return JSON.parse(b.toString('utf8', at, at + len));
    } catch {
      if (!this.salvage) this.fail('ECORRUPT', `corrupt recording: unreadable metadata in the frame at byte ${pos}`);
      this.noteDamage({ offset: pos, frame: frameNo, what: 'unreadable metadata', bytes: FRAME_HEADER + len, records: 0, exact: true },
        `unreadable metadata in frame ${frameNo} (${FRAME_NAMES[type]}) at byte ${pos}: skipped it`);
      return null;
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
    const n = this.fCount[lo];
    let b: Uint8Array;
    let at = 0;
    const synth = this.synth.get(lo);
    if (synth) {
      b = synth;
    } else {
      if (!this.seekReader) this.seekReader = new ChunkReader(this.fdOrThrow(), this.fileSize, this.chunkBytes);
      at = this.seekReader.ensure(this.fOff[lo], n * this.stride);
      b = this.seekReader.buf;
    }
    for (let k = 0; k < n; k++) {
      const t = tsAt(b, at + k * this.stride);
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

  // FrameIndex, for RecordCursor
  frameFirst(i: number): number {
    return this.fFirst[i];
  }
  frameOff(i: number): number {
    return this.fOff[i];
  }
  frameCountAt(i: number): number {
    return this.fCount[i];
  }
  synthAt(i: number): Uint8Array | undefined {
    return this.synth.get(i);
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

/** Open a recording: validates it and returns it with its header, index, process infos and warnings. */
export function openRecording(filePath: string, opts?: OpenOptions): Recording {
  return new Recording(filePath, opts);
}
export const readRecording = openRecording;

/**
 * openRecording() for the main thread: the scan runs in slices of about 20 ms with the event loop
 * turning between them, so a signal is heard during the scan of a big file; when `signal` aborts,
 * the file is closed and the promise rejects with RecordingError EINTR. (A stretch of damage is
 * searched for the next frame in one slice: a long run of garbage still delays the signal.)
 */
export async function openRecordingAsync(filePath: string, opts?: OpenOptions, signal?: AbortSignal): Promise<Recording> {
  const rec = new Recording(filePath, opts, true);
  while (!rec.scanFor(20)) {
    await new Promise<void>((resolve) => setImmediate(resolve));
    if (signal?.aborted) {
      rec.close();
      throw new RecordingError('EINTR', `${filePath}: interrupted`);
    }
  }
  return rec;
}
