/**
 * The triggered recorder (src/record/trigger-stage.ts) on real files, fed synthetic records in
 * batches as the capture worker would: what each incident file holds (the seconds before the
 * moment, the seconds after, nothing more), a firing inside --after extending the same file, the
 * next incident in the next file, firings with no file left counted, and the memory cap's losses
 * written as a DROPS record where they were.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { DropStage, EventKind as K, RECORD_SIZE } from '../../src/capture/layout';
import { decodeEvent } from '../../src/capture/decode';
import { openRecording } from '../../src/record/reader';
import { createTriggerStage, TriggerStatsView } from '../../src/record/trigger-stage';
import { kernelSock, makeRecord, MS, pack, SEC } from './helpers/records';

const T0 = 5000 * SEC;
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'socktop-trigger-'));

function stage(name: string, files: number, opts: { before?: number; after?: number; maxBytes?: number } = {}) {
  const paths = Array.from({ length: files }, (_, i) => path.join(dir, `${name}.${i}.socktop`));
  const fds = paths.map((p) => fs.openSync(p, 'wx', 0o600));
  const view = TriggerStatsView.create();
  let clock = T0;
  const s = createTriggerStage({
    conditions: ['refused>0'], beforeSec: opts.before ?? 2, afterSec: opts.after ?? 2, maxBytes: opts.maxBytes ?? 64e6,
    paths, fds, triggerSab: view.sab,
  }, { header: { backend: 'synthetic' }, nowNs: () => clock });
  let serial = 0;
  /** One batch at `ts`: `quiet` socket records of pid 1, `refused` refused connects of pid 2. */
  const at = (ts: number, quiet: number, refused = 0) => {
    clock = ts + 300 * MS;
    const recs: Uint8Array[] = [];
    for (let i = 0; i < quiet; i++) recs.push(makeRecord({ kind: K.Socket, pid: 1, comm: 'quiet', sock: kernelSock(++serial), ts_ns: ts }));
    for (let i = 0; i < refused; i++) {
      recs.push(makeRecord({
        kind: K.Connect, pid: 2, comm: 'client', sock: kernelSock(++serial), ts_ns: ts, error: 111,
        laddr: '127.0.0.1', raddr: '127.0.0.1', lport: 40000 + i, rport: 9,
      }));
    }
    const { bytes, view: dv } = pack(recs);
    s.batch(bytes, dv, recs.length);
  };
  return { s, at, paths, stats: () => view.read() };
}

/** Every record of a file: its time (s from T0) and pid. */
function contents(file: string): { ts: number[]; refused: number; drops: number; header: Record<string, unknown> } {
  const r = openRecording(file);
  const ts: number[] = [];
  let refused = 0;
  let drops = 0;
  for (const b of r.batches()) {
    for (let k = 0; k < b.count; k++) {
      const e = decodeEvent(b.view, k * RECORD_SIZE);
      if (e.kind === 'drops') {
        drops += (e as { dropped?: number }).dropped ?? 0;
        continue;
      }
      ts.push((Number(e.ts_ns) - T0) / SEC);
      if (e.kind === 'connect' && e.error === 'ECONNREFUSED') refused++;
    }
  }
  const header = r.header.json as unknown as Record<string, unknown>;
  r.close();
  return { ts, refused, drops, header };
}

test('trigger: an incident holds --before seconds before the moment and --after after it', () => {
  const { s, at, paths, stats } = stage('one', 1);
  for (let t = 0; t <= 5; t++) at(T0 + t * SEC, 1); // quiet seconds 0..5
  at(T0 + 5500 * MS, 0, 3); // the incident: 3 refused at 5.5 s
  assert.equal(stats().incidents, 0, 'not yet evaluated: the tick comes with the next record');
  for (let t = 6; t <= 12; t++) at(T0 + t * SEC, 1);
  s.close();
  const c = contents(paths[0]);
  assert.equal(c.refused, 3);
  const trigger = c.header.trigger as Record<string, unknown>;
  const fired = (Number(trigger.fired_mono_ns) - T0) / SEC;
  assert.equal(fired, 6, 'fired at the tick after the refused connects (ticks each second of record time)');
  // Before: from the tick's second (5 s) less 2 s on (3 s ... 5.5 s); after: up to fired + 2 s (8 s).
  assert.deepEqual(c.ts, [3, 4, 5, 5.5, 5.5, 5.5, 6, 7, 8]);
  assert.equal(Number(trigger.window_from_mono_ns), T0 + 3 * SEC);
  assert.deepEqual(stats(), { fired: 1, incidents: 1, missed: 0, writing: false, ringBytes: stats().ringBytes, ringEvicted: 0 });
  assert.equal(fs.statSync(paths[0]).mode & 0o777, 0o600);
});

