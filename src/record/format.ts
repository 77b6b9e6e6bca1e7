/**
 * format.ts: the socktop recording file (".socktop"), version 1. The one description of the bytes;
 * writer.ts writes it, reader.ts reads it. All integers are little-endian.
 *
 * ## File header (FILE_HEADER_FIXED = 32 bytes, then JSON)
 *
 *      0  8  magic "SOCKTOP\0"                      } these 12 bytes never change layout, so any
 *      8  2  u16 format version (FORMAT_VERSION)    } version of socktop can tell "foreign" from
 *     10  2  u16 record size (160; 128: layouts 1-2) } "newer" from "corrupt"
 *     12  4  u32 header length: bytes from 0 to the first frame (32 + JSON + padding, multiple of 8)
 *     16  4  u32 JSON length (bytes of UTF-8, before padding)
 *     20  4  u32 CRC-32 of the JSON bytes
 *     24  4  u32 CRC-32 of bytes 0..23
 *     28  4  u32 reserved, 0
 *     32  …  JSON header (HeaderJson below), padded with spaces to a multiple of 8 bytes
 *
 * ## Frames, until the end of the file
 *
 * Each frame is a 16-byte frame header and a payload:
 *
 *      0  1  u8  type (FrameType)
 *      1  1  u8  flags, 0
 *      2  2  u16 reserved, 0
 *      4  4  u32 payload length (bytes; at most MAX_FRAME_PAYLOAD)
 *      8  4  u32 CRC-32 of the payload
 *     12  4  u32 CRC-32 of frame-header bytes 0..11 (so a damaged length is caught, not followed)
 *
 *   type 1 RECORDS  payload = N whole event records (struct socktop_event, bpf/socktop.h: 160 bytes,
 *                   or 128 in files of record layouts 1-2, which readers widen with zeros),
 *                   exactly as captured, in capture order; length is a multiple of the size.
 *                   DROPS records (kind 14) are ordinary records in this stream: drops upstream of
 *                   the recorder (stage 1, 2) and the recorder's own lost writes (stage 3).
 *   type 2 PROCESS  payload = UTF-8 JSON ProcessInfo (pid, ppid, comm, cmdline, uid, user, start
 *                   time, threads, netns, cgroup), written before the first RECORDS frame that holds
 *                   a record of that pid, so a replay on another machine names processes right; its
 *                   "cgroups" key maps the cgroup ids of the records that follow to their paths (so
 *                   the replay names containers).
 *   type 3 END      payload = UTF-8 JSON EndInfo (records, drops, end time), written by close().
 *                   Its absence means the recorder did not finish (crash, kill -9, full disk).
 *   other types     skipped with a warning (room for additions that old readers can ignore).
 *
 * The writer closes a RECORDS frame at 256 KiB of payload (1638 records), before a PROCESS frame
 * (so a pid's description precedes its first record) and at every flush (at least once a second).
 * Records need no alignment in the file: readers copy whole frames into their own buffers.
 *
 * ## Cut, damaged and foreign files (what reader.ts does)
 *
 * - Not our magic (or shorter than 8 bytes and not a prefix of it): RecordingError EFOREIGN.
 * - Format version newer than FORMAT_VERSION: ENEWER (upgrade socktop), unless it is above
 *   MAX_PLAUSIBLE_VERSION: then it is no version but damage (our magic followed by garbage) and
 *   the file is ECORRUPT. Record size other than 160 or 128: ERECORDSIZE (ECORRUPT when the size is one no
 *   writer could have used and the header checksum fails). Header CRC mismatch, impossible
 *   lengths, bad JSON: ECORRUPT. File ends inside the file header: ETRUNCATED (nothing to replay).
 *   Empty file: EEMPTY. Not a regular file (a FIFO, /dev/zero, a directory): EIO "is not a regular
 *   file", found without blocking (the open is O_NONBLOCK).
 * - A file cut at any byte replays up to its LAST WHOLE RECORD, with one warning:
 *     - cut inside a frame header: that frame had no whole record yet; everything before is kept;
 *     - cut inside a RECORDS payload: the frame header is whole and CRC-valid, so its length is
 *       trusted; the floor(available / record size) whole records present are replayed (the payload CRC
 *       cannot be checked on a cut frame: a cut only removes bytes, it does not change them);
 *     - cut inside a PROCESS or END payload: that frame is dropped;
 *     - cut exactly between frames: every record is there; the missing END frame gives the warning.
 * - Damage in the LAST frame of the file (a payload CRC mismatch there, or a damaged header with
 *   no intact frame in the at most 256 KiB + 16 bytes after it: one write of the writer) is a write
 *   torn by a crash: that frame is dropped with a warning, like a cut. Bytes that are all zero from a frame header to the end (an unwritten tail after a
 *   crash): a warning too.
 * - Damage anywhere else, read strictly (openRecording's default): ECORRUPT, never replay bytes
 *   that may be wrong in the middle.
 * - Read with `salvage` (what `socktop replay` does): every intact frame is replayed, and each
 *   damaged place gives one warning (byte offset, frame number, what, records lost) and a DROPS
 *   record of stage 3 (recording) where it was, counting the records lost:
 *     - payload CRC mismatch under a CRC-valid header: the length is trusted, the frame is skipped,
 *       exactly len / record size records lost (none for a PROCESS or END frame);
 *     - frame header CRC mismatch, or an impossible length: the frame ends at its own length if a
 *       valid frame follows there, else at the next valid frame found by scanning forward byte by
 *       byte (header CRC, known type, possible length, payload CRC). If the payload CRC from the
 *       damaged header still matches, only the header was hit and the payload is replayed; else it
 *       is lost: len / record size records when type and length agree with where it ends, none when the
 *       payload is JSON, otherwise at most (skipped bytes - 16) / record size, said "up to N records";
 *     - a damaged file header: a single damaged magic, version or record size field is repaired
 *       when the header CRC proves what was written; damaged lengths are found again from the JSON
 *       CRC, or the frames start at the first valid one; unreadable JSON leaves host, kernel and
 *       start time unknown. Only what cannot be told from damage stays an error.
 *   The resync only trusts bytes whose CRCs check; bytes that merely look like a frame inside a
 *   damaged region could fool it, never an intact file.
 */
