/**
 * The flight recorder (src/record/rotation.ts): -W N files written in turn, each a whole recording
 * with its own header and process descriptions, the oldest reused; -C/-G checked; files opened
 * up front by recordingStartOptions (safe-open rules) and never created later.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { RECORD_SIZE, Offset } from '../../src/capture/layout';
import { openRecording } from '../../src/record/reader';
import { recordingStage, recordingStartOptions } from '../../src/record/recording-file';
import { parseRotation, rotationPaths } from '../../src/record/rotation';
import { makeRecords, tmpDir } from './fixtures/record-synth';

const MAIN = path.resolve(__dirname, '../../src/cli/main.js');

test('rotationPaths: the index goes before .socktop, zero-padded to the count', () => {
  assert.deepEqual(rotationPaths('/tmp/x.socktop', 3), ['/tmp/x.0.socktop', '/tmp/x.1.socktop', '/tmp/x.2.socktop']);
  assert.deepEqual(rotationPaths('cap', 11).slice(9), ['cap.09', 'cap.10']);
});

test('parseRotation: -W is required with -C/-G, values are checked, one line each', () => {
  assert.equal(parseRotation(undefined, undefined, undefined), undefined);
  assert.deepEqual(parseRotation(2, undefined, 4), { files: 4, maxBytes: 2_000_000, maxSeconds: undefined });
  assert.deepEqual(parseRotation(undefined, 60, 60), { files: 60, maxBytes: undefined, maxSeconds: 60 });
  const bad: [unknown, unknown, unknown, RegExp][] = [
    [1, undefined, undefined, /^-C\/-G need -W N/],
    [undefined, 10, undefined, /^-C\/-G need -W N/],
    [1, undefined, 0, /^-W: '0' is not a file count/],
    [1, undefined, 2.5, /^-W: '2.5' is not a file count/],
    [1, undefined, 5000, /^-W: '5000'/],
    [-1, undefined, 2, /^-C: '-1' is not a size in megabytes$/],
    [undefined, 'abc', 2, /^-G: 'abc' is not a number of seconds$/],
    [undefined, undefined, 3, /^-W N needs -C MB or -G SEC/],
  ];
  for (const [c, g, w, re] of bad) {
    assert.throws(() => parseRotation(c, g, w), (e: Error & { code?: string }) => e.code === 'EUSAGE' && re.test(e.message) && !e.message.includes('\n'));
  }
});

/** Feed `batches` batches of `per` records (pids cycling) through a rotating recorder stage. */
function recordRotating(dir: string, files: number, maxBytes: number, batches: number, per: number): { paths: string[]; fed: number } {
  const file = path.join(dir, 'flight.socktop');
  const rec = recordingStartOptions(file, { backend: 'synthetic' }, { env: {}, rotation: { files, maxBytes } });
  const stage = recordingStage({ ...rec.pipeline.recording, flushIntervalMs: 60_000 }, 'synthetic');
  let fed = 0;
  for (let b = 0; b < batches; b++) {
    const recs = makeRecords(per, { base: 1_000_000_000n + BigInt(b) * 1_000_000_000n, pids: [process.pid, 2_000_000_001 + (b % 3)] });
    stage.batch(recs, new DataView(recs.buffer), per);
    fed += per;
  }
  const st = stage.close();
  assert.equal(st.records, fed, 'the totals span every file');
  return { paths: rotationPaths(file, files), fed };
}

test('-W 3 -C: files fill in turn; each is a whole recording with its processes; totals add up', () => {
  const dir = tmpDir();
  // 40 batches of 100 records (100 * RECORD_SIZE bytes each), 2.5 batches' bytes per file: a new
  // file every 3 batches, 13 files started, the last 3 kept.
  const { paths } = recordRotating(dir, 3, 250 * RECORD_SIZE, 40, 100);
  let kept = 0;
  const firstTs: number[] = [];
  for (const p of paths) {
    assert.equal(fs.statSync(p).mode & 0o777, 0o600, p);
    const r = openRecording(p);
    assert.equal(r.truncated, false, `${p} has its END frame`);
    assert.deepEqual(r.warnings, []);
    assert.ok(r.records > 0 && r.records % 100 === 0, `${p}: ${r.records}`);
    // Every pid in the file is described in the file itself.
    const described = new Set(r.processes.map((e) => e.info.pid));
    for (const batch of r.batches()) {
      for (let i = 0; i < batch.count; i++) assert.ok(described.has(batch.view.getUint32(i * RECORD_SIZE + Offset.pid, true)));
    }
    kept += r.records;
    firstTs.push(r.firstTsNs);
    r.close();
  }
  // 13 files started: 3 batches each, the 13th holds the last batch; kept = files 11, 12, 13.
  assert.equal(kept, (3 + 3 + 1) * 100);
  assert.equal(new Set(firstTs).size, 3, 'three different stretches of time');
});

test('files a rotation never reached are removed at the end; none is created after start', () => {
  const dir = tmpDir();
  const { paths } = recordRotating(dir, 4, 1_000_000, 3, 10);
  assert.ok(fs.existsSync(paths[0]));
  for (const p of paths.slice(1)) assert.equal(fs.existsSync(p), false, `${p} was never used`);
  assert.deepEqual(fs.readdirSync(dir), ['flight.0.socktop']);
});

test('an existing file in the set refuses the whole set (without --force), and leaves nothing behind', () => {
  const dir = tmpDir();
  fs.writeFileSync(path.join(dir, 'x.1.socktop'), 'mine');
  assert.throws(() => recordingStartOptions(path.join(dir, 'x.socktop'), {}, { env: {}, rotation: { files: 3, maxBytes: 1e6 } }), /x\.1\.socktop exists: use --force/);
  assert.deepEqual(fs.readdirSync(dir), ['x.1.socktop']);
  assert.equal(fs.readFileSync(path.join(dir, 'x.1.socktop'), 'utf8'), 'mine');
});

test('the CLI: -C without -W is a one-line usage error before anything is attached', () => {
  const dir = tmpDir();
  const r = spawnSync(process.execPath, [MAIN, 'record', '-w', path.join(dir, 'f.socktop'), '-C', '5'], { encoding: 'utf8' });
  assert.equal(r.status, 2, r.stderr);
  assert.match(r.stderr, /^socktop: -C\/-G need -W N[^\n]*\n$/);
  assert.deepEqual(fs.readdirSync(dir), []);
});
