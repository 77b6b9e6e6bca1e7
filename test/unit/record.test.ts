/**
 * Tests for src/record/{format,writer,reader}.ts: round trip, cut files (every byte offset),
 * random corruption (fast-check), foreign and newer files, write errors, the capture hook.
 * fast-check seeds are printed on failure; SOCKTOP_SEED=<n> fixes them.
 */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import fc from 'fast-check';
import { DropStage, EventKind, Offset, RECORD_SIZE, RECORD_VERSION } from '../../src/capture/layout';
import { decodeEvent } from '../../src/capture/decode';
import {
  FILE_HEADER_FIXED, FORMAT_VERSION, FRAME_HEADER, FrameType, RecordingError, crc32, crc32Slow,
  formatClock, parseDuration,
} from '../../src/record/format';
import { Recording, openRecording } from '../../src/record/reader';
import { createRecordingStage } from '../../src/record/recording-stage';
import { RecordingStatsView } from '../../src/record/stats-view';
import { readProcDetails } from '../../src/capture/procfs';
import {
  RecordingWriter, WriterIo,
} from '../../src/record/writer';
import { makeRecords, tmpDir, writeRecord, writeRecording } from './fixtures/record-synth';

const SEED = process.env.SOCKTOP_SEED !== undefined ? Number(process.env.SOCKTOP_SEED) >>> 0 : undefined;
const dir = tmpDir();
after(() => fs.rmSync(dir, { recursive: true, force: true }));

function readAll(rec: Recording): Uint8Array {
  const out = new Uint8Array(rec.records * RECORD_SIZE);
  let at = 0;
  for (const b of rec.batches()) {
    out.set(b.bytes, at);
    at += b.bytes.length;
  }
  assert.equal(at, out.length);
  return out;
}

function expectError(fn: () => unknown, code: string, re?: RegExp): RecordingError {
  try {
    fn();
  } catch (e) {
    assert.ok(e instanceof RecordingError, `expected RecordingError, got ${String(e)}`);
    assert.equal(e.code, code, e.message);
    assert.ok(!e.message.includes('\n'), 'one-line message');
    if (re) assert.match(e.message, re);
    return e;
  }
  assert.fail(`expected RecordingError ${code}`);
}

/** Walk the frames of a well-formed file: end offset of every record, frame boundaries. */
function layoutOf(file: Buffer): { headerLen: number; recordEnds: number[]; frameEnds: number[] } {
  const headerLen = file.readUInt32LE(12);
  const recordEnds: number[] = [];
  const frameEnds: number[] = [];
  let pos = headerLen;
  while (pos < file.length) {
    const type = file[pos];
    const len = file.readUInt32LE(pos + 4);
    if (type === FrameType.Records) {
      for (let k = 1; k * RECORD_SIZE <= len; k++) recordEnds.push(pos + FRAME_HEADER + k * RECORD_SIZE);
    }
    pos += FRAME_HEADER + len;
    frameEnds.push(pos);
  }
  assert.equal(pos, file.length);
  return { headerLen, recordEnds, frameEnds };
}

// ------------------------------------------------------------------------------------ format

test('crc32: zlib and the table fallback agree', () => {
  const data = Buffer.from('123456789');
  assert.equal(crc32Slow(data), 0xcbf43926);
  assert.equal(crc32(data), 0xcbf43926);
  const rnd = Buffer.alloc(10000);
  for (let i = 0; i < rnd.length; i++) rnd[i] = (i * 7919 + 13) & 0xff;
  assert.equal(crc32(rnd, 100, 9000), crc32Slow(rnd, 100, 9000));
});

