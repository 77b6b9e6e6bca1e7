/**
 * Issue 10, hostile input, reading side (src/record/reader.ts salvage, commands.ts, the CLI):
 *
 * - `socktop replay` of a FIFO, /dev/zero or a directory ends at once with one line, "... is not a
 *   regular file (a FIFO)", exit 2 (it used to hang in open() for ever, deaf to Ctrl-C);
 * - Ctrl-C ends replay's waits (--json blocked on a stdout nobody reads, the open);
 * - one damaged byte replays everything else: the records of every intact frame, exactly as the
 *   undamaged file's replay prints them, one warning naming the place, a DROPS record (stage
 *   recording) counting the records lost, exit 1 (0 for damage in the last frame: a torn write);
 * - our magic followed by garbage is "corrupt", not "newer: upgrade socktop";
 * - ~20 random flips through the CLI: never a stack trace, one stderr line per problem.
 *
 * The recording is the shipped sample (a real capture), as it is (48 PROCESS frames, one RECORDS
 * frame, END) and rewritten with small frames (the same records and processes, ~30 RECORDS frames).
 */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { PassThrough } from 'node:stream';
import { RECORD_SIZE } from '../../src/capture/layout';
import { FILE_HEADER_FIXED, FRAME_HEADER, FrameType, RecordingError, crc32 } from '../../src/record/format';
import { Recording, openRecording } from '../../src/record/reader';
import { ReplaySource } from '../../src/record/replay-source';
import { replayCommand, replayJson } from '../../src/record/commands';
import { RecordingWriter } from '../../src/record/writer';
import type { DataSource } from '../../src/source';
import { tmpDir } from './fixtures/record-synth';

const CLI = path.resolve(__dirname, '../../src/cli/main.js');
const SAMPLE = path.resolve(__dirname, '../../../samples/demo.socktop');
const dir = tmpDir('socktop-damage-');
after(() => fs.rmSync(dir, { recursive: true, force: true }));

const STACK_LINE = /^\s+at /m;

interface Run { status: number | null; stdout: string; stderr: string; ms: number }
function replayCli(args: string[], timeoutMs = 20000): Run {
  const t0 = Date.now();
  const r = spawnSync(process.execPath, [CLI, 'replay', ...args], {
    encoding: 'utf8', timeout: timeoutMs, killSignal: 'SIGKILL', maxBuffer: 256 << 20, stdio: ['ignore', 'pipe', 'pipe'],
  });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr, ms: Date.now() - t0 };
}

const lines = (s: string): string[] => s.split('\n').filter((l) => l);

// ------------------------------------------------------------------------------------ fixtures

/** The sample, copied (never damage the shipped file). */
const demo = path.join(dir, 'demo.socktop');
fs.copyFileSync(SAMPLE, demo);
const demoBytes = fs.readFileSync(demo);

/** The same records and process descriptions, in frames of at most 24 records. */
const framed = path.join(dir, 'framed.socktop');
{
  const rec = openRecording(demo);
  const w = RecordingWriter.create(framed, {
    backend: rec.header.backend, host: rec.header.host, kernel: rec.header.kernel,
    startWallMs: rec.header.startWallMs, startMonoNs: rec.header.startMonoNs,
  }, { timer: false, frameBytes: 24 * RECORD_SIZE });
  let k = 0;
  let p = 0;
  for (const b of rec.batches(0, 7)) {
    for (let i = 0; i < b.count; i++, k++) {
      while (p < rec.processes.length && rec.processes[p].atRecord <= k) w.appendProcessInfo(rec.processes[p++].info);
      w.appendRecords(b.bytes.subarray(i * RECORD_SIZE, (i + 1) * RECORD_SIZE), 1);
    }
  }
  w.close();
  rec.close();
}
const framedBytes = fs.readFileSync(framed);

