/**
 * The storm's truth per mode (bench/storm/load-events.ts): the tui and exporter modes count per
 * process, so lg-server's closes are its accepted sockets and the listener it inherited from
 * loadgen's parent and closed at exit (test/live/owners.test.ts checks that attribution on real
 * BPF). Checked against accepts alone, that listener's close showed as "short -1" (one extra read
 * as one lost) and would have hidden a real lost close. Also the report's seen / truth cell.
 */
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { EventKind as K, Offset, RECORD_SIZE, TcpState as S } from '../../src/capture/layout';
import { SocketModel } from '../../src/model/model';
import { connectionRecords, listenerRecords, packRecords } from '../../bench/synthetic';
import { seenCell } from '../../bench/storm/format';
import type { GroundTruth } from '../../bench/storm/load';
import { SERVER_PORT } from '../../bench/storm/load';
import { type LoadTruth, extraEvents, loadTruth, missingEvents, processTruth, truthFor } from '../../bench/storm/load-events';
import type { SeenRun } from '../../bench/storm/summary';
import { kernelSock, makeRecord } from './helpers/records';

const PARENT = 100;
const SERVER = 101;
const CLIENT = 102;
const N = 20;
const LISTENER_SOCK = 1;

const gt = {
  connects_ok: N, connects_refused: 0, connects_failed_other: 0, accepts: N, attempts: N,
  pid: PARENT, server_pid: SERVER, client_pid: CLIENT,
} as GroundTruth;

/** loadgen's run as the BPF side tells it: the parent's listener, N connections, the server's exit. */
function loadgenRecords(lose?: number): Uint8Array[] {
  const out = [...listenerRecords(PARENT, 'loadgen', 0, LISTENER_SOCK, SERVER_PORT, 1000)];
  for (let i = 0; i < N; i++) {
    const conn = connectionRecords({
      clientPid: CLIENT, clientComm: 'lg-client', serverPid: SERVER, serverComm: 'lg-server',
      clientSock: 10 + 2 * i, serverSock: 11 + 2 * i, port: SERVER_PORT, clientPort: 40000 + i, tsNs: 1e6 * (i + 1),
    });
    // The accepted socket's CLOSE (lg-server's, the connection's last one), left out to lose it.
    const closes = conn.flatMap((r, j) => (r[Offset.kind] === K.Close ? [j] : []));
    const serverClose = closes[closes.length - 1];
    out.push(...conn.filter((_, j) => !(i === lose && j === serverClose)));
  }
  // lg-server exits with the listener open: the kernel closes it there, told as lg-server's close.
  out.push(makeRecord({
    kind: K.Close, ts_ns: 1e9, pid: SERVER, comm: 'lg-server', sock: kernelSock(LISTENER_SOCK),
    laddr: '127.0.0.1', lport: SERVER_PORT, old_state: S.Listen, new_state: S.Close,
  }));
  return out;
}

/** What the TUI mode reads: the model's counters for loadgen's client and server. */
function seenByModel(records: Uint8Array[]): LoadTruth {
  const model = new SocketModel();
  const buf = packRecords(records);
  const view = new DataView(buf.buffer);
  for (let off = 0; off < buf.length; off += RECORD_SIZE) model.ingest(view, off);
  const rows = model.frozenRows();
  const client = rows.find((r) => r.pid === CLIENT)!;
  const server = rows.find((r) => r.pid === SERVER)!;
  return {
    connectsOk: client.connectsOk, refused: 0, accepts: server.accepts,
    clientCloses: client.closes, serverCloses: server.closes,
  };
}

test('per-process truth: lg-server closes its accepted sockets and its listener', () => {
  assert.equal(loadTruth(gt).serverCloses, N, 'per port: one close per accepted socket');
  assert.equal(processTruth(gt).serverCloses, N + 1, 'per process: and the listener');
  assert.deepEqual(truthFor('tui', gt), processTruth(gt));
  assert.deepEqual(truthFor('exporter', gt), processTruth(gt));
  assert.deepEqual(truthFor('json', gt), loadTruth(gt));
  assert.deepEqual(truthFor('record', gt), loadTruth(gt));
});

test('the model sees everything of a loadgen run: nothing missing, nothing extra', () => {
  const seen = seenByModel(loadgenRecords());
  assert.equal(seen.serverCloses, N + 1);
  assert.equal(missingEvents(seen, truthFor('tui', gt)), 0);
  assert.equal(extraEvents(seen, truthFor('tui', gt)), 0);
});

test('a lost server close is missing, not made up for by the listener\'s close', () => {
  const seen = seenByModel(loadgenRecords(7));
  assert.equal(seen.serverCloses, N, 'one accepted socket\'s close lost, the listener\'s seen');
  assert.equal(missingEvents(seen, truthFor('tui', gt)), 1);
  assert.equal(missingEvents(seen, loadTruth(gt)), 0, 'against accepts alone the loss was hidden');
});

test('extra events are counted apart from missing ones', () => {
  const truth = loadTruth(gt);
  assert.equal(extraEvents({ ...truth, serverCloses: N + 2 }, truth), 2);
  assert.equal(missingEvents({ ...truth, serverCloses: N + 2 }, truth), 0);
  assert.equal(extraEvents({ ...truth, serverCloses: N - 1, accepts: N + 1 }, truth), 1);
  assert.equal(missingEvents({ ...truth, serverCloses: N - 1, accepts: N + 1 }, truth), 1);
  assert.ok(Number.isNaN(extraEvents({ ...truth, serverCloses: undefined }, truth)));
});

test('the seen / truth cell says short or extra, never "short -1"', () => {
  const run = (serverCloses: number): SeenRun => {
    const truth = processTruth(gt);
    return {
      rep: 0, seen: { ...truth, serverCloses }, truth, drops: {},
      missing: missingEvents({ ...truth, serverCloses }, truth), missingNoDrop: 0, extra: extraEvents({ ...truth, serverCloses }, truth),
    };
  };
  const t = N + 1;
  assert.equal(seenCell([run(t), run(t), run(t)], 'serverCloses'), `all equal ✓ (${t})`);
  assert.equal(seenCell([run(t), run(t - 1), run(t)], 'serverCloses'), `short 0 [0-1] of ${t} ✗`);
  assert.equal(seenCell([run(t + 1), run(t + 1), run(t)], 'serverCloses'), `extra 1 [0-1] over ${t} ✗`);
  assert.equal(seenCell([run(t + 1), run(t - 1), run(t)], 'serverCloses'), `seen - truth 0 [-1-1] of ${t} ✗`);
  assert.equal(seenCell([run(t + 1)], 'serverCloses'), `${t + 1}/${t} ✗`);
});