test('parseDuration and formatClock', () => {
  assert.equal(parseDuration('30s'), 30_000);
  assert.equal(parseDuration('2m'), 120_000);
  assert.equal(parseDuration('500ms'), 500);
  assert.equal(parseDuration('1h'), 3_600_000);
  assert.equal(parseDuration('1.5s'), 1500);
  assert.equal(parseDuration('10'), 10_000);
  assert.equal(parseDuration(3), 3000);
  assert.throws(() => parseDuration('soon'), /invalid duration/);
  assert.throws(() => parseDuration('-3s'), /invalid duration/);
  assert.equal(formatClock(0), '0:00.0');
  assert.equal(formatClock(62.55e9), '1:02.5');
  assert.equal(formatClock(3723e9), '1:02:03');
});

// ------------------------------------------------------------------------------------ round trip

test('round trip: bytes, order, process infos, drops, header, END, mode 0600', () => {
  const file = path.join(dir, 'roundtrip.socktop');
  fs.writeFileSync(file, 'old content', { mode: 0o644 }); // an existing file is replaced and made 0600
  const records = makeRecords(1000, { pids: [10, 11, 12, 13] });
  const w = RecordingWriter.create(file, {
    backend: 'tracepoint', host: 'h1', kernel: '6.1.0-x', startWallMs: 1_700_000_000_000,
    startMonoNs: 4_999_000_000_000n, extra: { argv: ['record'] },
  }, { timer: false, frameBytes: 1024 }); // 8 records per frame: many frames
  const sizes = [1, 7, 8, 9, 100, 375, 500];
  let at = 0;
  let si = 0;
  const expected: Uint8Array[] = [];
  const procAt: Array<{ pid: number; atRecord: number }> = [];
  let written = 0;
  while (at < 1000) {
    const n = Math.min(sizes[si++ % sizes.length], 1000 - at);
    if (si === 3) {
      w.appendProcessInfo({ pid: 10, comm: 'p10', cmdline: 'p10 --x', uid: 0, user: 'root', ppid: 1 });
      procAt.push({ pid: 10, atRecord: written });
    }
    if (si === 5) {
      w.appendDrops(DropStage.BpfRing, 42, 5_000_000_500_000n);
      const d = new Uint8Array(RECORD_SIZE);
      const v = new DataView(d.buffer);
      v.setBigUint64(Offset.ts_ns, 5_000_000_500_000n, true);
      v.setUint8(Offset.kind, EventKind.Drops);
      v.setUint8(Offset.new_state, DropStage.BpfRing);
      v.setUint32(Offset.count, 42, true);
      expected.push(d);
      written++;
    }
    w.appendRecords(records.subarray(at * RECORD_SIZE, (at + n) * RECORD_SIZE), n);
    expected.push(records.subarray(at * RECORD_SIZE, (at + n) * RECORD_SIZE));
    written += n;
    at += n;
  }
  const st = w.close();
  assert.equal(st.records, 1000);
  assert.equal(st.recordsWritten, 1000);
  assert.equal(st.recordsLost, 0);
  assert.equal(st.writeErrors, 0);
  assert.equal(st.lastError, null);
  assert.equal(fs.statSync(file).mode & 0o777, 0o600);
  assert.equal(st.bytes, fs.statSync(file).size);

  const rec = openRecording(file);
  assert.deepEqual(rec.warnings, []);
  assert.equal(rec.truncated, false);
  assert.equal(rec.records, 1001);
  assert.equal(rec.header.formatVersion, FORMAT_VERSION);
  assert.equal(rec.header.recordSize, RECORD_SIZE);
  assert.equal(rec.header.host, 'h1');
  assert.equal(rec.header.kernel, '6.1.0-x');
  assert.equal(rec.header.backend, 'tracepoint');
  assert.equal(rec.header.startWallMs, 1_700_000_000_000);
  assert.equal(rec.header.startMonoNs, 4_999_000_000_000n);
  assert.deepEqual(rec.header.json.argv, ['record']);
  assert.match(rec.header.socktopVersion, /^\d+\.\d+\.\d+/);
  assert.ok(rec.frameCount > 100);
  assert.equal(rec.end?.records, 1000);
  assert.equal(rec.dropRecords, 1);
  assert.equal(rec.droppedEvents, 42);
  assert.deepEqual(rec.processes.map((p) => ({ pid: p.info.pid, atRecord: p.atRecord })), procAt);
  assert.equal(rec.processes[0].info.cmdline, 'p10 --x');
  const all = readAll(rec);
  assert.deepEqual(Buffer.from(all), Buffer.concat(expected.map((e) => Buffer.from(e))));
  assert.equal(rec.firstTsNs, 5_000_000_000_000);
  assert.equal(rec.durationNs, 999_000_000);
  // Random access: batches from the middle, bounded size.
  const from = 517;
  let k = from;
  for (const b of rec.batches(from, 13)) {
    assert.ok(b.count <= 13 && b.count > 0);
    assert.equal(b.first, k);
    assert.deepEqual(Buffer.from(b.bytes), Buffer.from(all.subarray(k * RECORD_SIZE, (k + b.count) * RECORD_SIZE)));
    k += b.count;
  }
  assert.equal(k, 1001);
  // The decoder reads batch views like the live ring's.
  const first = rec.batches().next().value!;
  const ev = decodeEvent(first.view, 0);
  assert.equal(ev.pid, 10);
  assert.equal(ev.comm, 'proc10');
  rec.close();
});