test('trigger: a firing inside --after extends the file; the next incident takes the next file; then missed', () => {
  const { s, at, paths, stats } = stage('many', 2, { before: 1, after: 2 });
  at(T0, 1);
  at(T0 + 500 * MS, 0, 1); // fires at 1 s: writing until 3 s
  at(T0 + SEC, 1);
  at(T0 + 1500 * MS, 1);
  // The window (5 s) still holds that refused: no new crossing until it clears at 6 s.
  for (let t = 2; t <= 7; t++) at(T0 + t * SEC, 1);
  assert.equal(stats().incidents, 1);
  at(T0 + 7500 * MS, 0, 1); // second crossing at 8 s: the second file
  for (let t = 8; t <= 16; t++) at(T0 + t * SEC, 1);
  at(T0 + 16500 * MS, 0, 1); // third crossing at 17 s: no file left
  for (let t = 17; t <= 19; t++) at(T0 + t * SEC, 1);
  s.close();
  assert.deepEqual({ ...stats(), ringBytes: 0 }, { fired: 3, incidents: 2, missed: 1, writing: false, ringBytes: 0, ringEvicted: 0 });
  assert.deepEqual(contents(paths[0]).ts, [0, 0.5, 1, 1.5, 2, 3]);
  assert.deepEqual(contents(paths[1]).ts, [6, 7, 7.5, 8, 9, 10]);
});

test('trigger: --before 0 still holds the cause; a capture that ends inside --after ends the file', () => {
  const { s, at, paths } = stage('end', 1, { before: 0, after: 2 });
  at(T0 - 3 * SEC, 1); // the clock starts
  at(T0 - 1 * SEC, 1);
  at(T0 + 200 * MS, 0, 1); // fires at the 1 s tick
  at(T0 + SEC, 1);
  at(T0 + 2500 * MS, 1); // the capture ends at 2.5 s, inside --after
  s.close();
  const c = contents(paths[0]);
  assert.deepEqual(c.ts, [0.2, 1, 2.5]);
  assert.equal(c.refused, 1);
});

test('trigger: the memory cap lets go of records inside --before: a DROPS record counts them', () => {
  const perBatch = 4;
  const { s, at, paths, stats } = stage('cap', 1, { before: 10, after: 1, maxBytes: 3 * perBatch * RECORD_SIZE });
  for (let t = 0; t < 6; t++) at(T0 + t * SEC, perBatch); // 6 batches, room for 3
  at(T0 + 6 * SEC, 0, 1);
  at(T0 + 7 * SEC, 1);
  at(T0 + 8 * SEC, 1);
  s.close();
  const c = contents(paths[0]);
  assert.ok(stats().ringEvicted >= 3 * perBatch, `evicted ${stats().ringEvicted}`);
  assert.equal(c.drops, stats().ringEvicted, 'every record the cap let go is counted in the file');
  assert.equal((c.header.trigger as Record<string, unknown>).memory_cap_lost_records, c.drops);
  assert.equal(c.refused, 1);
  void DropStage;
});

test('trigger: files never used are removed at the end', () => {
  const { s, at, paths } = stage('unused', 3);
  at(T0, 1);
  at(T0 + 2 * SEC, 1);
  s.close();
  for (const p of paths) assert.equal(fs.existsSync(p), false, p);
});
