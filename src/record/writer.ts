/**
 * writer.ts: append a recording (format.ts) on the capture worker's side, before the shared ring,
 * so a slow UI never loses recorded events.
 *
 * - RecordingWriter buffers records into RECORDS frames (up to frameBytes of payload each) and
 *   writes whole frames with one positional write; it flushes when the buffer is full, at least
 *   every flushIntervalMs (a timer, and a time check on every append for worker loops that never
 *   yield to the event loop), and on close.
 * - A write error (ENOSPC, EIO, ...) never throws: the records of the failed write are counted
 *   (recordsLost, writeErrors, lastError), the file is cut back to its last good frame, and the next
 *   write starts with a DROPS record (stage 3 = Recording) carrying the count, so a replay shows the
 *   hole where it was. Capture goes on.
 * The capture worker's recording stage (recording-stage.ts) wraps a writer; its counters reach the
 * main thread through stats-view.ts.
 *
 * Over 400 lines on purpose: one class whose frame buffer, flush timing and write-failure accounting
 * (cut back, count, DROPS record) share the same state; splitting it would spread one invariant.
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { DropStage, EventKind, Offset, RECORD_SIZE, RECORD_VERSION } from '../capture/layout';
import {
  EndInfo, FRAME_HEADER, FrameType, HeaderJson, ProcessInfo, RecordingError, encodeFileHeader,
  encodeJsonFrame, writeFrameHeader,
} from './format';
import { errorLine } from '../one-line';

export interface HeaderInfo {
  /** Capture backend ("kprobe", "tracepoint", ...). */
  backend: string;
  host?: string;
  kernel?: string;
  startWallMs?: number;
  /** CLOCK_MONOTONIC ns at startWallMs; defaults to process.hrtime.bigint() (also CLOCK_MONOTONIC). */
  startMonoNs?: bigint;
  socktopVersion?: string;
  /** Extra keys for the JSON header (e.g. the command line, filters). */
  extra?: Record<string, unknown>;
}

export interface WriterOptions {
  /** Flush at least this often (ms). Default 1000. */
  flushIntervalMs?: number;
  /** Payload bytes per RECORDS frame and write buffer size. Default 256 KiB. */
  frameBytes?: number;
  /** Start a flush timer (unref'd). Default true. */
  timer?: boolean;
  /** Fail if the file exists. Default false (overwrite a regular file with one link, like
   * tcpdump -w). The CLI does not come here with a path: it opens with openRecordingForWrite()
   * (safe-open.ts: as the invoking user, O_EXCL unless --force) and passes `fd`. */
  exclusive?: boolean;
  /** fsync on close. Default true. */
  fsyncOnClose?: boolean;
  /** Write to this descriptor (opened for writing, empty) instead of opening the path; the writer
   * owns it from now on and closes it (unless keepFd). */
  fd?: number;
  /** close() leaves `fd` open: a rotation (rotation.ts) reuses its files' descriptors. */
  keepFd?: boolean;
  /** File operations (tests inject write faults here). Default: fs. */
  io?: WriterIo;
}

export interface WriterIo {
  writeSync(fd: number, buf: Uint8Array, off: number, len: number, pos: number): number;
  ftruncateSync(fd: number, len: number): void;
}

export interface WriterStats {
  /** Event records handed to the writer (appendRecords), including those lost. */
  records: number;
  /** Records on disk (written successfully), not counting DROPS records the writer made. */
  recordsWritten: number;
  /** Bytes written to the file so far (header included). */
  bytes: number;
  frames: number;
  /** Records lost to write errors. */
  recordsLost: number;
  writeErrors: number;
  /** Last write error, one line ("ENOSPC: no space left on device"), or null. */
  lastError: string | null;
  /** PROCESS frames appended. */
  processes: number;
  closed: boolean;
  /** A rotation (rotation.ts): files started so far. */
  files?: number;
}

/** Counters of no file yet: what a set of files (rotation, triggers) starts its totals from. */
export function emptyWriterStats(): WriterStats {
  return {
    records: 0, recordsWritten: 0, bytes: 0, frames: 0, recordsLost: 0, writeErrors: 0,
    lastError: null, processes: 0, closed: false,
  };
}

/** Add one file's counters to the running totals of a set of files. */
export function addWriterStats(into: WriterStats, s: WriterStats): void {
  into.records += s.records;
  into.recordsWritten += s.recordsWritten;
  into.bytes += s.bytes;
  into.frames += s.frames;
  into.recordsLost += s.recordsLost;
  into.writeErrors += s.writeErrors;
  into.processes += s.processes;
  if (s.lastError) into.lastError = s.lastError;
}