import * as zlib from 'zlib';
import type { ProcessDetails } from '../capture/procfs';

export const MAGIC = Buffer.from('SOCKTOP\0', 'latin1');
export const FORMAT_VERSION = 1;
/** Versions above this are no version but damage (our magic followed by garbage): ECORRUPT, not
 * ENEWER. Generous: a format version per socktop release for many years. */
export const MAX_PLAUSIBLE_VERSION = 255;
export const FILE_HEADER_FIXED = 32;
export const FRAME_HEADER = 16;
/** Largest JSON file header accepted (a real one is a few hundred bytes). */
export const MAX_HEADER_JSON = 1 << 20;
/** Largest frame payload accepted; the writer never writes more than WRITER_FRAME_BYTES. */
export const MAX_FRAME_PAYLOAD = 64 << 20;
/** Conventional file name suffix. */
export const FILE_SUFFIX = '.socktop';

export enum FrameType {
  Records = 1,
  Process = 2,
  End = 3,
}

/** The JSON block of the file header. Unknown keys are kept and ignored. */
export interface HeaderJson {
  /** Host name of the machine recorded. */
  host: string;
  /** Kernel release (uname -r). */
  kernel: string;
  /** Wall clock at the start of the recording, ms since the epoch. */
  start_wall_ms: number;
  /** CLOCK_MONOTONIC at the same instant, ns, as a decimal string (u64: can exceed 2^53). */
  start_mono_ns: string;
  /** socktop version that wrote the file. */
  socktop_version: string;
  /** Capture backend: "kprobe", "tracepoint", "synthetic", ... */
  backend: string;
  /** Record layout version of bpf/socktop.h (SOCKTOP_RECORD_VERSION). */
  record_version: number;
  [key: string]: unknown;
}

