/**
 * Each socket ends exactly once, and the end and the reset belong to whoever did them, on every
 * backend this machine offers. Ground truth from test/live/fixtures/socket-ends.py (a server and
 * the client it forks, each with its own comm, reporting its ports and byte counts):
 *  - half-close: the kernel moves the client's socket to CLOSE before the client reads the bytes
 *    left and closes it: one close (not a second "phantom" one with a new serial, lport 0, CLOSE ->
 *    CLOSE, duration 0 and the same bytes again), made in softirq: no tid, the owner's pid;
 *  - abort: a side that closes with SO_LINGER 0 sends the reset from its own close(): the reset
 *    carries its pid, comm, tid and local port; the peer's received reset has no tid;
 *  - sockets that existed before socktop started, in the half-close pattern: one close each, its
 *    duration unknown (null), not 0.
 */
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { execFileSync, spawn } from 'child_process';
import * as path from 'path';
import { liveTestOptions } from './bpf-available';
import { parseJsonLines, startSocktop } from './socktop-run';

const FIXTURE = path.resolve(__dirname, '../../../test/live/fixtures/socket-ends.py');
const N = 10;
const settle = (): Promise<void> => new Promise((r) => setTimeout(r, 500)); // the reader's poll timeout

interface Conn { clientPort: number; sent: number; aborter?: 'client' | 'server' }
interface Truth { serverPid: number; clientPid: number; port: number; conns: Conn[] }
type Ev = ReturnType<typeof parseJsonLines>[number];

/** The records of one connection's two ends: [client side, server side]. */
function ends(events: Ev[], t: Truth, c: Conn): [Ev[], Ev[]] {
  const client = events.filter((e) => e.proto === 'tcp' && e.lport === c.clientPort && e.rport === t.port);
  const server = events.filter((e) => e.proto === 'tcp' && e.lport === t.port && e.rport === c.clientPort);
  return [client, server];
}

/** Every close of the fixture's processes, and of sockets they own, is one of the expected ones. */
function assertOneCloseEach(events: Ev[], t: Truth): void {
  const closes = events.filter((e) => e.kind === 'close' && (e.pid === t.serverPid || e.pid === t.clientPid));
  assert.equal(closes.filter((e) => e.pid === t.clientPid).length, t.conns.length,
    `one close per client socket: ${JSON.stringify(closes.filter((e) => e.pid === t.clientPid))}`);
  assert.equal(closes.filter((e) => e.pid === t.serverPid).length, t.conns.length + 1, 'one per accepted socket, one for the listener');
  assert.equal(closes.filter((e) => e.lport === 0 || e.old_state === 'CLOSE').length, 0, 'no close with lport 0 or from CLOSE');
  const ids = closes.map((e) => e.sock);
  assert.equal(new Set(ids).size, ids.length, 'no socket id closed twice');
}

/** duration_us: the lifetime where socktop saw the socket begin, else null (unknown, not 0). */
function assertDurations(closes: Ev[], known: boolean): void {
  for (const e of closes) {
    if (known) assert.ok(typeof e.duration_us === 'number' && e.duration_us > 0, `lifetime: ${JSON.stringify(e)}`);
    else assert.equal(e.duration_us, null, `began before socktop: ${JSON.stringify(e)}`);
  }
}

function assertHalfClose(events: Ev[], t: Truth, softirqEnd: boolean): void {
  assertOneCloseEach(events, t);
  for (const c of t.conns) {
    const [client, server] = ends(events, t, c);
    const cClose = client.filter((e) => e.kind === 'close');
    assert.equal(cClose.length, 1, `client ${c.clientPort}: ${JSON.stringify(cClose)}`);
    assert.equal(cClose[0].pid, t.clientPid);
    assert.equal(cClose[0].comm, 'ends-client');
    assert.deepEqual([cClose[0].bytes_sent, cClose[0].bytes_received], [0, c.sent]);
    assert.equal(new Set(client.map((e) => e.sock)).size, 1, 'one socket id for all of the client end');
    if (softirqEnd) {
      // Through TIME_WAIT to CLOSE, on the peer's ACK of the FIN, in softirq: no process made it.
      assert.equal(cClose[0].old_state, 'FIN_WAIT2');
      assert.equal(cClose[0].tid, null, `no tid from interrupt context: ${JSON.stringify(cClose[0])}`);
    }
    const sClose = server.filter((e) => e.kind === 'close');
    assert.equal(sClose.length, 1, `server end of ${c.clientPort}`);
    assertDurations([cClose[0], sClose[0]], softirqEnd);
    assert.deepEqual([sClose[0].pid, sClose[0].comm, sClose[0].bytes_sent, sClose[0].bytes_received], [t.serverPid, 'ends-server', c.sent, 0]);
  }
}