interface Frame { type: number; off: number; len: number; first: number; count: number }
/** The frames of an intact file, with the index of each RECORDS frame's first record. */
function framesOf(buf: Buffer): Frame[] {
  const out: Frame[] = [];
  let pos = buf.readUInt32LE(12);
  let rec = 0;
  while (pos < buf.length) {
    const type = buf[pos];
    const len = buf.readUInt32LE(pos + 4);
    const count = type === FrameType.Records ? len / RECORD_SIZE : 0;
    out.push({ type, off: pos, len, first: rec, count });
    rec += count;
    pos += FRAME_HEADER + len;
  }
  assert.equal(pos, buf.length);
  return out;
}

/** What replay --json prints for the intact files (the reference). */
const demoJson = lines(replayCli([demo, '--json']).stdout);
const framedJson = lines(replayCli([framed, '--json']).stdout);

test('fixtures: the sample has many PROCESS frames and one RECORDS frame; the rewrite has many RECORDS frames, same events', () => {
  const d = framesOf(demoBytes);
  const f = framesOf(framedBytes);
  assert.ok(d.filter((x) => x.type === FrameType.Process).length > 10);
  assert.equal(d.filter((x) => x.type === FrameType.Records).length, 1);
  assert.ok(f.filter((x) => x.type === FrameType.Records).length > 20);
  assert.equal(demoJson.length, 742);
  assert.deepEqual(framedJson, demoJson);
});

let flips = 0;
function flipped(src: Buffer, at: number, xor = 0x5a): string {
  const b = Buffer.from(src);
  b[at] ^= xor;
  const f = path.join(dir, `flip-${++flips}-at-${at}.socktop`);
  fs.writeFileSync(f, b);
  return f;
}

const DROPS_LINE = /^\{"ts_ns":\d+,"kind":"drops","pid":0,"tid":0,"uid":0,"comm":"","stage":"recording","dropped":(\d+)\}$/;

/** One warning line on stderr, matching re. */
function oneWarning(r: Run, re: RegExp): void {
  const ls = lines(r.stderr);
  assert.equal(ls.length, 1, `one warning: ${r.stderr}`);
  assert.match(ls[0], /^socktop: warning: /);
  assert.match(ls[0], re);
  assert.doesNotMatch(r.stderr, STACK_LINE);
}

// ------------------------------------------------------------------------------------ not a regular file

test('replay of a FIFO, /dev/zero or a directory: at once, one line, exit 2 (TUI, --json, -b)', { timeout: 60000 }, () => {
  const fifo = path.join(dir, 'a.fifo');
  assert.equal(spawnSync('mkfifo', [fifo]).status, 0);
  const cases: Array<[string, RegExp]> = [
    [fifo, /a\.fifo is not a regular file \(a FIFO\)/],
    ['/dev/zero', /\/dev\/zero is not a regular file \(a character device\)/],
    [dir, /is not a regular file \(a directory\)/],
  ];
  for (const [file, re] of cases) {
    for (const extra of [[], ['--json'], ['-b', '-n', '1']]) {
      const r = replayCli([file, ...extra], 10000);
      assert.equal(r.status, 2, `${file} ${extra.join(' ')}: exit ${r.status} after ${r.ms} ms: ${r.stderr}`);
      assert.ok(r.ms < 8000, `prompt: ${r.ms} ms`);
      const ls = lines(r.stderr);
      assert.equal(ls.length, 1, r.stderr);
      assert.match(ls[0], /^socktop: /);
      assert.match(ls[0], re);
      assert.doesNotMatch(ls[0], /empty/);
    }
  }
  assert.throws(() => openRecording(fifo), (e: unknown) => e instanceof RecordingError && /not a regular file \(a FIFO\)/.test(e.message));
});

// ------------------------------------------------------------------------------------ Ctrl-C

/** A recording whose JSON is far more than a pipe holds. */
function bigRecording(): string {
  const f = path.join(dir, 'big.socktop');
  if (fs.existsSync(f)) return f;
  const rec = openRecording(demo);
  const parts: Buffer[] = [];
  for (const b of rec.batches()) parts.push(Buffer.from(b.bytes));
  const all = Buffer.concat(parts);
  const w = RecordingWriter.create(f, { backend: 'x' }, { timer: false });
  for (let i = 0; i < 40; i++) w.appendRecords(all, rec.records);
  w.close();
  rec.close();
  return f;
}

