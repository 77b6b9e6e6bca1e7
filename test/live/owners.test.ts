/**
 * The process that sends, receives or closes is the one each record names, on every backend this
 * machine offers; the socket's earlier records keep the process that made them. Ground truth from
 * test/live/fixtures/owners.py:
 *  - a python socketserver.ForkingTCPServer: the parent accepts, each forked child reads the
 *    request, answers and closes. The children own their bytes and closes; the parent only its
 *    accepts (on the cgroup backend no hook runs in accept(): the child's first use claims it);
 *  - a socket handed over with SCM_RIGHTS: the sender made and connected it and sent the first 50
 *    bytes, the receiver owns the rest of the bytes and the close;
 *  - bench/loadgen's shape: a listener bound by a parent and inherited by a forked server that
 *    exits with it open. Its close is the server's, so the server's closes are its accepted
 *    sockets plus one: the per-process truth the storm checks the TUI and exporter against
 *    (bench/storm/load-events.ts processTruth).
 */
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { execFileSync } from 'child_process';
import * as path from 'path';
import { liveTestOptions } from './bpf-available';
import { parseJsonLines, startSocktop } from './socktop-run';

const FIXTURE = path.resolve(__dirname, '../../../test/live/fixtures/owners.py');
const N = 5;
const settle = (): Promise<void> => new Promise((r) => setTimeout(r, 500)); // the reader's poll timeout

type Ev = ReturnType<typeof parseJsonLines>[number];
interface ForkTruth { parentPid: number; port: number; conns: { clientPort: number; childPid: number; request: number; reply: number }[] }
interface InheritTruth { parentPid: number; serverPid: number; clientPid: number; port: number; clientPorts: number[] }
interface PassTruth {
  senderPid: number; receiverPid: number; serverPid: number; port: number; senderBytes: number;
  conns: { clientPort: number; request: number; reply: number }[];
}

async function capture<T>(probe: string, mode: string): Promise<{ truth: T; events: Ev[] }> {
  const socktop = await startSocktop(['--json', '--probe', probe]);
  let truth: T;
  try {
    truth = JSON.parse(execFileSync('python3', [FIXTURE, mode, String(N)], { encoding: 'utf8', timeout: 30000 }).trim());
    await settle();
  } finally {
    assert.equal(await socktop.stop('SIGINT'), 0, socktop.stderr());
  }
  return { truth, events: parseJsonLines(socktop.stdout()) };
}

/** Bytes each way the records of `side` give `pid`: SEND/RECV deltas, plus what its CLOSE adds. */
function bytesOf(side: Ev[], pid: number): [number, number] {
  let sent = 0;
  let received = 0;
  for (const e of side) {
    if (e.pid !== pid) continue;
    if (e.kind === 'send') sent += e.bytes;
    if (e.kind === 'recv') received += e.bytes;
  }
  const close = side.find((e) => e.kind === 'close');
  if (close?.pid === pid) {
    const all = (k: string) => side.filter((e) => e.kind === k).reduce((n, e) => n + e.bytes, 0);
    sent += close.bytes_sent - all('send');
    received += close.bytes_received - all('recv');
  }
  return [sent, received];
}

