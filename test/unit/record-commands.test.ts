/**
 * Tests for src/record/commands.ts and the recorder's pipeline stage (recording-file.ts): a headless
 * recording through a stand-in capture worker (fixtures/record-fake-capture.ts) that loads the hook
 * modules like the real one, `replay --json`, and the TUI / batch wiring on a DataSource.
 */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { PassThrough } from 'node:stream';
import { Worker } from 'node:worker_threads';
import { RECORD_SIZE } from '../../src/capture/layout';
import { decodeEvent } from '../../src/capture/decode';
import { SharedRing } from '../../src/capture/ring';
import type { CaptureSession, StartOptions } from '../../src/capture/session';
import { RecordingError } from '../../src/record/format';
import { openRecording } from '../../src/record/reader';
import { RecordArgs, recordCommand, recordStatusLine, replayCommand, replayJson } from '../../src/record/commands';
import type { DataSource } from '../../src/source';
import { makeRecords, tmpDir, writeRecording } from './fixtures/record-synth';

const dir = tmpDir('socktop-reccmd-');
after(() => fs.rmSync(dir, { recursive: true, force: true }));
const FAKE = path.join(__dirname, 'fixtures', 'record-fake-capture.js');

function collect(): { stream: PassThrough; text: () => string } {
  const stream = new PassThrough();
  let buf = '';
  stream.on('data', (d) => (buf += d.toString()));
  return { stream, text: () => buf };
}

/** A startLive that runs the stand-in worker with the recorder's hook modules. */
function fakeStartLive(state: { produced: number }) {
  return (extra: Pick<StartOptions, 'pipeline'>, _args: RecordArgs): Promise<CaptureSession> => {
    const ring = SharedRing.create(1024, RECORD_SIZE);
    const worker = new Worker(FAKE, {
      workerData: { ringSab: ring.sab, backend: 'tracepoint', pipeline: extra.pipeline, perBatch: 25 },
    });
    const exited = new Promise<void>((r) => worker.once('exit', () => r()));
    return new Promise((resolve, reject) => {
      worker.on('message', (m: { type: string; code?: string; message?: string; seq?: number }) => {
        if (m.type === 'closed') state.produced = m.seq ?? 0;
        if (m.type === 'error') reject(new RecordingError('EIO', m.message ?? ''));
        if (m.type === 'ready') {
          resolve({
            ring,
            info: { backend: 'tracepoint', attachMs: 1, programs: [] } as unknown as CaptureSession['info'],
            latestStats: () => ({ session: { bpfRingDrops: 3, polled: 0, programs: [] }, sharedRingDrops: 0, published: 0 }) as unknown as ReturnType<CaptureSession['latestStats']>,
            stop: async () => {
              worker.postMessage({ type: 'stop' });
              await exited;
            },
          });
        }
      });
      worker.on('error', reject);
    });
  };
}

test('record: headless recording through the capture hook module, status lines, stop by duration', async () => {
  const file = path.join(dir, 'headless.socktop');
  const state = { produced: 0 };
  const out = collect();
  const code = await recordCommand({ write: file, duration: '1300ms' }, { startLive: fakeStartLive(state), status: out.stream });
  assert.equal(code, 0);
  assert.ok(state.produced > 50, `produced ${state.produced}`);
  const lines = out.text().trim().split('\n');
  assert.ok(lines.length >= 2, out.text());
  assert.match(lines[0], /^recording .*headless\.socktop: \d+ events, [\d.]+ kB, 3 drops \(bpf ring 3, write 0\)  \[0:01\.\d\]$/);
  assert.match(lines[lines.length - 1], new RegExp(`: ${state.produced} events, .*: done$`));
  assert.equal(fs.statSync(file).mode & 0o777, 0o600);
  const rec = openRecording(file);
  assert.deepEqual(rec.warnings, []); // closed properly by the worker's exit: END frame present
  assert.equal(rec.records, state.produced);
  assert.equal(rec.end?.records, state.produced);
  assert.equal(rec.header.backend, 'tracepoint');
  assert.equal(rec.header.json.command, 'record');
  assert.equal(rec.processes.length, 1);
  assert.equal(rec.processes[0].info.pid, process.pid);
  assert.equal(rec.processes[0].info.from_proc, true);
  let seq = 0;
  for (const b of rec.batches()) {
    for (let k = 0; k < b.count; k++, seq++) assert.equal(b.view.getUint16(k * RECORD_SIZE + 62, true), seq & 0xffff);
  }
  rec.close();
});

