/**
 * header-reader.ts: a recording's file header (format.ts): magic, version, record size, lengths,
 * checksums and the JSON metadata, with salvage of a damaged header (a field the checksum can
 * restore, metadata whose own checksum finds its length, or the first intact frame after it).
 */
import { RECORD_SIZE, RECORD_SIZE_V2, RECORD_VERSION } from '../capture/layout';
import type { ChunkReader } from './chunk-reader';
import {
  FILE_HEADER_FIXED, FORMAT_VERSION, HeaderJson, MAGIC, MAX_HEADER_JSON, MAX_PLAUSIBLE_VERSION,
  RecordingError, crc32, DamageReport,
} from './format';

export interface RecordingHeader {
  formatVersion: number;
  /** The file's record size: RECORD_SIZE, or RECORD_SIZE_V2 for layouts 1 and 2 (widened on read). */
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

/** What the header reader may use of the recording being opened. */
export interface HeaderContext {
  path: string;
  fileSize: number;
  salvage: boolean;
  noteDamage(d: DamageReport, text: string): void;
  validFrameAt(pos: number): boolean;
  findFrame(r: ChunkReader, from: number): number;
}

/** The JSON object in b[at, at + len), or null. */
export function jsonObject(b: Buffer, at: number, len: number): Record<string, unknown> | null {
  try {
    const v: unknown = JSON.parse(b.toString('utf8', at, at + len));
    return v !== null && typeof v === 'object' && !Array.isArray(v) ? v as Record<string, unknown> : null;
  } catch {
    return null;
  }
}

/**
 * The record layout (bpf/socktop.h SOCKTOP_RECORD_VERSION) the file's records have. Every older
 * layout reads as this one (version 1 differs only in a byte that was always 0: flags2); a newer
 * one may give its bytes meanings this socktop does not know, so it is refused.
 */
function checkRecordVersion(path: string, version: unknown): void {
  if (typeof version !== 'number' || !(version > RECORD_VERSION)) return;
  throw new RecordingError('ENEWER',
    `${path}: recording record layout version ${version} is newer than this socktop reads (${RECORD_VERSION}): upgrade socktop`);
}

/** The record sizes this socktop reads: its own, and layouts 1-2's (read widened, layout.ts). */
const READABLE_SIZES: readonly number[] = [RECORD_SIZE, RECORD_SIZE_V2];

/** A record size some socktop could have written (anything else is a damaged header). */
function plausibleRecordSize(n: number): boolean {
  return n >= 16 && n <= 4096 && n % 8 === 0;
}

export function readRecordingHeader(r: ChunkReader, ctx: HeaderContext): { header: RecordingHeader; headerLen: number } {
const fail = (code: 'ECORRUPT' | 'ETRUNCATED', what: string): never => {
  throw new RecordingError(code, `${ctx.path}: ${what}`);
};
  const size = ctx.fileSize;
  const p = ctx.path;
  if (size === 0) throw new RecordingError('EEMPTY', `${p}: empty file, not a socktop recording`);
  const n0 = Math.min(size, FILE_HEADER_FIXED);
  const at0 = r.ensure(0, n0);
  const fixed = Buffer.from(r.buf.subarray(at0, at0 + n0)); // a copy: r's buffer moves on
  const m = Math.min(n0, MAGIC.length);
  if (fixed.compare(MAGIC, 0, m, 0, m) !== 0) {
    // Salvage: a damaged magic of a file whose header checksum says it was ours.
    const t = n0 === FILE_HEADER_FIXED ? Buffer.from(fixed.subarray(0, 24)) : null;
    if (t) MAGIC.copy(t, 0);
    if (!ctx.salvage || !t || crc32(t) !== fixed.readUInt32LE(24)) {
      throw new RecordingError('EFOREIGN', `${p}: not a socktop recording (unknown file type)`);
    }
    MAGIC.copy(fixed, 0);
    ctx.noteDamage({ offset: 0, frame: 0, what: 'damaged file header', bytes: 0, records: 0, exact: true },
      'damaged file header (its magic bytes, its checksum intact): replaying it as written');
  }
  if (size < 12) fail('ETRUNCATED', 'recording is cut short inside its header: nothing to replay');
  let version = fixed.readUInt16LE(8);
  let recordSize = fixed.readUInt16LE(10);
  const whole = size >= FILE_HEADER_FIXED;
  const storedCrc = whole ? fixed.readUInt32LE(24) : 0;
  let fixedOk = whole && crc32(fixed, 0, 24) === storedCrc;
  if (whole && !fixedOk && ctx.salvage) {
    // One damaged field: the header checksum says what the writer wrote there.
    const writtenAs = (off: number, want: number): boolean => {
      const t = Buffer.from(fixed.subarray(0, 24));
      t.writeUInt16LE(want, off);
      return crc32(t) === storedCrc;
    };
    let field = '';
    if (version !== FORMAT_VERSION && writtenAs(8, FORMAT_VERSION)) {
      field = `its format version reads ${version}, its checksum says ${FORMAT_VERSION}`;
      version = FORMAT_VERSION;
    } else if (!READABLE_SIZES.includes(recordSize)) {
      const want = READABLE_SIZES.find((n) => writtenAs(10, n));
      if (want !== undefined) {
        field = `its record size reads ${recordSize}, its checksum says ${want}`;
        recordSize = want;
      }
    }
    if (field) {
      fixedOk = true;
      ctx.noteDamage({ offset: 0, frame: 0, what: 'damaged file header', bytes: 0, records: 0, exact: true },
        `damaged file header (${field}): replaying it as written`);
    }
  }
  if (version === 0) fail('ECORRUPT', 'corrupt recording: format version 0');
  if (version > FORMAT_VERSION) {
    if (version > MAX_PLAUSIBLE_VERSION) {
      // Our magic followed by garbage: no socktop ever wrote such a version.
      fail('ECORRUPT', `corrupt recording: damaged file header (format version ${version} is no version socktop ever wrote)`);
    }
    throw new RecordingError('ENEWER',
      `${p}: recording format version ${version} is newer than this socktop reads (${FORMAT_VERSION}): upgrade socktop`);
  }
  if (!READABLE_SIZES.includes(recordSize)) {
    if (!fixedOk && !plausibleRecordSize(recordSize)) {
      fail('ECORRUPT', `corrupt recording: damaged file header (record size ${recordSize})`);
    }
    throw new RecordingError('ERECORDSIZE',
      `${p}: recording has ${recordSize}-byte records, this socktop reads ${READABLE_SIZES.join(" or ")}-byte records`);
  }
  if (!whole) fail('ETRUNCATED', 'recording is cut short inside its header: nothing to replay');
  const headerLen = fixed.readUInt32LE(12);
  const jsonLen = fixed.readUInt32LE(16);
  const jsonCrc = fixed.readUInt32LE(20);
  const lengthsOk = jsonLen <= MAX_HEADER_JSON && headerLen === FILE_HEADER_FIXED + ((jsonLen + 7) & ~7);
  const jsonCrcOk = (): boolean => {
    const j = r.ensure(FILE_HEADER_FIXED, jsonLen);
    return crc32(r.buf, j, j + jsonLen) === jsonCrc;
  };
  let start = headerLen;
  let json: HeaderJson | null = null;
  const metaLost = 'host, kernel and start time unknown';
  if (fixedOk) {
    if (!lengthsOk) fail('ECORRUPT', 'corrupt recording: impossible header length');
    if (size < headerLen) fail('ETRUNCATED', 'recording is cut short inside its header: nothing to replay');
    if (!jsonCrcOk()) {
      if (!ctx.salvage) fail('ECORRUPT', 'corrupt recording: header checksum mismatch');
      ctx.noteDamage({ offset: FILE_HEADER_FIXED, frame: 0, what: 'checksum mismatch', bytes: 0, records: 0, exact: true },
        `checksum mismatch in the file header's metadata (bytes ${FILE_HEADER_FIXED}-${FILE_HEADER_FIXED + jsonLen - 1}): ${metaLost}; replaying every frame`);
    } else {
      json = headerJson(r, jsonLen, ctx);
    }
  } else {
    if (!ctx.salvage) fail('ECORRUPT', 'corrupt recording: header checksum mismatch');
    // Bytes 12-31 hit. The metadata's own checksum (bytes 20-23) finds its length: the length as
    // read, or the one the header length implies (one of 8, for the padding).
    const tries = [jsonLen];
    for (let k = 0; k < 8; k++) tries.push(headerLen - FILE_HEADER_FIXED - k);
    const crcOf = (L: number): number => {
      const j = r.ensure(FILE_HEADER_FIXED, L);
      return crc32(r.buf, j, j + L);
    };
    const found = tries.find((L) => L >= 0 && L <= MAX_HEADER_JSON && FILE_HEADER_FIXED + L <= size && crcOf(L) === jsonCrc);
    const derived = found === undefined ? -1 : FILE_HEADER_FIXED + ((found + 7) & ~7);
    if (found !== undefined && derived <= size) {
      start = derived;
      json = headerJson(r, found, ctx);
      ctx.noteDamage({ offset: 0, frame: 0, what: 'damaged file header', bytes: 0, records: 0, exact: true },
        `damaged file header (checksum mismatch in bytes 0-${FILE_HEADER_FIXED - 1}), its metadata intact: replaying every frame`);
    } else {
      // Lengths not to be trusted: replay from the first intact frame.
      start = lengthsOk && headerLen <= size && ctx.validFrameAt(headerLen) ? headerLen : ctx.findFrame(r, FILE_HEADER_FIXED);
      if (start < 0 && lengthsOk && headerLen === size) start = size; // a recording without frames
      if (start < 0) fail('ECORRUPT', 'corrupt recording: damaged file header, and no intact frame after it');
      if (lengthsOk && start === headerLen) {
        // Only the metadata's checksum can be wrong: use the metadata if it reads.
        const j = r.ensure(FILE_HEADER_FIXED, jsonLen);
        json = jsonObject(r.buf, j, jsonLen) as HeaderJson | null;
      }
      ctx.noteDamage({ offset: 0, frame: 0, what: 'damaged file header', bytes: 0, records: 0, exact: true },
        `damaged file header (checksum mismatch in bytes 0-${FILE_HEADER_FIXED - 1}): ` +
        `${json ? 'its metadata unverified' : metaLost}; replaying the frames from byte ${start}`);
    }
  }
  const j: Partial<HeaderJson> = json ?? {};
  checkRecordVersion(p, j.record_version);
  let startMono = 0n;
  try {
    startMono = BigInt(String(j.start_mono_ns ?? '0'));
  } catch {
    startMono = 0n;
  }
  const header: RecordingHeader = {
    formatVersion: version,
    recordSize,
    host: String(j.host ?? ''),
    kernel: String(j.kernel ?? ''),
    startWallMs: Number(j.start_wall_ms) || 0,
    startMonoNs: startMono,
    socktopVersion: String(j.socktop_version ?? ''),
    backend: String(j.backend ?? ''),
    json: (json ?? {}) as HeaderJson,
  };
  return { header, headerLen: start };
}

/** The header's JSON block (its checksum already checked); null (salvage) when unreadable. */
function headerJson(r: ChunkReader, jsonLen: number, ctx: HeaderContext): HeaderJson | null {
  const fail = (what: string): never => {
    throw new RecordingError('ECORRUPT', `${ctx.path}: ${what}`);
  };
  const j = r.ensure(FILE_HEADER_FIXED, jsonLen);
  let json: unknown = null;
  try {
    json = JSON.parse(r.buf.toString('utf8', j, j + jsonLen));
  } catch {
    json = null;
  }
  if (json !== null && typeof json === 'object' && !Array.isArray(json)) return json as HeaderJson;
  if (!ctx.salvage) fail('corrupt recording: unreadable header');
  ctx.noteDamage({ offset: FILE_HEADER_FIXED, frame: 0, what: 'unreadable header metadata', bytes: 0, records: 0, exact: true },
    'unreadable metadata in the file header: host, kernel and start time unknown; replaying every frame');
  return null;
}