for (const probe of ['cgroup', 'tracepoint']) {
  test(`--probe ${probe}: forking server: the children own their bytes and closes, the parent its accepts`, liveTestOptions(), async () => {
    const { truth, events } = await capture<ForkTruth>(probe, 'fork');
    assert.equal(truth.conns.length, N);
    for (const c of truth.conns) {
      const side = events.filter((e) => e.proto === 'tcp' && e.lport === truth.port && e.rport === c.clientPort);
      const accepts = side.filter((e) => e.kind === 'accept');
      const acceptor = probe === 'cgroup' ? [c.childPid, 'fork-child', 'first_use'] : [truth.parentPid, 'fork-parent', undefined];
      assert.deepEqual(accepts.map((e) => [e.pid, e.comm, e.accepted_at]), [acceptor], `accept of ${c.clientPort}`);
      const closes = side.filter((e) => e.kind === 'close');
      assert.deepEqual(closes.map((e) => [e.pid, e.comm, e.bytes_sent, e.bytes_received]), [[c.childPid, 'fork-child', c.reply, c.request]],
        `the child closed ${c.clientPort}`);
      assert.deepEqual(bytesOf(side, c.childPid), [c.reply, c.request], 'every byte is the child\'s');
      const notChild = side.filter((e) => e.pid !== c.childPid && e.kind !== 'accept' && e.kind !== 'state');
      assert.deepEqual(notChild, [], 'no byte or end record names another process');
      assert.equal(new Set(side.map((e) => e.sock)).size, 1, 'one socket id: its history is one socket\'s');
    }
    const parentCloses = events.filter((e) => e.kind === 'close' && e.pid === truth.parentPid);
    assert.deepEqual(parentCloses.map((e) => [e.lport, e.old_state]), [[truth.port, 'LISTEN']], 'the parent closed only its listener');
  });

  test(`--probe ${probe}: a listener a forked server inherits and leaves open at exit: its close is the server's`, liveTestOptions(), async () => {
    const { truth, events } = await capture<InheritTruth>(probe, 'inherit');
    assert.equal(truth.clientPorts.length, N);
    const closes = events.filter((e) => e.kind === 'close' && e.proto === 'tcp' && e.lport === truth.port);
    const byServer = closes.filter((e) => e.pid === truth.serverPid);
    assert.deepEqual(byServer.filter((e) => e.old_state === 'LISTEN').map((e) => [e.comm, e.rport]), [['inh-server', 0]],
      `the server closed the listener once, as it exited: ${JSON.stringify(closes)}`);
    assert.deepEqual(byServer.filter((e) => e.rport !== 0).map((e) => e.rport).sort((a, b) => a - b), [...truth.clientPorts].sort((a, b) => a - b),
      'and each accepted socket once');
    assert.equal(byServer.length, N + 1, 'its closes: the accepted sockets and the listener');
    assert.deepEqual(closes.filter((e) => e.pid !== truth.serverPid), [], 'no close on the listener\'s port names another process');
  });

  test(`--probe ${probe}: a socket passed with SCM_RIGHTS: the receiver owns what it did`, liveTestOptions(), async () => {
    const { truth, events } = await capture<PassTruth>(probe, 'pass');
    assert.equal(truth.conns.length, N);
    for (const c of truth.conns) {
      // CONNECT_START comes before the port is chosen: the socket's records by its id.
      const id = events.find((e) => e.kind === 'connect' && e.lport === c.clientPort && e.rport === truth.port)?.sock;
      const side = events.filter((e) => e.sock === id);
      const made = side.filter((e) => e.kind === 'connect_start' || e.kind === 'connect');
      assert.deepEqual(made.map((e) => [e.kind, e.pid, e.comm]),
        [['connect_start', truth.senderPid, 'pass-sender'], ['connect', truth.senderPid, 'pass-sender']], `made by the sender: ${c.clientPort}`);
      const closes = side.filter((e) => e.kind === 'close');
      assert.deepEqual(closes.map((e) => [e.pid, e.comm, e.bytes_sent, e.bytes_received]),
        [[truth.receiverPid, 'pass-receiver', c.request, c.reply]], `closed by the receiver: ${c.clientPort}`);
      assert.deepEqual(bytesOf(side, truth.senderPid), [truth.senderBytes, 0], 'the sender\'s own bytes');
      assert.deepEqual(bytesOf(side, truth.receiverPid), [c.request - truth.senderBytes, c.reply], 'the rest is the receiver\'s');
      // The server's end is the server's.
      const server = events.filter((e) => e.proto === 'tcp' && e.lport === truth.port && e.rport === c.clientPort && e.kind === 'close');
      assert.deepEqual(server.map((e) => [e.pid, e.comm, e.bytes_sent, e.bytes_received]), [[truth.serverPid, 'pass-server', c.reply, c.request]]);
    }
  });
}
