/**
 * Tests for the replay worker (src/record/replay-worker.ts) through ReplaySource: pacing by the
 * recorded timestamps x speed, lossless feeding at speed 0 into a small ring, pause, seeks (forward,
 * backward with a model reset), process infos, errors. A real worker thread and a real SharedRing.
 */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Offset, RECORD_SIZE } from '../../src/capture/layout';
import { SharedRing } from '../../src/capture/ring';
import { RecordingError } from '../../src/record/format';
import { ReplaySource } from '../../src/record/replay-source';
import { makeRecords, tmpDir, writeRecording } from './fixtures/record-synth';

const dir = tmpDir('socktop-replay-');
after(() => fs.rmSync(dir, { recursive: true, force: true }));
const BASE = 5_000_000_000_000n;

/** 201 records 10 ms apart: 2 s. */
const twoSeconds = path.join(dir, 'two-seconds.socktop');
writeRecording(twoSeconds, makeRecords(201, { base: BASE, stepNs: 10_000_000n, pids: [31, 32] }), {
  frameBytes: 2048, batch: 7, processes: true,
});

/** Drain the ring into a list of relative timestamps (ms) every few ms. */
function collector(src: ReplaySource): { ts: number[]; stop: () => void; drainNow: () => void } {
  const ts: number[] = [];
  const drainNow = (): void => {
    src.ring.drain((v, off) => {
      ts.push(Number(v.getBigUint64(off + Offset.ts_ns, true) - BASE) / 1e6);
    });
  };
  const t = setInterval(drainNow, 2);
  src.on('reset', () => {
    ts.length = 0;
  });
  return { ts, stop: () => clearInterval(t), drainNow };
}

const until = async (cond: () => boolean, ms = 5000): Promise<void> => {
  const t0 = Date.now();
  while (!cond()) {
    if (Date.now() - t0 > ms) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 2));
  }
};

test('pacing: a 2 s recording at speed 4 ends in about 0.5 s, in order, nothing lost', async () => {
  const t0 = performance.now();
  const src = await ReplaySource.open(twoSeconds, { speed: 4 });
  const c = collector(src);
  const ended = new Promise<number>((resolve) => src.once('end', () => resolve(performance.now())));
  const end = await ended;
  c.drainNow();
  c.stop();
  const elapsed = (end - t0) / 1000;
  assert.ok(elapsed >= 0.3 && elapsed <= 1.5, `took ${elapsed.toFixed(3)} s`);
  assert.equal(c.ts.length, 201);
  for (let i = 0; i < 201; i++) assert.equal(c.ts[i], i * 10);
  const p = src.progress();
  assert.equal(p.positionNs, 2e9);
  assert.equal(p.durationNs, 2e9);
  assert.equal(p.records, 201);
  assert.equal(p.totalRecords, 201);
  assert.equal(p.ended, true);
  assert.equal(src.stats().sharedRingDrops, 0);
  assert.equal(src.replayStats().events, 201);
  assert.equal(src.finished(), true);
  assert.equal(src.clockNs(), 5_000_000_000_000 + 2e9);
  assert.equal(src.describe().mode, "replay");
  assert.match(src.describe().detail ?? "", /replay of two-seconds\.socktop: testhost \(6\.1\.0-test\), .*201 events over 0:02\.0/);
  // Process infos arrived (before their pids' first records).
  assert.deepEqual([...src.processes().keys()].sort(), [31, 32]);
  assert.equal(src.processInfo(31)?.cmdline, '/usr/bin/proc31 --serve');
  await src.stop();
});

test('pacing is real: at speed 1, half-way through takes about 1 s', async () => {
  const src = await ReplaySource.open(twoSeconds, { speed: 1 });
  const c = collector(src);
  await new Promise((r) => setTimeout(r, 1000));
  c.drainNow();
  const n = c.ts.length;
  c.stop();
  await src.stop();
  assert.ok(n >= 60 && n <= 140, `records after 1 s at speed 1: ${n}`);
});

test('speed 0 into a tiny ring with a slow consumer: every record, in order, no drops', async () => {
  const file = path.join(dir, 'many.socktop');
  const N = 20000;
  writeRecording(file, makeRecords(N, { base: BASE, stepNs: 1000n }), { batch: 333 });
  const ring = SharedRing.create(64, RECORD_SIZE);
  const src = await ReplaySource.open(file, { speed: 0, ring });
  let next = 0;
  let bad = 0;
  const ended = new Promise<void>((resolve) => src.once('end', () => resolve()));
  const t = setInterval(() => {
    ring.drain((v, off) => {
      const ts = v.getBigUint64(off + Offset.ts_ns, true);
      if (ts !== BASE + BigInt(next) * 1000n) bad++;
      next++;
    }, 50); // slower than the producer could go
  }, 0);
  await ended;
  await until(() => ring.available() === 0);
  clearInterval(t);
  assert.equal(next, N);
  assert.equal(bad, 0);
  assert.equal(ring.drops(), 0);
  await src.stop();
});