let cachedVersion: string | null = null;
export function socktopVersion(): string {
  if (cachedVersion) return cachedVersion;
  try {
    const pkg = JSON.parse(fs.readFileSync(path.resolve(__dirname, '../../../package.json'), 'utf8'));
    cachedVersion = String(pkg.version ?? '0.0.0');
  } catch {
    cachedVersion = '0.0.0';
  }
  return cachedVersion;
}

export function buildHeaderJson(info: HeaderInfo): HeaderJson {
  return {
    ...(info.extra ?? {}),
    host: info.host ?? os.hostname(),
    kernel: info.kernel ?? os.release(),
    start_wall_ms: info.startWallMs ?? Date.now(),
    start_mono_ns: (info.startMonoNs ?? process.hrtime.bigint()).toString(),
    socktop_version: info.socktopVersion ?? socktopVersion(),
    backend: info.backend,
    record_version: RECORD_VERSION,
  };
}

export class RecordingWriter {
  readonly path: string;
  readonly header: HeaderJson;
  private fd: number;
  private readonly headerBytes: Buffer;
  private headerDone = false;
  /** File offset just after the last frame known to be on disk. */
  private goodOffset = 0;
  private readonly buf: Buffer;
  private used = 0;
  /** Where the open RECORDS frame's header sits in buf, or -1. */
  private openAt = -1;
  private openCount = 0;
  /** Event records (not writer-made DROPS) and writer-made lost counts in buf. */
  private bufRecords = 0;
  private bufLostReported = 0;
  /** Lost records not yet reported in a DROPS record that reached the disk. */
  private pendingLost = 0;
  private readonly frameBytes: number;
  private readonly flushIntervalMs: number;
  private lastFlush = 0;
  private timer: NodeJS.Timeout | null = null;
  private readonly fsyncOnClose: boolean;
  private readonly keepFd: boolean;
  private readonly io: WriterIo;
  private readonly st: WriterStats = {
    records: 0, recordsWritten: 0, bytes: 0, frames: 0, recordsLost: 0, writeErrors: 0,
    lastError: null, processes: 0, closed: false,
  };
  /** Called after every flush attempt (the hook mirrors stats into shared memory). */
  onFlush: ((stats: WriterStats) => void) | null = null;

  /**
   * Create (or truncate) the file with mode 0600 and write its header; or, with opts.fd, write to
   * that descriptor. A path is never followed through a symbolic link (O_NOFOLLOW), an existing
   * regular file is overwritten only when it has exactly one link (never the target of a planted
   * hard link), a FIFO never blocks the open (O_NONBLOCK), a device (/dev/full) is written as is,
   * and nothing is ever chown()ed. Throws RecordingError (one line) only when the file cannot be
   * opened at all; later write errors are counted, never thrown.
   */
  static create(filePath: string, info: HeaderInfo, opts: WriterOptions = {}): RecordingWriter {
    const fd = opts.fd ?? RecordingWriter.openPath(filePath, opts.exclusive ?? false);
    return new RecordingWriter(filePath, fd, buildHeaderJson(info), opts);
  }

  private static openPath(filePath: string, exclusive: boolean): number {
    const C = fs.constants;
    let fd: number;
    try {
      fd = fs.openSync(filePath,
        C.O_WRONLY | C.O_CREAT | C.O_NOFOLLOW | C.O_NONBLOCK | C.O_NOCTTY | (exclusive ? C.O_EXCL : 0), 0o600);
    } catch (e) {
      let link = (e as NodeJS.ErrnoException).code === 'ELOOP';
      try {
        link ||= fs.lstatSync(filePath).isSymbolicLink(); // O_CREAT on a dangling link: EACCES or EEXIST
      } catch {
        /* not there */
      }
      if (link) {
        throw new RecordingError('EUNSAFE', `${filePath}: refusing to write through a symbolic link`);
      }
      throw new RecordingError('EIO', `cannot create recording ${filePath}: ${errorLine(e)}`);
    }
    try {
      const st = fs.fstatSync(fd);
      // Regular files only: never truncate or chmod a device such as /dev/full.
      if (st.isFile()) {
        if (st.nlink !== 1) throw new RecordingError('EUNSAFE', `${filePath} has ${st.nlink} links: refusing to overwrite it`);
        if (st.size > 0) fs.ftruncateSync(fd, 0);
        fs.fchmodSync(fd, 0o600); // a file that existed keeps its old mode on open
      }
    } catch (e) {
      fs.closeSync(fd);
      if (e instanceof RecordingError) throw e;
      throw new RecordingError('EIO', `cannot create recording ${filePath}: ${errorLine(e)}`);
    }
    return fd;
  }