test('Ctrl-C ends replay --json while stdout does not drain (one signal, not two)', { timeout: 30000 }, async () => {
  const f = bigRecording();
  const child = spawn(process.execPath, [CLI, 'replay', f, '--json'], { stdio: ['ignore', 'pipe', 'pipe'] });
  let err = '';
  child.stderr.setEncoding('utf8').on('data', (d) => (err += d));
  child.stdout.pause(); // nobody reads: the child waits for the pipe to drain
  const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
  await new Promise((r) => setTimeout(r, 1000));
  assert.equal(child.exitCode, null, 'still waiting on stdout');
  const t0 = Date.now();
  child.kill('SIGINT');
  const timer = setTimeout(() => child.kill('SIGKILL'), 8000);
  const code = await exited;
  clearTimeout(timer);
  assert.equal(code, 0, `ended by the one SIGINT (exit ${code}): ${err}`);
  assert.ok(Date.now() - t0 < 5000);
  assert.doesNotMatch(err, STACK_LINE);
  child.stdout.destroy();
});

test('replay --json stops on a stop signal; an interrupted open ends the TUI/batch replay with 130', async () => {
  const f = bigRecording();
  const ac = new AbortController();
  const out = new PassThrough({ highWaterMark: 1024 }); // never read: write() says wait
  const running = replayJson(f, out, new PassThrough(), ac.signal);
  setTimeout(() => ac.abort(), 100);
  assert.equal(await running, 0);
  const stopped = new AbortController();
  stopped.abort();
  await assert.rejects(ReplaySource.open(f, { signal: stopped.signal }), (e: unknown) => e instanceof RecordingError && e.code === 'EINTR');
  assert.equal(await replayCommand({ file: f, batch: true }, { runBatch: async () => 0, stopSignal: stopped.signal, stderr: new PassThrough() }), 130);
});

// ------------------------------------------------------------------------------------ one damaged byte

/** The reference lines without the records of `lost` frames, a drops line where each was. */
function expectedWithout(ref: string[], frames: Frame[]): Array<string | number> {
  const out: Array<string | number> = [];
  const lost = new Map(frames.map((f) => [f.first, f]));
  for (let i = 0; i < ref.length; ) {
    const f = lost.get(i);
    if (f && f.count > 0) {
      out.push(f.count); // a drops line counting them
      i += f.count;
    } else {
      out.push(ref[i++]);
    }
  }
  return out;
}

function checkOutput(r: Run, expected: Array<string | number>, what: string): void {
  const got = lines(r.stdout);
  assert.equal(got.length, expected.length, `${what}: ${got.length} lines, expected ${expected.length}`);
  for (let i = 0; i < got.length; i++) {
    const e = expected[i];
    if (typeof e === 'number') {
      const m = DROPS_LINE.exec(got[i]);
      assert.ok(m, `${what}: line ${i + 1} should be the DROPS record: ${got[i]}`);
      assert.equal(Number(m![1]), e, `${what}: records lost`);
    } else {
      assert.equal(got[i], e, `${what}: line ${i + 1}`);
    }
  }
}