test('paused start pushes nothing; seek forward, seek back (reset), seek to start and end land on the right time', async () => {
  const src = await ReplaySource.open(twoSeconds, { speed: 1, paused: true });
  const c = collector(src);
  let resets = 0;
  src.on('reset', () => resets++);
  await new Promise((r) => setTimeout(r, 150));
  c.drainNow();
  assert.equal(c.ts.length, 0);
  assert.equal(src.progress().positionNs, 0);
  assert.equal(src.paused, true);

  src.seekTo(1e9);
  await until(() => !src.seeking());
  c.drainNow();
  assert.equal(c.ts.length, 101);
  assert.equal(c.ts[100], 1000);
  assert.equal(src.progress().positionNs, 1e9);
  assert.equal(src.progress().records, 101);

  src.seekBy(0.5e9); // forward: no reset, 50 more
  await until(() => !src.seeking());
  c.drainNow();
  assert.equal(resets, 0);
  assert.equal(c.ts.length, 151);
  assert.equal(src.progress().positionNs, 1.5e9);

  src.seekBy(-1.255e9); // back to 0.245 s: reset, records with ts <= 240 ms
  await until(() => !src.seeking());
  c.drainNow();
  assert.equal(resets, 1);
  assert.equal(c.ts.length, 25);
  assert.deepEqual(c.ts.slice(0, 3), [0, 10, 20]);
  assert.equal(c.ts[24], 240);
  assert.equal(src.progress().positionNs, 0.245e9);

  src.seekEnd();
  await until(() => !src.seeking() && src.ended);
  c.drainNow();
  assert.equal(c.ts.length, 201);
  assert.equal(src.progress().positionNs, 2e9);

  src.seekStart();
  await until(() => !src.seeking());
  c.drainNow();
  assert.equal(resets, 2);
  assert.deepEqual(c.ts, [0]);
  assert.equal(src.progress().positionNs, 0);
  assert.equal(src.ended, false);

  // Resume at speed 8 from 0: ends in about 0.25 s.
  src.setSpeed(8);
  const t0 = performance.now();
  src.resume();
  await new Promise<void>((resolve) => src.once('end', () => resolve()));
  const took = performance.now() - t0;
  c.drainNow();
  assert.ok(took > 120 && took < 1000, `took ${took} ms`);
  assert.equal(c.ts.length, 201);
  for (let i = 0; i < 201; i++) assert.equal(c.ts[i], i * 10);
  c.stop();
  await src.stop();
});

test('pause holds the position; speed steps', async () => {
  const src = await ReplaySource.open(twoSeconds, { speed: 2 });
  const c = collector(src);
  await new Promise((r) => setTimeout(r, 200));
  src.pause();
  await new Promise((r) => setTimeout(r, 30));
  const p1 = src.progress().positionNs;
  c.drainNow();
  const n1 = c.ts.length;
  await new Promise((r) => setTimeout(r, 200));
  c.drainNow();
  assert.equal(src.progress().positionNs, p1);
  assert.equal(c.ts.length, n1);
  assert.ok(p1 > 0.2e9 && p1 < 0.8e9, `position ${p1}`);
  assert.equal(src.faster(), 4);
  assert.equal(src.slower(), 2);
  src.setSpeed(128);
  assert.equal(src.faster(), 0);
  assert.equal(src.slower(), 128);
  c.stop();
  await src.stop();
});

test('errors: a foreign file rejects with RecordingError EFOREIGN; a cut file replays with its warning', async () => {
  const foreign = path.join(dir, 'foreign.txt');
  fs.writeFileSync(foreign, 'GET / HTTP/1.1\r\n\r\n');
  await assert.rejects(ReplaySource.open(foreign), (e: unknown) => e instanceof RecordingError && e.code === 'EFOREIGN');
  await assert.rejects(ReplaySource.open(path.join(dir, 'missing.socktop')), (e: unknown) => e instanceof RecordingError && e.code === 'EIO');
  const cut = path.join(dir, 'cut.socktop');
  const full = fs.readFileSync(twoSeconds);
  fs.writeFileSync(cut, full.subarray(0, full.length - 1000));
  const src = await ReplaySource.open(cut, { speed: 0 });
  assert.equal(src.warnings.length, 1);
  assert.match(src.warnings[0], /cut short/);
  const c = collector(src);
  await new Promise<void>((resolve) => src.once('end', () => resolve()));
  c.drainNow();
  c.stop();
  assert.equal(c.ts.length, src.info.records);
  assert.ok(src.info.records < 201 && src.info.records > 180);
  await src.stop();
});