test('empty recording (no records) is valid and has no warnings', () => {
  const file = path.join(dir, 'empty-rec.socktop');
  writeRecording(file, new Uint8Array(0));
  const rec = openRecording(file);
  assert.equal(rec.records, 0);
  assert.deepEqual(rec.warnings, []);
  assert.equal(rec.durationNs, 0);
  assert.equal(rec.recordsUntil(1e9), 0);
  assert.equal([...rec.batches()].length, 0);
  rec.close();
});

test('recordsUntil: running maximum of timestamps, exact per record', () => {
  const file = path.join(dir, 'until.socktop');
  // 300 records 10 ms apart, one late (out-of-order) record in the middle.
  const recs = makeRecords(300, { stepNs: 10_000_000n });
  writeRecord(recs, 150 * RECORD_SIZE, { ts: 5_000_000_000_000n + 1_400_000_000n, pid: 5 }); // ts of #140
  writeRecording(file, recs, { frameBytes: 2048 });
  const rec = openRecording(file);
  assert.equal(rec.recordsUntil(-1), 0);
  assert.equal(rec.recordsUntil(0), 1);
  assert.equal(rec.recordsUntil(5e6), 1);
  assert.equal(rec.recordsUntil(10e6), 2);
  assert.equal(rec.recordsUntil(1_000_000_000), 101);
  assert.equal(rec.recordsUntil(1_495_000_000), 150 + 1); // #150 (ts of #140) is due with #149
  assert.equal(rec.recordsUntil(2_990_000_000), 300);
  assert.equal(rec.recordsUntil(1e12), 300);
  rec.close();
});

// ------------------------------------------------------------------------------------ cut files

test('cut at every byte offset: whole records before the cut, a warning, never a crash', () => {
  const file = path.join(dir, 'small.socktop');
  const records = makeRecords(23, { pids: [100, 101] });
  writeRecording(file, records, { frameBytes: 640, batch: 4, processes: true }); // frames of <=5 records
  const full = fs.readFileSync(file);
  const { headerLen, recordEnds } = layoutOf(full);
  assert.equal(recordEnds.length, 23);
  const cut = path.join(dir, 'cut.socktop');
  for (let len = 0; len <= full.length; len++) {
    fs.writeFileSync(cut, full.subarray(0, len));
    if (len < headerLen) {
      expectError(() => openRecording(cut), len === 0 ? 'EEMPTY' : 'ETRUNCATED', len === 0 ? /empty/ : /cut short inside its header/);
      continue;
    }
    const rec = openRecording(cut);
    const whole = recordEnds.filter((e) => e <= len).length;
    assert.equal(rec.records, whole, `cut at ${len}`);
    assert.deepEqual(Buffer.from(readAll(rec)), Buffer.from(records.subarray(0, whole * RECORD_SIZE)), `cut at ${len}`);
    if (len < full.length) {
      assert.equal(rec.warnings.length, 1, `one warning at ${len}: ${rec.warnings.join(' | ')}`);
      assert.match(rec.warnings[0], /cut short|no end marker/);
      assert.ok(!rec.warnings[0].includes('\n'));
      assert.equal(rec.truncated, true);
    } else {
      assert.deepEqual(rec.warnings, []);
    }
    rec.close();
  }
});

