/**
 * The capture worker through session.ts, on real BPF with the fixture object: records reach the
 * shared ring, BPF-side drops become DROPS records, stats arrive, pipeline stages see every record,
 * and stop() always ends with the programs detached. Root only (skips otherwise).
 */
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import * as path from 'path';
import { loadAddon } from '../../src/capture/addon';
import { DropStage, EventKind, Flag, Offset } from '../../src/capture/layout';
import { readComm } from '../../src/capture/decode';
import { CaptureError, CaptureSession, startCapture, stopAllCaptures } from '../../src/capture/session';
import { START_PID } from './capture-scripts/count-stage';
import { fixtureObject, fixtureTestOptions, ownComm, programsStillLoaded, waitFor } from './native-fixture';

const opts = fixtureTestOptions();
const COUNT_STAGE = path.join(__dirname, 'capture-scripts/count-stage.js');

function startFixture(extra: Partial<Parameters<typeof startCapture>[0]> = {}): Promise<CaptureSession> {
  return startCapture({ backend: 'tracepoint', ringCapacity: 4096, objectPath: fixtureObject(), ...extra });
}

interface Seen { ours: number; drops: number; dropTs: bigint[] }

function drainInto(session: CaptureSession, seen: Seen): void {
  session.ring.drain((view, at) => {
    const kind = view.getUint8(at + Offset.kind);
    if (kind === EventKind.Drops) {
      assert.equal(view.getUint8(at + Offset.new_state), DropStage.BpfRing);
      seen.drops += view.getUint32(at + Offset.count, true);
      seen.dropTs.push(view.getBigUint64(at + Offset.ts_ns, true));
    } else if (view.getUint32(at + Offset.pid, true) === process.pid) {
      assert.equal(readComm(view, at), ownComm());
      seen.ours++;
    }
  });
}

test('records reach the shared ring; BPF drops arrive as DROPS records; stats every second', opts, async () => {
  const counterSab = new SharedArrayBuffer(4);
  const session = await startFixture({ pipeline: { testStage: { module: COUNT_STAGE, options: { counterSab } } } });
  try {
    assert.deepEqual(session.info.programs, ['tp_getppid', 'common_getegid']);
    const seen: Seen = { ours: 0, drops: 0, dropTs: [] };
    const before = loadAddon().monotonicNs();
    for (let i = 0; i < 5; i++) void process.ppid;
    for (let i = 0; i < 3; i++) process.getegid?.(); // fixture: drop_counts += 1 each
    assert.ok(await waitFor(() => {
      drainInto(session, seen);
      return seen.ours >= 5 && seen.drops >= 3;
    }, 3000),
      JSON.stringify({ ours: seen.ours, drops: seen.drops }));
    assert.equal(seen.ours, 5);
    const after = loadAddon().monotonicNs();
    assert.ok(seen.dropTs.every((ts) => ts >= before && ts <= after), 'DROPS stamped with the BPF clock');
    assert.ok(await waitFor(() => session.latestStats() !== null, 2500), 'a stats message within ~1 s');
    const stats = session.latestStats()!;
    assert.ok(stats.session.polled >= 5);
    assert.equal(stats.session.programs.length, 2);
  } finally {
    await session.stop();
  }
  const hooked = Atomics.load(new Int32Array(counterSab), 0);
  assert.equal(hooked, session.ring.published() + session.ring.drops(), 'hooks saw every record');
  assert.deepEqual(programsStillLoaded(session.info.programIds), []);
  await session.stop(); // idempotent
});

test('start records are in the ring, through the hooks, when startCapture() resolves', opts, async () => {
  const counterSab = new SharedArrayBuffer(4);
  const before = loadAddon().monotonicNs();
  const session = await startFixture({ pipeline: { testStage: { module: COUNT_STAGE, options: { counterSab, startRecords: 3 } } } });
  try {
    // The ring starts with the start records: the attribution stage's SNAPSHOT records of the
    // machine's existing sockets, then the test stage's three.
    const first: { pid: number; ts: bigint; snapshot: boolean }[] = [];
    session.ring.drain((view, at) => {
      first.push({
        pid: view.getUint32(at + Offset.pid, true), ts: view.getBigUint64(at + Offset.ts_ns, true),
        snapshot: (view.getUint8(at + Offset.flags) & Flag.Snapshot) !== 0,
      });
    });
    const ours = first.filter((r) => r.pid === START_PID);
    assert.equal(ours.length, 3);
    const lastOurs = first.findIndex((r) => r === ours[2]);
    assert.ok(first.slice(0, lastOurs + 1).every((r) => r.pid === START_PID || r.snapshot), 'nothing polled before the start records');
    assert.ok(ours.every((r) => r.ts >= before && r.ts <= loadAddon().monotonicNs()));
    assert.ok(Atomics.load(new Int32Array(counterSab), 0) >= 3, 'the hooks saw them');
  } finally {
    await session.stop();
  }
});

test('startCapture() rejects with the addon code and a one-line message', opts, async () => {
  await assert.rejects(startFixture({ objectPath: '/nonexistent/socktop.bpf.o' }), (e: unknown) => {
    assert.ok(e instanceof CaptureError);
    assert.equal(e.code, 'ENOENT');
    assert.match(e.message, /^BPF object \/nonexistent\/socktop\.bpf\.o not found/);
    assert.ok(!e.message.includes('\n'));
    return true;
  });
});

test('stop() terminates a worker that does not answer, and the programs still go', opts, async () => {
  const session = await startFixture({ pipeline: { testStage: { module: COUNT_STAGE, options: { stallOnPid: process.pid } } }, stopTimeoutMs: 300 });
  void process.ppid; // the first batch stalls the worker in the hook
  await new Promise((r) => setTimeout(r, 200));
  const started = Date.now();
  await session.stop();
  const took = Date.now() - started;
  assert.ok(took >= 300 && took < 3000, `stop() took ${took} ms: the timeout path, then terminate()`);
  assert.deepEqual(programsStillLoaded(session.info.programIds), []);
});

test('stopAllCaptures() stops every running capture', opts, async () => {
  const a = await startFixture();
  const b = await startFixture();
  await stopAllCaptures();
  assert.deepEqual(programsStillLoaded([...a.info.programIds, ...b.info.programIds]), []);
  await stopAllCaptures(); // nothing left: a no-op
});
