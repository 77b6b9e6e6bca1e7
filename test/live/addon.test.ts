/**
 * The native addon (native/src) on real BPF with the fixture object (native/test-fixtures):
 * program selection, lossless polling into small buffers, stats, one-line coded errors, and
 * detaching when a worker ends without close(). Root only (skips otherwise).
 */
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { Worker } from 'worker_threads';
import { AddonError, loadAddon, nativeAddonPath, NativeSession } from '../../src/capture/addon';
import { detectKernelSupport } from '../../src/capture/kernel';
import { Offset, RECORD_SIZE } from '../../src/capture/layout';
import { readComm } from '../../src/capture/decode';
import {
  brokenObject, fixtureObject, fixtureTestOptions, ownComm, programsStillLoaded, sleep, waitFor,
} from './native-fixture';

const opts = fixtureTestOptions();

function openFixture(): NativeSession {
  return loadAddon().open({ backend: 'tracepoint', objectPath: fixtureObject(), bpfRingBytes: 1 << 20 });
}

/** Poll until `want` records of this process arrived (or 3 s); returns [ours, largest batch]. */
async function pollOurs(session: NativeSession, out: Uint8Array, want: number): Promise<[number, number]> {
  let ours = 0;
  let largest = 0;
  const view = new DataView(out.buffer, out.byteOffset, out.byteLength);
  await waitFor(() => {
    const n = session.poll(out, 20);
    largest = Math.max(largest, n);
    for (let i = 0; i < n; i++) {
      const at = i * RECORD_SIZE;
      if (view.getUint32(at + Offset.pid, true) !== process.pid) continue;
      assert.equal(readComm(view, at), ownComm());
      ours++;
    }
    return ours >= want;
  }, 3000);
  return [ours, largest];
}

test('open() attaches the chosen backend and common programs, skips missing optional ones', opts, () => {
  const session = openFixture();
  try {
    const { info } = session;
    assert.equal(info.backend, 'tracepoint');
    assert.deepEqual(info.programs, ['tp_getppid', 'common_getegid']);
    assert.deepEqual(info.skipped, ['tp_missing_opt']);
    assert.equal(info.programIds.length, 2);
    assert.ok(info.attachMs > 0 && info.attachMs < 10000);
    assert.equal(typeof info.mountedTracefs, 'boolean');
    assert.deepEqual(programsStillLoaded(info.programIds), info.programIds);
  } finally {
    session.close();
  }
  assert.deepEqual(programsStillLoaded(session.info.programIds), [], 'programs gone after close()');
  session.close(); // idempotent
  assert.throws(() => session.poll(new Uint8Array(RECORD_SIZE), 0), /closed/);
});

test('poll() fills small buffers with whole records and loses none', opts, async () => {
  const session = openFixture();
  try {
    // A view that starts one record into its buffer: records must land at its offset.
    const backing = new Uint8Array(5 * RECORD_SIZE);
    const out = backing.subarray(RECORD_SIZE, 4 * RECORD_SIZE); // 3 slots
    for (let i = 0; i < 10; i++) void process.ppid; // each read is a getppid() syscall
    const [ours, largest] = await pollOurs(session, out, 10);
    assert.equal(ours, 10);
    assert.ok(largest <= 3, `a poll returned ${largest} records into 3 slots`);
    assert.ok(backing.subarray(0, RECORD_SIZE).every((b) => b === 0), 'nothing written before the view');
    assert.ok(backing.subarray(4 * RECORD_SIZE).every((b) => b === 0), 'nothing written after the view');
    assert.equal(session.poll(new Uint8Array(RECORD_SIZE - 1), 0), 0, 'no whole slot: nothing to do');
    assert.ok(session.stats().polled >= 10);
  } finally {
    session.close();
  }
});

test('records carry CLOCK_MONOTONIC timestamps, as monotonicNs() reads them', opts, async () => {
  const addon = loadAddon();
  const session = openFixture();
  try {
    const out = new Uint8Array(256 * RECORD_SIZE);
    while (session.poll(out, 0) > 0); // drain what other processes produced
    const before = addon.monotonicNs();
    void process.ppid;
    const after = addon.monotonicNs();
    const view = new DataView(out.buffer);
    let ts = -1n;
    await waitFor(() => {
      const n = session.poll(out, 20);
      for (let i = 0; i < n; i++) {
        if (view.getUint32(i * RECORD_SIZE + Offset.pid, true) === process.pid) {
          ts = view.getBigUint64(i * RECORD_SIZE + Offset.ts_ns, true);
        }
      }
      return ts >= 0n;
    }, 3000);
    assert.ok(before <= ts && ts <= after, `${before} <= ${ts} <= ${after}`);
  } finally {
    session.close();
  }
});