test('a file cut short says how many records it replays', () => {
  const file = path.join(dir, 'cut-msg.socktop');
  writeRecording(file, makeRecords(100), { frameBytes: 4096 });
  const full = fs.readFileSync(file);
  fs.writeFileSync(file, full.subarray(0, full.length - 500));
  const rec = openRecording(file);
  assert.match(rec.warnings[0], /recording was cut short after \d+ records: replaying up to the last whole record/);
  assert.match(rec.warnings[0], new RegExp(`after ${rec.records} records`));
  rec.close();
});

test('a zero-filled tail (crash before the data reached the disk) is a warning, not an error', () => {
  const file = path.join(dir, 'zeros.socktop');
  writeRecording(file, makeRecords(50), { frameBytes: 10 * RECORD_SIZE });
  const full = fs.readFileSync(file);
  const { frameEnds } = layoutOf(full);
  const keep = frameEnds[1];
  fs.writeFileSync(file, Buffer.concat([full.subarray(0, keep), Buffer.alloc(3000)]));
  const rec = openRecording(file);
  assert.equal(rec.records, 20);
  assert.equal(rec.warnings.length, 1);
  assert.match(rec.warnings[0], /zero bytes/);
  rec.close();
});

test('a damaged last frame (torn write) is dropped with a warning; in the middle it is an error', () => {
  const file = path.join(dir, 'torn.socktop');
  writeRecording(file, makeRecords(30), { frameBytes: 10 * RECORD_SIZE }); // 10 records per frame + END
  const full = fs.readFileSync(file);
  const { frameEnds } = layoutOf(full);
  // Drop the END frame, then damage the payload of the last records frame.
  const last = Buffer.from(full.subarray(0, frameEnds[2]));
  last[frameEnds[1] + FRAME_HEADER + 200] ^= 0xff;
  fs.writeFileSync(file, last);
  const rec = openRecording(file);
  assert.equal(rec.records, 20);
  assert.match(rec.warnings[0], /damaged \(torn write\)/);
  rec.close();
  const mid = Buffer.from(full);
  mid[frameEnds[0] + FRAME_HEADER + 200] ^= 0xff;
  fs.writeFileSync(file, mid);
  expectError(() => openRecording(file), 'ECORRUPT', /checksum mismatch in the frame at byte \d+/);
});

// ------------------------------------------------------------------------------------ corruption