  private constructor(filePath: string, fd: number, header: HeaderJson, opts: WriterOptions) {
    this.path = filePath;
    this.fd = fd;
    this.header = header;
    this.headerBytes = encodeFileHeader(header, RECORD_SIZE);
    const fb = opts.frameBytes ?? 256 * 1024;
    this.frameBytes = Math.max(RECORD_SIZE, Math.floor(fb / RECORD_SIZE) * RECORD_SIZE);
    this.buf = Buffer.allocUnsafe(this.frameBytes + FRAME_HEADER);
    this.flushIntervalMs = opts.flushIntervalMs ?? 1000;
    this.fsyncOnClose = opts.fsyncOnClose ?? true;
    this.keepFd = opts.keepFd ?? false;
    this.io = opts.io ?? fs;
    this.lastFlush = Date.now();
    this.writeHeader();
    if (opts.timer ?? true) {
      this.timer = setInterval(() => this.flush(), this.flushIntervalMs);
      this.timer.unref();
    }
  }

  // ------------------------------------------------------------------------------ appending

  /** Append `count` whole records from bytes[0, count * 128). Never throws on I/O errors. */
  appendRecords(bytes: Uint8Array, count: number): void {
    if (this.st.closed || count <= 0) return;
    this.st.records += count;
    this.pushRecords(bytes, count, true);
    this.maybeFlush();
  }

  private pushRecords(bytes: Uint8Array, count: number, events: boolean): void {
    let src = 0;
    let left = count;
    while (left > 0) {
      if (this.openAt < 0) {
        if (this.used + FRAME_HEADER + RECORD_SIZE > this.buf.length) this.writeOut();
        this.openAt = this.used;
        this.used += FRAME_HEADER;
        this.openCount = 0;
      }
      const room = Math.min(
        Math.floor((this.buf.length - this.used) / RECORD_SIZE),
        this.frameBytes / RECORD_SIZE - this.openCount,
      );
      if (room <= 0) {
        this.writeOut();
        continue;
      }
      const n = left < room ? left : room;
      this.buf.set(bytes.subarray(src * RECORD_SIZE, (src + n) * RECORD_SIZE), this.used);
      this.used += n * RECORD_SIZE;
      this.openCount += n;
      if (events) this.bufRecords += n;
      src += n;
      left -= n;
      if (this.used + RECORD_SIZE > this.buf.length) this.writeOut();
    }
  }

  /** Append a PROCESS frame. */
  appendProcessInfo(info: ProcessInfo): void {
    if (this.st.closed) return;
    this.appendFrame(encodeJsonFrame(FrameType.Process, info));
    this.st.processes++;
  }

  /**
   * Append a DROPS record: `count` events were lost at `stage` (DropStage) upstream of the
   * recorder. Stamped with the current CLOCK_MONOTONIC time unless tsNs is given.
   */
  appendDrops(stage: number, count: number, tsNs?: bigint): void {
    if (this.st.closed || count <= 0) return;
    this.pushRecords(makeDropsRecord(stage, count, tsNs), 1, false);
    this.maybeFlush();
  }

  /** Flush if flushIntervalMs has passed since the last flush (cheap: one Date.now()). */
  maybeFlush(): void {
    if (Date.now() - this.lastFlush >= this.flushIntervalMs) this.flush();
  }

  /** Close the open frame and write everything buffered. Never throws. */
  flush(): void {
    if (this.fd < 0) return;
    this.writeOut();
    this.lastFlush = Date.now();
  }

  stats(): WriterStats {
    return { ...this.st };
  }

  /** Bytes in the file once what is buffered is written (a rotation's size check). */
  get size(): number {
    return this.st.bytes + this.used;
  }

  /** Flush, append the END frame, fsync and close. Idempotent; never throws. */
  close(): WriterStats {
    if (this.st.closed) return this.stats();
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    this.appendFrame(encodeJsonFrame(FrameType.End, this.endInfo()));
    this.flush();
    if (this.used > 0 && this.fd >= 0) {
      // That last write failed (a full disk): its records and the END frame are lost, and buf now
      // holds the DROPS record counting them. Try once more with just that and a new END frame:
      // a few hundred bytes fit where the big write did not (it was cut back), so the file still
      // says how many records were lost at the end and replays without a warning.
      this.appendFrame(encodeJsonFrame(FrameType.End, this.endInfo()));
      this.flush();
    }
    this.st.closed = true;
    try {
      if (this.fsyncOnClose) fs.fsyncSync(this.fd);
    } catch {
      /* e.g. EINVAL on a device: fine */
    }
    if (!this.keepFd) {
      try {
        fs.closeSync(this.fd);
      } catch (e) {
        this.noteError(e);
      }
    }
    this.fd = -1;
    this.onFlush?.(this.st);
    return this.stats();
  }