/** Process metadata (PROCESS frames): what /proc said (capture/procfs.ts). Fields other than pid
 *  may be missing when /proc had gone. */
export interface ProcessInfo extends ProcessDetails {
  /** CLOCK_MONOTONIC ns (decimal string) of the record that made the recorder look the pid up. */
  seen_mono_ns?: string;
  /**
   * cgroup id (decimal) -> cgroup v2 path, for the ids first seen in the records that follow: what
   * a replay on another host names containers by. A key old readers ignore; a cgroup first seen on
   * a pid described already comes in a record-only description (from_proc false) of that pid.
   */
  cgroups?: Record<string, string>;
}

/** The cgroup id -> path pairs a PROCESS description holds ("cgroups", and "cgroup_id"/"cgroup"),
 *  checked: a damaged or hostile frame gives no pair rather than a wrong type. */
export function cgroupPathsOf(info: ProcessInfo): Array<[number, string]> {
  const out: Array<[number, string]> = [];
  if (info.cgroups && typeof info.cgroups === 'object') {
    for (const [id, p] of Object.entries(info.cgroups)) if (typeof p === 'string' && /^\d+$/.test(id)) out.push([Number(id), p]);
  }
  if (typeof info.cgroup_id === 'number' && typeof info.cgroup === 'string') out.push([info.cgroup_id, info.cgroup]);
  return out;
}

/** END frame. */
export interface EndInfo {
  records: number;
  /** Records the recorder itself lost (write errors), also written as DROPS stage 3 records. */
  records_lost: number;
  end_wall_ms: number;
  end_mono_ns: string;
}

export type RecordingErrorCode =
  | 'EEMPTY' | 'EFOREIGN' | 'ENEWER' | 'ERECORDSIZE' | 'ECORRUPT' | 'ETRUNCATED' | 'EIO' | 'EUSAGE'
  /** Writing: the path exists (no --force). */
  | 'EEXIST'
  /** Writing: a symbolic link, a hard link, not a regular file, someone else's file (safe-open.ts). */
  | 'EUNSAFE'
  /** Interrupted by SIGINT/SIGTERM before anything was replayed. */
  | 'EINTR';

/**
 * Every problem with a recording file is one of these: a one-line message naming the file, and a
 * code. The CLI prints `socktop: <message>` and exits non-zero; never a stack trace.
 */
export class RecordingError extends Error {
  readonly code: RecordingErrorCode;
  readonly exitCode = 2;
  constructor(code: RecordingErrorCode, message: string) {
    super(message);
    this.name = 'RecordingError';
    this.code = code;
  }
}

// ------------------------------------------------------------------------------------------ CRC

const zlibCrc = (zlib as unknown as { crc32?: (d: Uint8Array, v?: number) => number }).crc32;

let table: Uint32Array | null = null;
function crcTable(): Uint32Array {
  if (table) return table;
  table = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    table[n] = c >>> 0;
  }
  return table;
}