test('property: random byte corruption gives valid whole records or a RecordingError (fast-check)', () => {
  const file = path.join(dir, 'corrupt-src.socktop');
  const records = makeRecords(40, { pids: [7, 8, 9] });
  writeRecording(file, records, { frameBytes: 10 * RECORD_SIZE, batch: 6, processes: true });
  const full = fs.readFileSync(file);
  const { recordEnds } = layoutOf(full);
  const bad = path.join(dir, 'corrupt.socktop');
  const flip = fc.record({ at: fc.nat({ max: full.length - 1 }), xor: fc.integer({ min: 1, max: 255 }) });
  fc.assert(
    fc.property(fc.array(flip, { minLength: 1, maxLength: 4 }), fc.option(fc.nat({ max: full.length }), { nil: undefined }), (flips, cutAt) => {
      const buf = Buffer.from(full);
      for (const f of flips) buf[f.at] ^= f.xor;
      fs.writeFileSync(bad, cutAt === undefined ? buf : buf.subarray(0, cutAt));
      let rec: Recording;
      try {
        rec = openRecording(bad);
      } catch (e) {
        assert.ok(e instanceof RecordingError, `not a RecordingError: ${String(e)}`);
        assert.ok(!e.message.includes('\n'));
        return;
      }
      const got = readAll(rec);
      rec.close();
      // Whole records, in order, each exactly as written, except that the payload of a cut last
      // frame cannot be checked (a cut leaves no CRC to check): a record may differ from what was
      // written only if a flipped byte lies inside it.
      assert.ok(rec.records <= 40);
      for (let k = 0; k < rec.records; k++) {
        const a = Buffer.from(got.subarray(k * RECORD_SIZE, (k + 1) * RECORD_SIZE));
        const b = Buffer.from(records.subarray(k * RECORD_SIZE, (k + 1) * RECORD_SIZE));
        if (a.equals(b)) continue;
        assert.ok(cutAt !== undefined, 'an uncut file only ever yields records exactly as written');
        const end = recordEnds[k];
        assert.ok(flips.some((f) => f.at >= end - RECORD_SIZE && f.at < end), `record ${k} changed without a flip in it`);
      }
    }),
    { numRuns: 1500, seed: SEED },
  );
});

test('property: single flips in a whole file never yield a wrong record (fast-check)', () => {
  const file = path.join(dir, 'flip-src.socktop');
  const records = makeRecords(25);
  writeRecording(file, records, { frameBytes: 10 * RECORD_SIZE, batch: 5, processes: true });
  const full = fs.readFileSync(file);
  const bad = path.join(dir, 'flip.socktop');
  fc.assert(
    fc.property(fc.nat({ max: full.length - 1 }), fc.integer({ min: 1, max: 255 }), (at, xor) => {
      const buf = Buffer.from(full);
      buf[at] ^= xor;
      fs.writeFileSync(bad, buf);
      try {
        const rec = openRecording(bad);
        const got = readAll(rec);
        rec.close();
        assert.ok(Buffer.from(got).equals(Buffer.from(records.subarray(0, got.length))), `flip at ${at}`);
      } catch (e) {
        assert.ok(e instanceof RecordingError, String(e));
      }
    }),
    { numRuns: 1000, seed: SEED },
  );
});

// ------------------------------------------------------------------------------------ foreign, newer

