/**
 * The core promise of socktop, checked end to end on real BPF: a server (st-server) on 127.0.0.1
 * and ::1, a separate client process (st-client) making N connections to each with M bytes each
 * way and one connect to a closed port. `socktop --json` must show, per pid and comm, exactly the
 * accepts, connects, refused connect, listens, closes with byte totals, and exits.
 */
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import * as path from 'path';
import { liveTestOptions } from './bpf-available';
import { closedPort as findClosedPort, parseJsonLines, runNode, startSocktop } from './socktop-run';

const N = 5;
const M = 3000;
const TRAFFIC = path.join(__dirname, 'fixtures/traffic.js');

for (const probe of ['cgroup', 'tracepoint', 'auto']) {
  test(`socktop --json --probe ${probe} sees exact per-process socket lifecycles`, liveTestOptions(), async () => {
    const socktop = await startSocktop(['--json', '--probe', probe, '--family', 'inet']) // TCP lifecycles: node's stdio are unix sockets;
    let traffic: any;
    try {
      traffic = JSON.parse((await runNode(TRAFFIC, ['server', String(N), String(M), String(await findClosedPort())])).trim());
      await new Promise((r) => setTimeout(r, 500)); // the reader polls on a short timeout
    } finally {
      assert.equal(await socktop.stop('SIGINT'), 0, socktop.stderr());
    }
    assert.equal(traffic.accepted, 2 * N);
    assert.equal(traffic.clientResult.refused, 'ECONNREFUSED');
    const events = parseJsonLines(socktop.stdout());
    const { serverPid, clientPid, port4, port6, closedPort } = traffic;
    const of = (pid: number, kind: string) => events.filter((e) => e.pid === pid && e.kind === kind);

    // Listens: one per server address, right ports.
    const listens = of(serverPid, 'listen');
    assert.deepEqual(listens.map((e) => `${e.laddr}:${e.lport}`).sort(),
      [`127.0.0.1:${port4}`, `::1:${port6}`].sort());
    // Accepts: N per family for the server, with its comm.
    const accepts = of(serverPid, 'accept');
    assert.equal(accepts.length, 2 * N);
    assert.ok(accepts.every((e) => e.comm === 'st-server'));
    assert.equal(accepts.filter((e) => e.family === 'inet' && e.lport === port4).length, N);
    assert.equal(accepts.filter((e) => e.family === 'inet6' && e.lport === port6).length, N);
    // Connects: N successful per family for the client, one refused.
    const connects = of(clientPid, 'connect');
    const ok = connects.filter((e) => e.error === null);
    assert.equal(ok.length, 2 * N);
    assert.ok(connects.every((e) => e.comm === 'st-client'));
    assert.equal(ok.filter((e) => e.raddr === '127.0.0.1' && e.rport === port4).length, N);
    assert.equal(ok.filter((e) => e.raddr === '::1' && e.rport === port6).length, N);
    assert.ok(ok.every((e) => e.latency_us > 0));
    const failed = connects.filter((e) => e.error !== null);
    assert.deepEqual(failed.map((e) => [e.error, e.rport]), [['ECONNREFUSED', closedPort]]);
    // No other process got these connects or accepts (attribution in softirq is the classic bug).
    assert.equal(events.filter((e) => e.kind === 'accept' && (e.lport === port4 || e.lport === port6)).length, 2 * N);
    // Closes: one per connection on each side, with the bytes each way.
    for (const [pid, comm] of [[serverPid, 'st-server'], [clientPid, 'st-client']] as const) {
      const closes = of(pid, 'close').filter((e) => e.bytes_sent > 0);
      assert.equal(closes.length, 2 * N, `${comm} closes`);
      for (const c of closes) {
        assert.equal(c.comm, comm);
        assert.equal(c.bytes_sent, M);
        assert.equal(c.bytes_received, M);
      }
      assert.equal(new Set(closes.map((c) => c.sock)).size, 2 * N, 'one close per socket');
      assert.equal(of(pid, 'exit').length, 1, `${comm} exit`);
    }
    // Every accepted and connected socket was closed exactly once.
    const closedSocks = new Set(events.filter((e) => e.kind === 'close').map((e) => e.sock));
    for (const e of [...accepts, ...ok]) assert.ok(closedSocks.has(e.sock), `socket ${e.sock} closed`);
  });
}