test('the sample, one flip in the file header\'s metadata, a PROCESS frame, the RECORDS frame, the END frame', () => {
  const frames = framesOf(demoBytes);
  const proc = frames.find((f) => f.type === FrameType.Process)!;
  const records = frames.find((f) => f.type === FrameType.Records)!;
  const end = frames[frames.length - 1];
  assert.equal(end.type, FrameType.End);

  // Header metadata (JSON): every record, exit 1, the place named.
  let r = replayCli([flipped(demoBytes, FILE_HEADER_FIXED + 5), '--json']);
  assert.equal(r.status, 1, r.stderr);
  oneWarning(r, /damaged recording: checksum mismatch in the file header's metadata \(bytes 32-\d+\)/);
  assert.deepEqual(lines(r.stdout), demoJson);

  // A PROCESS frame's payload: every record (a process description lost), exit 1.
  r = replayCli([flipped(demoBytes, proc.off + FRAME_HEADER + 10), '--json']);
  assert.equal(r.status, 1, r.stderr);
  oneWarning(r, new RegExp(`checksum mismatch in frame 1 \\(process\\) at byte ${proc.off}: skipped it, a process description lost`));
  assert.deepEqual(lines(r.stdout), demoJson);

  // The RECORDS frame, mid-file: its 742 records lost and counted; the END frame after it still read.
  const at = records.off + FRAME_HEADER + Math.floor(records.len / 2);
  r = replayCli([flipped(demoBytes, at), '--json']);
  assert.equal(r.status, 1, r.stderr);
  const idx = frames.indexOf(records) + 1;
  oneWarning(r, new RegExp(`checksum mismatch in frame ${idx} \\(records\\) at byte ${records.off}: skipped it, 742 records lost, counted as recording drops$`));
  checkOutput(r, [742], 'records frame');

  // The last frame (END): a torn write, every record, exit 0 with the warning.
  r = replayCli([flipped(demoBytes, end.off + FRAME_HEADER + 3), '--json']);
  assert.equal(r.status, 0, r.stderr);
  oneWarning(r, /the last frame of the recording is damaged \(torn write\): replaying the 742 records before it/);
  assert.deepEqual(lines(r.stdout), demoJson);
  // The END frame's header: its payload checksum still vouches for the payload.
  r = replayCli([flipped(demoBytes, end.off + 2), '--json']);
  assert.equal(r.status, 0, r.stderr);
  oneWarning(r, new RegExp(`the last frame of the recording is damaged: damaged frame header \\(frame ${frames.length}\\) at byte ${end.off}: its payload is intact`));
  assert.deepEqual(lines(r.stdout), demoJson);
});

test('megabytes of garbage after a valid header are damage (exit 1), not a torn last write', () => {
  const headerLen = demoBytes.readUInt32LE(12);
  const junk = Buffer.alloc(2 << 20);
  let x = 12345;
  for (let i = 0; i < junk.length; i++) {
    x = (Math.imul(x, 1103515245) + 12345) >>> 0;
    junk[i] = x >>> 24;
  }
  const f = path.join(dir, 'junk.socktop');
  fs.writeFileSync(f, Buffer.concat([demoBytes.subarray(0, headerLen), junk]));
  const r = replayCli([f, '--json']);
  assert.equal(r.status, 1, r.stderr);
  oneWarning(r, new RegExp(`damaged frame header \\(frame 1\\) at byte ${headerLen}: skipped the last ${junk.length} bytes of the file, up to \\d+ records lost`));
  const out = lines(r.stdout);
  assert.equal(out.length, 1);
  assert.match(out[0], DROPS_LINE);
});

test('small frames: one flip early, mid-file, in the last RECORDS frame, in a frame header: only that frame is lost', () => {
  const frames = framesOf(framedBytes);
  const recFrames = frames.filter((f) => f.type === FrameType.Records && f.count > 0);
  const picks: Array<[string, Frame]> = [
    ['early', recFrames[0]],
    ['mid-file', recFrames[Math.floor(recFrames.length / 2)]],
    ['last records frame', recFrames[recFrames.length - 1]],
  ];
  for (const [what, f] of picks) {
    const n = frames.indexOf(f) + 1;
    // In the payload: the frame header is intact, the frame is skipped exactly.
    const r = replayCli([flipped(framedBytes, f.off + FRAME_HEADER + RECORD_SIZE * Math.floor(f.count / 2) + 17), '--json']);
    assert.equal(r.status, 1, `${what}: ${r.stderr}`);
    oneWarning(r, new RegExp(`damaged recording: checksum mismatch in frame ${n} \\(records\\) at byte ${f.off}: skipped it, ${f.count} records lost, counted as recording drops$`));
    checkOutput(r, expectedWithout(framedJson, [f]), what);
  }
  const f = recFrames[Math.floor(recFrames.length / 3)];
  const n = frames.indexOf(f) + 1;
  // Its length field: the header checksum fails and its length leads nowhere, the search finds the
  // next frame; the payload checksum field survived and matches the payload: replayed, nothing lost.
  let r = replayCli([flipped(framedBytes, f.off + 5), '--json']);
  assert.equal(r.status, 1, r.stderr);
  oneWarning(r, new RegExp(`damaged frame header \\(frame ${n}\\) at byte ${f.off}: its payload is intact \\(checksum\\): replayed it$`));
  assert.deepEqual(lines(r.stdout), framedJson);
  // Its payload checksum field: the payload cannot be vouched for; type and length say how much is lost.
  r = replayCli([flipped(framedBytes, f.off + 9), '--json']);
  assert.equal(r.status, 1, r.stderr);
  const next = frames[frames.indexOf(f) + 1].off;
  oneWarning(r, new RegExp(`damaged frame header \\(frame ${n}\\) at byte ${f.off}: skipped ${next - f.off} bytes to the next intact frame at byte ${next}, ${f.count} records lost, counted as recording drops$`));
  checkOutput(r, expectedWithout(framedJson, [f]), 'payload checksum field');
  // Header and payload both hit: lost, counted.
  const b = Buffer.from(framedBytes);
  b[f.off + 6] ^= 0x11;
  b[f.off + FRAME_HEADER + 40] ^= 0x22;
  const both = path.join(dir, 'both.socktop');
  fs.writeFileSync(both, b);
  r = replayCli([both, '--json']);
  assert.equal(r.status, 1, r.stderr);
  oneWarning(r, new RegExp(`damaged frame header \\(frame ${n}\\) at byte ${f.off}: skipped \\d+ bytes to the next intact frame at byte ${next}, (up to )?${f.count} records lost`));
  checkOutput(r, expectedWithout(framedJson, [f]), 'header and payload');
});

test('the file header: each of its fields damaged, every record still replayed (exit 1, one warning)', () => {
  const fields: Array<[string, number, RegExp]> = [
    ['magic', 3, /its magic bytes, its checksum intact/],
    ['version', 9, /its format version reads \d+, its checksum says 1/],
    ['record size', 10, /its record size reads \d+, its checksum says (128|160)/],
    ['header length', 13, /its metadata intact: replaying every frame/],
    ['JSON length', 16, /its metadata intact: replaying every frame/],
    ['JSON checksum', 21, /its metadata unverified; replaying the frames from byte \d+/],
    ['header checksum', 25, /its metadata intact: replaying every frame/],
    ['JSON', 40, /checksum mismatch in the file header's metadata/],
  ];
  for (const [what, at, re] of fields) {
    const r = replayCli([flipped(demoBytes, at, 0x01), '--json']);
    assert.equal(r.status, 1, `${what}: ${r.stderr}`);
    oneWarning(r, re);
    assert.deepEqual(lines(r.stdout), demoJson, what);
  }
  // Bytes 28-31 are reserved, outside every checksum: a flip there changes nothing.
  const r = replayCli([flipped(demoBytes, 29, 0x01), '--json']);
  assert.equal(r.status, 0, r.stderr);
  assert.equal(r.stderr, '');
  assert.deepEqual(lines(r.stdout), demoJson);
});

test('our magic followed by garbage is a corrupt file, not a newer one: strict and replay', () => {
  const b = Buffer.alloc(4096);
  for (let i = 0; i < b.length; i++) b[i] = (i * 7919 + 13) & 0xff;
  Buffer.from('SOCKTOP\0', 'latin1').copy(b, 0);
  b.writeUInt16LE(20354, 8);
  const f = path.join(dir, 'garbage.socktop');
  fs.writeFileSync(f, b);
  for (const salvage of [false, true]) {
    assert.throws(() => openRecording(f, { salvage }), (e: unknown) => e instanceof RecordingError && e.code === 'ECORRUPT'
      && /damaged file header \(format version 20354 is no version socktop ever wrote\)/.test(e.message) && !/newer|upgrade/.test(e.message));
  }
  const r = replayCli([f, '--json']);
  assert.equal(r.status, 2);
  assert.equal(lines(r.stderr).length, 1);
  assert.match(r.stderr, /^socktop: .*garbage\.socktop: corrupt recording: damaged file header/);
  assert.doesNotMatch(r.stderr, /newer|upgrade/);
  // A plausible newer version with an intact header is still "newer".
  const newer = Buffer.from(demoBytes);
  newer.writeUInt16LE(2, 8);
  newer.writeUInt32LE(crc32(newer, 0, 24), 24);
  const nf = path.join(dir, 'newer.socktop');
  fs.writeFileSync(nf, newer);
  assert.match(replayCli([nf, '--json']).stderr, /format version 2 is newer than this socktop reads \(1\): upgrade socktop/);
});

// ------------------------------------------------------------------------------------ the library

/** Non-drops lines are the reference in order, minus some: a subsequence. */
function isSubsequence(got: string[], ref: string[]): boolean {
  let j = 0;
  for (const l of got) {
    if (DROPS_LINE.test(l)) continue;
    while (j < ref.length && ref[j] !== l) j++;
    if (j === ref.length) return false;
    j++;
  }
  return true;
}

function jsonOf(rec: Recording): string[] {
  const out: string[] = [];
  // eslint-disable-next-line @typescript-eslint/no-var-requires
  const { jsonLine } = require('../../src/capture/json-line') as typeof import('../../src/capture/json-line');
  for (const b of rec.batches(0, 100)) for (let k = 0; k < b.count; k++) out.push(jsonLine(b.view, k * RECORD_SIZE));
  return out;
}

test('many damaged places: five warnings and a summary, the DROPS records add up, seeks see them', () => {
  const frames = framesOf(framedBytes).filter((f) => f.type === FrameType.Records && f.count > 0);
  const hit = frames.filter((_, i) => i % 3 === 1).slice(0, 8);
  const b = Buffer.from(framedBytes);
  for (const f of hit) b[f.off + FRAME_HEADER + 3] ^= 0xff;
  const file = path.join(dir, 'many.socktop');
  fs.writeFileSync(file, b);
  const rec = openRecording(file, { salvage: true });
  try {
    const lost = hit.reduce((s, f) => s + f.count, 0);
    assert.equal(rec.damage.length, hit.length);
    assert.equal(rec.damagedRecords, lost);
    assert.equal(rec.warnings.length, 6);
    assert.match(rec.warnings[5], new RegExp(`${hit.length - 5} more damaged places not listed \\(${lost} records lost in all`));
    assert.deepEqual(rec.damage.map((d) => d.offset), hit.map((f) => f.off));
    assert.equal(rec.droppedEvents, lost);
    assert.equal(rec.records, 742 - lost + hit.length);
    const got = jsonOf(rec);
    checkOutput({ stdout: got.join('\n'), stderr: '', status: 1, ms: 0 }, expectedWithout(framedJson, hit), 'many');
    // Random access over the in-memory DROPS records: every batch from every start agrees.
    for (const from of [0, 1, 100, 371, rec.records - 1]) {
      const part: string[] = [];
      // eslint-disable-next-line @typescript-eslint/no-var-requires
      const { jsonLine } = require('../../src/capture/json-line') as typeof import('../../src/capture/json-line');
      for (const bt of rec.batches(from, 13)) for (let k = 0; k < bt.count; k++) part.push(jsonLine(bt.view, k * RECORD_SIZE));
      assert.deepEqual(part, got.slice(from));
    }
    assert.equal(rec.recordsUntil(Infinity), rec.records);
    // recordsUntil (the seek index) agrees with a brute-force running maximum, at the DROPS records' times too.
    const ts = got.map((l) => Number(/"ts_ns":(\d+)/.exec(l)![1]));
    const until = (rel: number): number => {
      let max = -Infinity;
      for (let k = 0; k < ts.length; k++) {
        max = Math.max(max, ts[k]);
        if (max > rec.firstTsNs + rel) return k;
      }
      return ts.length;
    };
    const rels = got.flatMap((l, k) => (DROPS_LINE.test(l) ? [ts[k] - rec.firstTsNs, ts[k] - rec.firstTsNs - 1] : []));
    for (const rel of [...rels, 0, 1e9, 5e9, rec.durationNs]) assert.equal(rec.recordsUntil(rel), until(rel), `at ${rel}`);
  } finally {
    rec.close();
  }
  // Read strictly, the same file is an error (tools that must not guess).
  assert.throws(() => openRecording(file), (e: unknown) => e instanceof RecordingError && e.code === 'ECORRUPT');
});

test('replay in the TUI/batch path: the DROPS record reaches the ring, the exit status says damage', async () => {
  const frames = framesOf(framedBytes).filter((f) => f.type === FrameType.Records && f.count > 0);
  const f = frames[3];
  const file = flipped(framedBytes, f.off + FRAME_HEADER + 1);
  const err = new PassThrough();
  let text = '';
  err.on('data', (d) => (text += d));
  let drained = 0;
  let dropped = 0;
  const code = await replayCommand({ file, batch: true, speed: 0 }, {
    stderr: err,
    runBatch: async (src: DataSource) => {
      while (!src.finished?.() || src.ring.available() > 0) {
        drained += src.ring.drain((v, off) => {
          if (v.getUint8(off + 56) === 14) dropped += v.getUint32(off + 68, true);
        });
        await new Promise((r) => setTimeout(r, 2));
      }
      return 0;
    },
  });
  assert.equal(code, 1);
  assert.equal(drained, 742 - f.count + 1);
  assert.equal(dropped, f.count);
  assert.match(text, /^socktop: warning: .*damaged recording: checksum mismatch in frame \d+ \(records\)[^\n]*\n$/);
});

test('property: 400 random flips (in process): no exception but RecordingError, the rest of the records intact', () => {
  let seed = 0x5eed1234;
  const rand = (n: number): number => {
    seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
    return seed % n;
  };
  const file = path.join(dir, 'prop.socktop');
  for (let i = 0; i < 400; i++) {
    const src = i % 2 ? framedBytes : demoBytes;
    const ref = i % 2 ? framedJson : demoJson;
    const b = Buffer.from(src);
    b[rand(b.length)] ^= 1 + rand(255);
    fs.writeFileSync(file, b);
    let rec: Recording;
    try {
      rec = openRecording(file, { salvage: true });
    } catch (e) {
      assert.ok(e instanceof RecordingError, String(e));
      assert.ok(!e.message.includes('\n'));
      continue;
    }
    try {
      const got = jsonOf(rec);
      assert.ok(isSubsequence(got, ref), `flip ${i}: records changed`);
      assert.ok(rec.warnings.length <= 2, rec.warnings.join(' | '));
      for (const w of rec.warnings) assert.ok(!w.includes('\n'));
    } finally {
      rec.close();
    }
  }
});

test('fuzz: 20 random flips through the CLI: never a stack trace, one stderr line per problem, a documented exit', { timeout: 120000 }, () => {
  let seed = 0xc0ffee;
  const rand = (n: number): number => {
    seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
    return seed % n;
  };
  for (let i = 0; i < 20; i++) {
    const src = i % 2 ? framedBytes : demoBytes;
    const ref = i % 2 ? framedJson : demoJson;
    // Bias half of them to the first 400 bytes: the headers are small and the interesting part.
    const at = i % 4 < 2 ? rand(Math.min(400, src.length)) : rand(src.length);
    const file = flipped(src, at, 1 + rand(255));
    const r = replayCli([file, '--json']);
    const what = `flip at ${at}: exit ${r.status}: ${r.stderr}`;
    assert.doesNotMatch(r.stderr, STACK_LINE, what);
    assert.doesNotMatch(r.stderr, /internal error|--verbose/, what);
    assert.ok([0, 1, 2].includes(r.status ?? -1), what);
    const errs = lines(r.stderr);
    for (const l of errs) assert.match(l, /^socktop: /, what);
    assert.ok(errs.length <= 2, what);
    if (r.status === 2) {
      assert.equal(errs.length, 1, what);
      assert.equal(r.stdout, '');
    } else {
      assert.ok(isSubsequence(lines(r.stdout), ref), what);
      if (r.status === 1) assert.ok(errs.some((l) => /damaged/.test(l)), what);
    }
  }
});
