/**
 * UDP flows (cgroup and tracepoint backends), exactly: ground truth from test/live/fixtures/udp_flows.py, run in a
 * private network namespace (only lo). For each pair of sockets: one flow on each, naming the other
 * end as its peer, with the exact datagrams and bytes each way and the pid that moved them; a
 * receiver that reads with recv() (no address asked for) gets a flow with the peer unknown, its
 * datagrams and bytes still exact. The latest udp_flow record of a flow holds its totals.
 */
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { execFileSync } from 'child_process';
import * as path from 'path';
import { liveTestOptions } from './bpf-available';
import { parseJsonLines, startSocktop } from './socktop-run';

const FIXTURE = path.resolve(__dirname, '../../../test/live/fixtures/udp_flows.py');
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

interface Truth {
  name: string; family: string; host: string; server_pid: number; client_pid: number;
  server_port: number; client_port: number; to_server: number[]; to_client: number[];
}
type Ev = ReturnType<typeof parseJsonLines>[number];

const total = (sizes: number[]): number => sizes.reduce((a, b) => a + b, 0);

/** The latest record of each flow (sock + peer). */
function latestFlows(events: Ev[]): Ev[] {
  const byFlow = new Map<string, Ev>();
  for (const e of events.filter((x) => x.kind === 'udp_flow')) byFlow.set(`${e.sock}/${e.raddr}/${e.rport}/${e.peer ?? ''}`, e);
  return [...byFlow.values()];
}

for (const probe of ['cgroup', 'tracepoint']) {
  test(`UDP flows (${probe}): peers, datagrams and bytes each way, pids; an unknown peer counted`, liveTestOptions(), async () => {
    const socktop = await startSocktop(['--json', '--probe', probe, '--family', 'inet']);
    let truths: Truth[];
    try {
      const script = `ip link set lo up && exec python3 ${FIXTURE}`;
      const out = execFileSync('unshare', ['-n', 'sh', '-c', script], { encoding: 'utf8' });
      truths = out.trim().split('\n').map((l) => JSON.parse(l));
      await sleep(2500); // the drains (once a second) that report them
    } finally {
      await socktop.stop();
    }
    const events = parseJsonLines(socktop.stdout());
    const flows = latestFlows(events);
    const refusedTruth = truths.find((t) => t.name === 'refused') as unknown as { pid: number; lport: number; port: number; errno: number };
    const recverr = truths.find((t) => t.name === 'recverr') as unknown as { pid: number; lport: number; port: number; errno: number };
    for (const t of truths.filter((x) => x.name !== 'refused' && x.name !== 'recverr')) {
      const server = flows.filter((f) => f.pid === t.server_pid && f.lport === t.server_port && f.family === t.family);
      const client = flows.filter((f) => f.pid === t.client_pid && f.lport === t.client_port && f.family === t.family);
      assert.equal(server.length, 1, `${t.name}: one flow on the server's socket: ${JSON.stringify(server)}`);
      assert.equal(client.length, 1, `${t.name}: one flow on the client's socket: ${JSON.stringify(client)}`);
      const [s] = server;
      const [c] = client;
      assert.equal(c.proto, 'udp');
      assert.equal(c.raddr, t.host, `${t.name}: the client's peer`);
      assert.equal(c.rport, t.server_port);
      assert.equal(c.comm, 'python3');
      assert.deepEqual(
        [c.datagrams_sent, c.bytes_sent, c.datagrams_received, c.bytes_received],
        [t.to_server.length, total(t.to_server), t.to_client.length, total(t.to_client)],
        `${t.name}: the client's datagrams and bytes each way`,
      );
      assert.deepEqual(
        [s.datagrams_received, s.bytes_received, s.datagrams_sent, s.bytes_sent],
        [t.to_server.length, total(t.to_server), t.to_client.length, total(t.to_client)],
        `${t.name}: the server's datagrams and bytes each way`,
      );
      assert.ok(c.first_seen_ns <= c.last_seen_ns && c.last_seen_ns === c.ts_ns, `${t.name}: first and last seen`);
      if (t.name === 'recv-unknown') {
        assert.equal(s.peer, 'unknown', 'recv() without an address: the peer is unknown');
        assert.equal(s.rport, 0);
      } else {
        assert.equal(s.peer, undefined);
        assert.equal(s.raddr, t.host, `${t.name}: the server's peer`);
        assert.equal(s.rport, t.client_port);
      }
    }
    // connect() on UDP, and the ICMP port unreachable that answers its datagram
    const r = refusedTruth;
    assert.equal(r.errno, 111, 'the fixture saw ECONNREFUSED');
    const connects = events.filter((e) => e.kind === 'connect' && e.proto === 'udp' && e.pid === r.pid);
    assert.equal(connects.length, 1, `one UDP connect: ${JSON.stringify(connects)}`);
    assert.deepEqual([connects[0].raddr, connects[0].rport, connects[0].error, connects[0].comm], ['127.0.0.1', r.port, null, 'python3']);
    const refused = events.filter((e) => e.kind === 'sock_error' && e.rport === r.port);
    assert.equal(refused.length, 1, `ECONNREFUSED once: ${JSON.stringify(refused)}`);
    assert.deepEqual([refused[0].error, refused[0].pid, refused[0].lport, refused[0].tid], ['ECONNREFUSED', r.pid, r.lport, null]);
    assert.equal(refused[0].sock, connects[0].sock, 'the error names the connected socket');
    const sent = latestFlows(events).filter((f) => f.pid === r.pid && f.rport === r.port);
    assert.deepEqual(sent.map((f) => [f.datagrams_sent, f.bytes_sent]), [[1, 42]], 'its one datagram, in its flow');
    // an unconnected socket with IP_RECVERR: the error, its peer unknown
    assert.equal(recverr.errno, 111, 'the fixture saw ECONNREFUSED (SO_ERROR)');
    const unconnected = events.filter((e) => e.kind === 'sock_error' && e.pid === recverr.pid && e.lport === recverr.lport);
    assert.equal(unconnected.length, 1, `one error on the unconnected socket: ${JSON.stringify(unconnected)}`);
    assert.deepEqual([unconnected[0].error, unconnected[0].peer, unconnected[0].rport], ['ECONNREFUSED', 'unknown', 0]);
    const lost = events.filter((e) => e.kind === 'drops' && e.stage === 'udp_flows');
    assert.equal(lost.length, 0, 'no datagram outside a flow');
  });
}