test('record: stops on request (as on SIGINT), exit code 0', async () => {
  const file = path.join(dir, 'stopped.socktop');
  const state = { produced: 0 };
  let stop!: () => void;
  const stopSignal = new Promise<void>((r) => (stop = r));
  setTimeout(() => stop(), 200);
  const t0 = Date.now();
  const code = await recordCommand({ write: file, quiet: true }, { startLive: fakeStartLive(state), stopSignal });
  assert.equal(code, 0);
  assert.ok(Date.now() - t0 < 3000);
  assert.equal(openRecording(file).records, state.produced);
});

test('record: unwritable file fails the start with a one-line error; bad duration is a usage error', async () => {
  const state = { produced: 0 };
  await assert.rejects(
    recordCommand({ write: path.join(dir, 'no/such/dir/x.socktop'), quiet: true }, { startLive: fakeStartLive(state) }),
    (e: unknown) => e instanceof Error && /cannot create recording .*ENOENT/.test(e.message) && !e.message.includes('\n'),
  );
  await assert.rejects(recordCommand({ write: path.join(dir, 'x.socktop'), duration: 'forever' }, { startLive: fakeStartLive(state) }), (e: unknown) => e instanceof RecordingError && e.code === 'EUSAGE');
});

test('recordStatusLine', () => {
  const st = { records: 1234, recordsWritten: 1200, bytes: 2_500_000, frames: 3, recordsLost: 34, writeErrors: 1, lastError: 'ENOSPC: no space left on device', processes: 2, closed: false };
  assert.equal(recordStatusLine('f.socktop', st, 5, 61_000),
    'recording f.socktop: 1234 events, 2.5 MB, 39 drops (bpf ring 5, write 34), write error: ENOSPC: no space left on device  [1:01.0]');
});

test('replay --json: one decodeEvent line per record, in order; warnings on stderr; errors thrown', async () => {
  const file = path.join(dir, 'json.socktop');
  const records = makeRecords(300, { pids: [1, 2] });
  writeRecording(file, records, { processes: true });
  const out = collect();
  const err = collect();
  assert.equal(await replayJson(file, out.stream, err.stream), 0);
  const lines = out.text().trim().split('\n');
  assert.equal(lines.length, 300);
  const view = new DataView(records.buffer);
  for (let i = 0; i < 300; i++) assert.deepEqual(JSON.parse(lines[i]), decodeEvent(view, i * RECORD_SIZE));
  assert.equal(err.text(), '');

  const cut = path.join(dir, 'json-cut.socktop');
  fs.writeFileSync(cut, fs.readFileSync(file).subarray(0, 20000));
  const out2 = collect();
  const err2 = collect();
  await replayCommand({ file: cut, json: true }, { stdout: out2.stream, stderr: err2.stream });
  assert.match(err2.text(), /^socktop: warning: .*cut short after \d+ records: replaying up to the last whole record\n$/);
  const n = out2.text().trim().split('\n').length;
  assert.ok(n > 100 && n < 300);

  const foreign = path.join(dir, 'foreign.bin');
  fs.writeFileSync(foreign, Buffer.from('\x7fELF\x02\x01\x01'));
  await assert.rejects(replayCommand({ file: foreign, json: true }, { stdout: collect().stream }),
    (e: unknown) => e instanceof RecordingError && e.code === 'EFOREIGN' && /not a socktop recording/.test(e.message));
});

test('replay: the TUI and batch mode get a replay DataSource; bad speed is a usage error', async () => {
  const file = path.join(dir, 'tui.socktop');
  writeRecording(file, makeRecords(100, { stepNs: 1_000_000n }));
  let seen: DataSource | null = null;
  let drained = 0;
  const code = await replayCommand({ file, speed: 0 }, {
    runTui: async (src) => {
      seen = src;
      while (!src.finished?.() || src.ring.available() > 0) {
        drained += src.ring.drain(() => undefined);
        await new Promise((r) => setTimeout(r, 5));
      }
      return 7;
    },
  });
  assert.equal(code, 7);
  assert.equal(drained, 100);
  assert.equal(seen!.describe().mode, 'replay');
  assert.equal(seen!.describe().host, 'testhost');
  let batchArgs: unknown = null;
  await replayCommand({ file, batch: true, iterations: 2 }, { runBatch: async (_s, a) => void (batchArgs = a) });
  assert.deepEqual(batchArgs, { file, batch: true, iterations: 2 });
  await assert.rejects(replayCommand({ file, speed: -1 }, { runTui: async () => 0 }), (e: unknown) => e instanceof RecordingError && e.code === 'EUSAGE');
});