/** Table-driven CRC-32 (IEEE, as zlib), for Node versions before zlib.crc32 (v20.15). */
export function crc32Slow(data: Uint8Array, start = 0, end = data.length): number {
  const t = crcTable();
  let c = 0xffffffff;
  for (let i = start; i < end; i++) c = t[(c ^ data[i]) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

/** CRC-32 of data[start, end). */
export function crc32(data: Uint8Array, start = 0, end = data.length): number {
  if (zlibCrc) {
    const sub = start === 0 && end === data.length ? data : data.subarray(start, end);
    return zlibCrc(sub) >>> 0;
  }
  return crc32Slow(data, start, end);
}

// ------------------------------------------------------------------------------ header encoding

/** Serialize the file header (fixed part + padded JSON). */
export function encodeFileHeader(json: HeaderJson, recordSize: number): Buffer {
  const body = Buffer.from(JSON.stringify(json), 'utf8');
  if (body.length > MAX_HEADER_JSON) throw new RangeError('recording header too large');
  const padded = (body.length + 7) & ~7;
  const total = FILE_HEADER_FIXED + padded;
  const buf = Buffer.alloc(total, 0x20);
  buf.fill(0, 0, FILE_HEADER_FIXED);
  MAGIC.copy(buf, 0);
  buf.writeUInt16LE(FORMAT_VERSION, 8);
  buf.writeUInt16LE(recordSize, 10);
  buf.writeUInt32LE(total, 12);
  buf.writeUInt32LE(body.length, 16);
  buf.writeUInt32LE(crc32(body), 20);
  buf.writeUInt32LE(crc32(buf, 0, 24), 24);
  body.copy(buf, FILE_HEADER_FIXED);
  return buf;
}

/** Write a frame header for a payload already at buf[at + 16, at + 16 + length). */
export function writeFrameHeader(buf: Buffer, at: number, type: FrameType, length: number): void {
  buf[at] = type;
  buf[at + 1] = 0;
  buf.writeUInt16LE(0, at + 2);
  buf.writeUInt32LE(length, at + 4);
  buf.writeUInt32LE(crc32(buf, at + FRAME_HEADER, at + FRAME_HEADER + length), at + 8);
  buf.writeUInt32LE(crc32(buf, at, at + 12), at + 12);
}

/** A whole frame with a JSON payload. */
export function encodeJsonFrame(type: FrameType, value: unknown): Buffer {
  const body = Buffer.from(JSON.stringify(value), 'utf8');
  const buf = Buffer.allocUnsafe(FRAME_HEADER + body.length);
  body.copy(buf, FRAME_HEADER);
  writeFrameHeader(buf, 0, type, body.length);
  return buf;
}

// ------------------------------------------------------------------------------ small helpers

/** Parse "30s", "2m", "500ms", "1h", "1.5s" or a bare number of seconds into milliseconds. */
export function parseDuration(text: string | number): number {
  if (typeof text === 'number') {
    if (!Number.isFinite(text) || text < 0) throw new RangeError(`invalid duration: ${text}`);
    return text * 1000;
  }
  const m = /^\s*(\d+(?:\.\d+)?|\.\d+)\s*(ms|s|m|h)?\s*$/i.exec(text);
  if (!m) throw new RangeError(`invalid duration "${text}" (use e.g. 500ms, 30s, 2m, 1h)`);
  const n = Number(m[1]);
  const unit = (m[2] ?? 's').toLowerCase();
  const mult = unit === 'ms' ? 1 : unit === 's' ? 1000 : unit === 'm' ? 60_000 : 3_600_000;
  return n * mult;
}

/** Format nanoseconds as "m:ss.t" (or "h:mm:ss") for progress displays. */
export function formatClock(ns: number): string {
  const totalTenths = Math.max(0, Math.floor(ns / 1e8));
  const tenths = totalTenths % 10;
  const secs = Math.floor(totalTenths / 10);
  const s = secs % 60;
  const m = Math.floor(secs / 60) % 60;
  const h = Math.floor(secs / 3600);
  const ss = String(s).padStart(2, '0');
  if (h > 0) return `${h}:${String(m).padStart(2, '0')}:${ss}`;
  return `${m}:${ss}.${tenths}`;
}

/** One damaged place of a recording that a salvaging open stepped over. */
export interface DamageReport {
  /** File offset where the damage starts (a frame header, or 0 for the file header). */
  offset: number;
  /** 1-based number of the frame in the file (0: the file header). */
  frame: number;
  /** What was wrong: "checksum mismatch", "damaged frame header", ... */
  what: string;
  /** Bytes skipped. */
  bytes: number;
  /** Records lost there: exact when `exact`, else the most the skipped bytes could have held. */
  records: number;
  exact: boolean;
}