  // ------------------------------------------------------------------------------ internals

  private endInfo(): EndInfo {
    return {
      records: this.st.records,
      records_lost: this.st.recordsLost,
      end_wall_ms: Date.now(),
      end_mono_ns: process.hrtime.bigint().toString(),
    };
  }

  private appendFrame(frame: Buffer): void {
    this.closeOpenFrame();
    if (this.used + frame.length > this.buf.length) this.writeOut();
    if (frame.length > this.buf.length) {
      // Bigger than the buffer (a huge command line): write it on its own.
      this.writeBytes(frame, frame.length, 0);
      this.st.frames++;
      return;
    }
    frame.copy(this.buf, this.used);
    this.used += frame.length;
    this.st.frames++;
  }

  private closeOpenFrame(): void {
    if (this.openAt < 0) return;
    writeFrameHeader(this.buf, this.openAt, FrameType.Records, this.openCount * RECORD_SIZE);
    this.openAt = -1;
    this.openCount = 0;
    this.st.frames++;
  }

  private writeHeader(): boolean {
    if (this.headerDone) return true;
    const ok = this.writeAt(this.headerBytes, this.headerBytes.length, 0);
    if (ok) {
      this.headerDone = true;
      this.goodOffset = this.headerBytes.length;
      this.st.bytes = this.goodOffset;
    }
    return ok;
  }

  /** Close the open frame and write the buffer; on failure count its records as lost. */
  private writeOut(): void {
    this.closeOpenFrame();
    if (this.used === 0) {
      this.onFlush?.(this.st);
      return;
    }
    this.writeBytes(this.buf, this.used, this.bufRecords, this.bufLostReported);
    this.used = 0;
    this.bufRecords = 0;
    this.bufLostReported = 0;
    // After a failure, the next write starts by saying what was lost.
    if (this.pendingLost > 0 && this.fd >= 0 && !this.st.closed) {
      const n = Math.min(this.pendingLost, 0xffffffff);
      const rec = makeDropsRecord(DropStage.Recording, n);
      this.openAt = 0;
      this.used = FRAME_HEADER;
      this.buf.set(rec, this.used);
      this.used += RECORD_SIZE;
      this.openCount = 1;
      this.bufLostReported = n;
      this.pendingLost -= n;
    }
    this.onFlush?.(this.st);
  }

  private writeBytes(buf: Buffer, len: number, records: number, lostReported = 0): void {
    const ok = this.writeHeader() && this.writeAt(buf, len, this.goodOffset);
    if (ok) {
      this.goodOffset += len;
      this.st.bytes = this.goodOffset;
      this.st.recordsWritten += records;
    } else {
      this.st.recordsLost += records;
      this.pendingLost += records + lostReported;
      // Cut back whatever part of the write reached the file, so the next frame follows a whole one.
      try {
        this.io.ftruncateSync(this.fd, this.headerDone ? this.goodOffset : 0);
      } catch {
        /* a device, or the disk is gone: the reader stops at the damage */
      }
    }
  }

  private writeAt(buf: Buffer, len: number, pos: number): boolean {
    let off = 0;
    try {
      while (off < len) {
        const n = this.io.writeSync(this.fd, buf, off, len - off, pos + off);
        if (n <= 0) throw Object.assign(new Error('short write'), { code: 'EIO' });
        off += n;
      }
      return true;
    } catch (e) {
      this.noteError(e);
      return false;
    }
  }

  private noteError(e: unknown): void {
    this.st.writeErrors++;
    this.st.lastError = errorLine(e);
  }
}

/** A DROPS record (kind 14, new_state = stage, count). */
export function makeDropsRecord(stage: number, count: number, tsNs?: bigint): Uint8Array {
  const rec = new Uint8Array(RECORD_SIZE);
  const v = new DataView(rec.buffer);
  v.setBigUint64(Offset.ts_ns, tsNs ?? process.hrtime.bigint(), true);
  v.setUint8(Offset.kind, EventKind.Drops);
  v.setUint8(Offset.new_state, stage);
  v.setUint32(Offset.count, Math.min(count, 0xffffffff), true);
  return rec;
}