function runFixture(mode: string): Truth {
  return JSON.parse(execFileSync('python3', [FIXTURE, mode, String(N)], { encoding: 'utf8', timeout: 30000 }).trim());
}

for (const probe of ['cgroup', 'tracepoint']) {
  test(`--probe ${probe}: a socket the kernel closed before its owner read and closed it ends once`, liveTestOptions(), async () => {
    const socktop = await startSocktop(['--json', '--probe', probe]);
    let truth: Truth;
    try {
      truth = runFixture('halfclose');
      await settle();
    } finally {
      assert.equal(await socktop.stop('SIGINT'), 0, socktop.stderr());
    }
    assertHalfClose(parseJsonLines(socktop.stdout()), truth, true);
  });

  test(`--probe ${probe}: a reset sent by its owner's SO_LINGER 0 close is the owner's`, liveTestOptions(), async () => {
    const socktop = await startSocktop(['--json', '--probe', probe]);
    let truth: Truth;
    try {
      truth = runFixture('abort');
      await settle();
    } finally {
      assert.equal(await socktop.stop('SIGINT'), 0, socktop.stderr());
    }
    const events = parseJsonLines(socktop.stdout());
    assertOneCloseEach(events, truth);
    for (const c of truth.conns) {
      const [client, server] = ends(events, truth, c);
      const [aborter, peer] = c.aborter === 'client' ? [client, server] : [server, client];
      const [aborterPid, peerPid] = c.aborter === 'client' ? [truth.clientPid, truth.serverPid] : [truth.serverPid, truth.clientPid];
      const sent = aborter.filter((e) => e.kind === 'reset');
      assert.deepEqual(sent.map((e) => [e.reset, e.pid, e.tid, e.comm, e.owner]),
        [['sent', aborterPid, aborterPid, `ends-${c.aborter}`, undefined]], `${c.aborter} ${c.clientPort} sent the reset: ${JSON.stringify(sent)}`);
      const received = peer.filter((e) => e.kind === 'reset');
      assert.deepEqual(received.map((e) => [e.reset, e.pid]), [['received', peerPid]]);
      for (const side of [client, server]) {
        const closes = side.filter((e) => e.kind === 'close');
        assert.equal(closes.length, 1);
        assert.deepEqual([closes[0].bytes_sent, closes[0].bytes_received], [100, 100]);
      }
    }
  });

  test(`--probe ${probe}: sockets from before socktop started, closed by the kernel, then read and closed, end once`, liveTestOptions(), async () => {
    const fixture = spawn('python3', [FIXTURE, 'pre', String(N)], { stdio: ['pipe', 'pipe', 'inherit'] });
    let out = '';
    fixture.stdout!.setEncoding('utf8').on('data', (d) => (out += d));
    const exited = new Promise((r) => fixture.on('exit', r));
    await new Promise<void>((resolve) => fixture.stdout!.on('data', () => { if (out.includes('\n')) resolve(); }));
    let socktop: Awaited<ReturnType<typeof startSocktop>>;
    try {
      socktop = await startSocktop(['--json', '--probe', probe]);
    } catch (e) {
      fixture.kill();
      throw e;
    }
    try {
      fixture.stdin!.write('go\n');
      await exited;
      await settle();
    } finally {
      assert.equal(await socktop.stop('SIGINT'), 0, socktop.stderr());
    }
    const truth: Truth = JSON.parse(out.trim().split('\n').pop()!);
    assertHalfClose(parseJsonLines(socktop.stdout()), truth, false);
  });
}