test('foreign, newer, wrong record size, empty, missing: clear one-line errors', () => {
  const f = (name: string, data: Buffer | string): string => {
    const p = path.join(dir, name);
    fs.writeFileSync(p, data);
    return p;
  };
  expectError(() => openRecording(f('text.txt', 'hello, this is not a recording\n')), 'EFOREIGN', /not a socktop recording/);
  expectError(() => openRecording(f('pcap.pcap', Buffer.from([0xd4, 0xc3, 0xb2, 0xa1, 2, 0, 4, 0]))), 'EFOREIGN');
  expectError(() => openRecording(f('short.bin', 'SOCK')), 'ETRUNCATED');
  expectError(() => openRecording(f('shortx.bin', 'SOCX')), 'EFOREIGN');
  expectError(() => openRecording(f('empty.socktop', '')), 'EEMPTY', /empty file/);
  expectError(() => openRecording(path.join(dir, 'does-not-exist.socktop')), 'EIO', /ENOENT/);
  expectError(() => openRecording(dir), 'EIO', /directory/);

  const good = path.join(dir, 'good.socktop');
  writeRecording(good, makeRecords(5));
  const full = fs.readFileSync(good);
  const newer = Buffer.from(full);
  newer.writeUInt16LE(FORMAT_VERSION + 1, 8);
  const e = expectError(() => openRecording(f('newer.socktop', newer)), 'ENEWER', /format version 2 is newer .* upgrade socktop/);
  assert.match(e.message, /newer\.socktop/);
  // A newer record layout in the metadata (its checksums made right): refused the same way.
  const layout = Buffer.from(full);
  const json = layout.toString('latin1', FILE_HEADER_FIXED, FILE_HEADER_FIXED + layout.readUInt32LE(16));
  const at = json.indexOf(`"record_version":${RECORD_VERSION}`);
  assert.ok(at > 0, json);
  layout.write(`"record_version":${RECORD_VERSION + 1}`, FILE_HEADER_FIXED + at, 'latin1');
  layout.writeUInt32LE(crc32(layout, FILE_HEADER_FIXED, FILE_HEADER_FIXED + layout.readUInt32LE(16)), 20);
  layout.writeUInt32LE(crc32(layout, 0, 24), 24);
  expectError(() => openRecording(f('layout.socktop', layout)), 'ENEWER',
    new RegExp(`record layout version ${RECORD_VERSION + 1} is newer than this socktop reads \\(${RECORD_VERSION}\\): upgrade socktop$`));
  const size64 = Buffer.from(full);
  size64.writeUInt16LE(64, 10);
  expectError(() => openRecording(f('size64.socktop', size64)), 'ERECORDSIZE', /64-byte records/);
  const v0 = Buffer.from(full);
  v0.writeUInt16LE(0, 8);
  expectError(() => openRecording(f('v0.socktop', v0)), 'ECORRUPT');
  const hdr = Buffer.from(full);
  hdr[FILE_HEADER_FIXED + 3] ^= 0x20; // inside the JSON
  expectError(() => openRecording(f('hdr.socktop', hdr)), 'ECORRUPT', /header checksum/);
  const len = Buffer.from(full);
  len.writeUInt32LE(0x7fffffff, 16); // impossible JSON length (fixed-header CRC fixed up)
  len.writeUInt32LE(crc32(len, 0, 24), 24);
  expectError(() => openRecording(f('len.socktop', len)), 'ECORRUPT', /impossible header length/);
});

// ------------------------------------------------------------------------------------ write errors

test('write errors (/dev/full): counted, never thrown, device mode untouched', { skip: !fs.existsSync('/dev/full') }, () => {
  const before = fs.statSync('/dev/full').mode;
  const w = RecordingWriter.create('/dev/full', { backend: 'synthetic' }, { timer: false, frameBytes: 4096 });
  const recs = makeRecords(500);
  for (let i = 0; i < 500; i += 50) w.appendRecords(recs.subarray(i * RECORD_SIZE, (i + 50) * RECORD_SIZE), 50);
  w.appendProcessInfo({ pid: 1, comm: 'init' });
  w.flush();
  const st = w.close();
  assert.equal(st.records, 500);
  assert.equal(st.recordsWritten, 0);
  assert.equal(st.recordsLost, 500);
  assert.ok(st.writeErrors >= 1);
  assert.match(st.lastError ?? '', /^ENOSPC: /);
  assert.ok(!(st.lastError ?? '').includes('\n'));
  assert.equal(fs.statSync('/dev/full').mode, before);
});