test('stats(): short samples count as badSize, drop_counts as bpfRingDrops, run counts', opts, async () => {
  const session = openFixture();
  try {
    for (let i = 0; i < 4; i++) process.getegid?.(); // fixture: a 64-byte sample and drop_counts += 1
    const out = new Uint8Array(64 * RECORD_SIZE);
    await waitFor(() => {
      session.poll(out, 20);
      return session.stats().badSize >= 4;
    }, 3000);
    const stats = session.stats();
    assert.ok(stats.badSize >= 4, `badSize ${stats.badSize}`);
    assert.ok(stats.bpfRingDrops >= 4, `bpfRingDrops ${stats.bpfRingDrops}`);
    const egid = stats.programs.find((p) => p.name === 'common_getegid');
    assert.ok(egid && egid.runCount >= 4 && egid.runTimeNs > 0, JSON.stringify(egid));
    assert.deepEqual(stats.programs.map((p) => p.id), session.info.programIds);
  } finally {
    session.close();
  }
  assert.deepEqual(session.stats().programs, [], 'after close: counters only');
});

function openError(fn: () => unknown): AddonError {
  try {
    fn();
  } catch (e) {
    const err = e as AddonError;
    assert.ok(!err.message.includes('\n'), `one line: ${err.message}`);
    return err;
  }
  assert.fail('expected open() to throw');
}

test('open() errors are one line with a code', opts, () => {
  const addon = loadAddon();
  const missing = openError(() => addon.open({ backend: 'tracepoint', objectPath: '/nonexistent/x.bpf.o' }));
  assert.equal(missing.code, 'ENOENT');
  assert.match(missing.message, /\/nonexistent\/x\.bpf\.o/);

  const broken = openError(() => addon.open({ backend: 'tracepoint', objectPath: brokenObject() }));
  assert.equal(broken.code, 'ELOAD');
  assert.match(broken.message, /^cannot load BPF program tp_unchecked: .*invalid mem access/);
  assert.match(broken.details ?? '', /BEGIN PROG LOAD LOG/, 'the verifier log is kept as details');

  if (!detectKernelSupport().kprobes) {
    const kprobe = openError(() => addon.open({ backend: 'kprobe', objectPath: fixtureObject() }));
    assert.equal(kprobe.code, 'ELOAD');
    assert.match(kprobe.message, /^cannot attach BPF program kp_connect to kprobe tcp_v4_connect: /);
  }
  assert.throws(() => addon.open({ backend: 'auto' as never, objectPath: fixtureObject() }), TypeError);
  assert.throws(() => addon.open({ backend: 'tracepoint', objectPath: fixtureObject(), bpfRingBytes: 12 }), RangeError);
});

/** A worker that opens the fixture, posts the program ids, then exits or spins as told. */
function fixtureWorker(then: 'exit' | 'spin'): { worker: Worker; ids: Promise<number[]> } {
  const code = `
    const { parentPort, workerData } = require('worker_threads');
    const s = require(workerData.addon).open({ backend: 'tracepoint', objectPath: workerData.object });
    parentPort.postMessage(s.info.programIds);
    if (workerData.then === 'spin') setInterval(() => s.poll(new Uint8Array(128 * 64), 10), 1);
  `;
  const worker = new Worker(code, { eval: true, workerData: { addon: nativeAddonPath(), object: fixtureObject(), then } });
  const ids = new Promise<number[]>((resolve, reject) => {
    worker.once('message', resolve);
    worker.once('error', reject);
  });
  return { worker, ids };
}

test('a worker that ends without close() leaves no program attached', opts, async () => {
  const { worker, ids } = fixtureWorker('exit');
  const programIds = await ids;
  assert.equal(programIds.length, 2);
  await new Promise((r) => worker.once('exit', r));
  assert.deepEqual(programsStillLoaded(programIds), []);
});

test('a terminated worker leaves no program attached', opts, async () => {
  const { worker, ids } = fixtureWorker('spin');
  const programIds = await ids;
  await sleep(50);
  assert.deepEqual(programsStillLoaded(programIds), programIds);
  await worker.terminate();
  assert.deepEqual(programsStillLoaded(programIds), []);
});