test('a write error in the middle: records lost are counted and marked by a DROPS stage-3 record, the file stays readable', () => {
  const file = path.join(dir, 'faults.socktop');
  let calls = 0;
  const failing = new Set([3, 4]); // the 3rd and 4th writes (header is the 1st) fail
  const io: WriterIo = {
    writeSync(fd, buf, off, len, pos) {
      calls++;
      if (failing.has(calls)) {
        // a partial write first, then the error: the writer must cut the file back
        fs.writeSync(fd, buf, off, Math.min(len, 100), pos);
        throw Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC' });
      }
      return fs.writeSync(fd, buf, off, len, pos);
    },
    ftruncateSync: (fd, n) => fs.ftruncateSync(fd, n),
  };
  const w = RecordingWriter.create(file, { backend: 'synthetic' }, { timer: false, frameBytes: 10 * RECORD_SIZE, io });
  const recs = makeRecords(50);
  for (let i = 0; i < 50; i += 10) {
    w.appendRecords(recs.subarray(i * RECORD_SIZE, (i + 10) * RECORD_SIZE), 10);
  }
  const st = w.close();
  assert.equal(st.records, 50);
  assert.equal(st.writeErrors, 2);
  // Write 2 held records 10-19; write 3 held the DROPS record for those and records 20-28 (the
  // DROPS record took a slot): 19 lost in all.
  const lost = st.recordsLost;
  assert.equal(lost, 19);
  assert.equal(st.recordsWritten, 50 - lost);
  assert.match(st.lastError ?? '', /^ENOSPC/);
  const rec = openRecording(file);
  assert.deepEqual(rec.warnings, []);
  const got = readAll(rec);
  // Records 0-9, then one DROPS record (stage 3) counting the lost ones, then the rest.
  assert.equal(rec.records, 50 - lost + 1);
  const v = new DataView(got.buffer);
  assert.deepEqual(Buffer.from(got.subarray(0, 10 * RECORD_SIZE)), Buffer.from(recs.subarray(0, 10 * RECORD_SIZE)));
  assert.equal(v.getUint8(10 * RECORD_SIZE + Offset.kind), EventKind.Drops);
  assert.equal(v.getUint8(10 * RECORD_SIZE + Offset.new_state), DropStage.Recording);
  assert.equal(v.getUint32(10 * RECORD_SIZE + Offset.count, true), lost);
  assert.equal(decodeEvent(v, 10 * RECORD_SIZE).stage, 'recording');
  assert.deepEqual(Buffer.from(got.subarray(11 * RECORD_SIZE)), Buffer.from(recs.subarray((10 + lost) * RECORD_SIZE)));
  assert.equal(rec.droppedEvents, lost);
  assert.equal(rec.end?.records_lost, lost);
  rec.close();
});

test('a full disk at close: the lost records are still marked and the file still ends with END', () => {
  const file = path.join(dir, 'fullatclose.socktop');
  let limit = Infinity; // bytes the "disk" holds; a write past it is cut there and fails
  const io: WriterIo = {
    writeSync(fd, buf, off, len, pos) {
      if (pos + len > limit) {
        if (limit > pos) fs.writeSync(fd, buf, off, limit - pos, pos);
        throw Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC' });
      }
      return fs.writeSync(fd, buf, off, len, pos);
    },
    ftruncateSync: (fd, n) => fs.ftruncateSync(fd, n),
  };
  const w = RecordingWriter.create(file, { backend: 'synthetic' }, { timer: false, frameBytes: 64 * 1024, io });
  limit = fs.statSync(file).size + 2048; // room for a small frame, not for the 100 records
  w.appendRecords(makeRecords(100), 100); // buffered: the only write is close()'s
  const st = w.close();
  assert.equal(st.recordsLost, 100);
  assert.equal(st.recordsWritten, 0);
  assert.match(st.lastError ?? '', /^ENOSPC/);
  const rec = openRecording(file);
  assert.deepEqual(rec.warnings, [], 'ends with an END frame');
  assert.equal(rec.end?.records_lost, 100);
  assert.equal(rec.end?.records, 100);
  assert.equal(rec.records, 1, 'only the DROPS record');
  assert.equal(rec.droppedEvents, 100);
  const v = new DataView(readAll(rec).buffer);
  assert.equal(decodeEvent(v, 0).stage, 'recording');
  rec.close();
});

test('unopenable path: RecordingError EIO, one line', () => {
  expectError(() => RecordingWriter.create(path.join(dir, 'no/such/dir/x.socktop'), { backend: 'x' }), 'EIO', /cannot create recording .*ENOENT/);
});

test('flushes by itself at least every flushIntervalMs', async () => {
  const file = path.join(dir, 'timer.socktop');
  const w = RecordingWriter.create(file, { backend: 'synthetic' }, { flushIntervalMs: 100 });
  w.appendRecords(makeRecords(3), 3);
  const headerOnly = fs.statSync(file).size;
  await new Promise((r) => setTimeout(r, 300));
  assert.equal(fs.statSync(file).size, headerOnly + FRAME_HEADER + 3 * RECORD_SIZE);
  const rec = openRecording(file); // readable while still being written: no END yet
  assert.equal(rec.records, 3);
  assert.match(rec.warnings[0], /no end marker/);
  rec.close();
  w.close();
});

// ------------------------------------------------------------------------------------ the hook

test('recording hook: writes batches, describes each new pid once from /proc, mirrors stats', () => {
  const file = path.join(dir, 'hook.socktop');
  const stats = RecordingStatsView.create();
  const h = createRecordingStage(file, { backend: 'tracepoint' }, { timer: false, statsSab: stats.sab });
  const staging = new Uint8Array(64 * RECORD_SIZE);
  const view = new DataView(staging.buffer);
  const me = process.pid;
  const gone = 0x3ffffff0; // no such pid
  for (let i = 0; i < 10; i++) writeRecord(staging, i * RECORD_SIZE, { ts: 1000n + BigInt(i), pid: i % 2 ? me : gone, comm: i % 2 ? 'node' : 'ghost', uid: 0 });
  h.batch(staging, view, 10);
  h.batch(staging, view, 0); // an idle poll
  // The process exits, then a late event of it: no new description (it was described).
  writeRecord(staging, 0, { ts: 2000n, pid: gone, kind: EventKind.Exit, comm: 'ghost' });
  h.batch(staging, view, 1);
  writeRecord(staging, 0, { ts: 2001n, pid: gone, kind: EventKind.Close, comm: 'ghost' });
  h.batch(staging, view, 1);
  const st = h.close();
  assert.equal(st.records, 12);
  assert.equal(st.processes, 2);
  const mirrored = stats.read();
  assert.equal(mirrored.records, 12);
  assert.equal(mirrored.processes, 2);
  assert.equal(mirrored.closed, true);
  assert.equal(mirrored.bytes, fs.statSync(file).size);
  const rec = openRecording(file);
  assert.equal(rec.records, 12);
  const byPid = new Map(rec.processes.map((p) => [p.info.pid, p]));
  const mine = byPid.get(me)!.info;
  assert.equal(mine.from_proc, true);
  assert.match(mine.cmdline ?? '', /node/);
  assert.equal(mine.ppid, process.ppid);
  assert.equal(mine.uid, process.getuid!());
  assert.ok(mine.user && mine.user.length > 0);
  assert.ok(Math.abs((mine.start_wall_ms ?? 0) - (Date.now() - process.uptime() * 1000)) < 5000);
  const ghost = byPid.get(gone)!.info;
  assert.equal(ghost.from_proc, false);
  assert.equal(ghost.comm, 'ghost');
  assert.equal(byPid.get(gone)!.atRecord, 0);
  rec.close();
});

test('readProcDetails: this process, and undefined for a missing pid', () => {
  const info = readProcDetails(process.pid)!;
  assert.equal(info.pid, process.pid);
  assert.ok((info.threads ?? 0) >= 1);
  assert.equal(readProcDetails(0x3ffffff0), undefined);
});

test('the shipped sample (samples/demo.socktop) opens cleanly, with process infos', { skip: !fs.existsSync(path.resolve(__dirname, '../../../samples/demo.socktop')) }, () => {
  const rec = openRecording(path.resolve(__dirname, '../../../samples/demo.socktop'));
  assert.deepEqual(rec.warnings, []);
  assert.ok(rec.records > 500, `${rec.records} records`);
  assert.ok(rec.processes.length > 5);
  assert.ok(rec.durationNs > 5e9);
  const kinds = new Set<string>();
  for (const b of rec.batches()) for (let k = 0; k < b.count; k++) kinds.add(decodeEvent(b.view, k * RECORD_SIZE).kind);
  for (const k of ['listen', 'connect', 'accept', 'close', 'send', 'recv', 'exit']) assert.ok(kinds.has(k), `sample has ${k} events`);
  rec.close();
});
