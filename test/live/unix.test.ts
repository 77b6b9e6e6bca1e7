/**
 * Unix-domain sockets, exactly, on the cgroup and tracepoint backends (kernel 6.7+ for the cgroup
 * connect hook): ground truth from
 * test/live/fixtures/unix_work.py, where a server and the client it forks exchange a known number
 * of bytes over a stream socket with a path, one with an abstract name, a seqpacket socket, a
 * connected datagram socket and an unconnected one that names its destination in each sendto()
 * (its records carry that address and the receiver's pid). For each connection: the address (UNIX_PATH records), the CONNECT by
 * the client naming the listener's pid, the ACCEPT by the server naming the client's pid, the
 * listener found (inferred), the bytes each way, and each end's CLOSE found by the 1 s walk
 * (inferred) with its exact totals and peer pid. The sockets live in socktop's own network
 * namespace: the walk covers only that one.
 */
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { execFileSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { liveTestOptions } from './bpf-available';
import { parseJsonLines, startSocktop } from './socktop-run';

const FIXTURE = path.resolve(__dirname, '../../../test/live/fixtures/unix_work.py');
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

interface Truth { name: string; type: string; addr: string; server_pid: number; client_pid: number; c2s: number; s2c: number }
type Ev = ReturnType<typeof parseJsonLines>[number];

/** path_id -> the address, assembled from the unix_path pieces. */
function pathTable(events: Ev[]): Map<string, string> {
  const pieces = new Map<string, string[]>();
  for (const e of events.filter((x) => x.kind === 'unix_path')) {
    const parts = pieces.get(e.path_id) ?? [];
    parts[e.offset / 32] = e.text;
    pieces.set(e.path_id, parts);
  }
  return new Map([...pieces].map(([id, parts]) => [id, parts.join('')]));
}

const sum = (evs: Ev[], kind: string): number => evs.filter((e) => e.kind === kind).reduce((n, e) => n + e.bytes, 0);

for (const probe of ['cgroup', 'tracepoint']) {
  test(`unix sockets (${probe}): path and abstract stream, seqpacket, dgram: peers, pids and bytes exact`, liveTestOptions(), async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'socktop-unix-'));
    const socktop = await startSocktop(['--json', '--probe', probe, '--family', 'unix']);
    let truths: Truth[];
    try {
      await sleep(1200); // a first walk
      const out = execFileSync('python3', [FIXTURE, dir, String(process.pid)], { encoding: 'utf8' });
      truths = out.trim().split('\n').map((l) => JSON.parse(l));
      await sleep(2500); // the walks that find the closes
    } finally {
      await socktop.stop();
      fs.rmSync(dir, { recursive: true, force: true });
    }
    const events = parseJsonLines(socktop.stdout());
    assert.ok(events.every((e) => e.family === 'unix' || e.kind === 'unix_path' || e.family === undefined), '--family unix: no inet record');
    const paths = pathTable(events);
    for (const t of truths) {
      const ids = [...paths].filter(([, text]) => text === t.addr).map(([id]) => id);
      assert.equal(ids.length, 1, `${t.name}: its address ${JSON.stringify(t.addr)} in one unix_path table entry`);
      const id = ids[0];
      const mine = events.filter((e) => e.family === 'unix' && e.path_id === id && e.type === t.type);
      const client = mine.filter((e) => e.pid === t.client_pid);
      const server = mine.filter((e) => e.pid === t.server_pid);
      const clientSock = client.find((e) => e.kind === 'close')?.sock;
      assert.ok(clientSock, `${t.name}: the client's close: ${JSON.stringify(client)}`);
      const clientEvs = client.filter((e) => e.sock === clientSock);
      const clientClose = clientEvs.find((e) => e.kind === 'close')!;
      assert.equal(clientClose.bytes_sent, t.c2s, `${t.name}: client sent`);
      assert.equal(clientClose.bytes_received, t.s2c, `${t.name}: client received`);
      assert.equal(clientClose.inferred, true);
      // SEND records carry each second's bytes; a socket's first second goes with its CLOSE.
      assert.ok(sum(clientEvs, 'send') <= t.c2s, `${t.name}: the client's send records within its total`);
      assert.equal(clientClose.comm, 'python3');
      if (t.type === 'dgram') {
        const serverClose = server.find((e) => e.kind === 'close' && e.type === 'dgram');
        assert.equal(serverClose?.bytes_received, t.c2s, `${t.name}: the server received every datagram's bytes`);
        assert.equal(clientClose.peer_pid, t.server_pid, `${t.name}: the client's peer is the server`);
        continue;
      }
      const connect = clientEvs.find((e) => e.kind === 'connect');
      assert.ok(connect, `${t.name}: a connect`);
      assert.equal(connect.error, null);
      assert.equal(connect.peer_pid, t.server_pid, `${t.name}: connect names the listener's pid`);
      assert.equal(connect.tid, t.client_pid);
      const accept = server.find((e) => e.kind === 'accept');
      assert.ok(accept, `${t.name}: an accept by the server: ${JSON.stringify(server)}`);
      assert.equal(accept.peer_pid, t.client_pid, `${t.name}: accept names the client's pid`);
      assert.equal(accept.accepted_at, 'first_use');
      const serverClose = server.find((e) => e.kind === 'close' && e.sock === accept.sock);
      assert.ok(serverClose, `${t.name}: the server side's close`);
      assert.equal(serverClose.bytes_sent, t.s2c, `${t.name}: server sent`);
      assert.equal(serverClose.bytes_received, t.c2s, `${t.name}: server received`);
      assert.equal(serverClose.peer_pid, t.client_pid);
      assert.equal(clientClose.peer_pid, t.server_pid, `${t.name}: the client's peer is the acceptor`);
      const listen = events.find((e) => e.kind === 'listen' && e.path_id === id);
      assert.ok(listen, `${t.name}: its listener`);
      assert.equal(listen.pid, t.server_pid);
      assert.equal(listen.comm, 'python3', `${t.name}: the listener's name, from /proc`);
      assert.equal(listen.peer_pid, null, `${t.name}: a listener has no peer`);
      assert.equal(listen.inferred, true);
      const listenerClose = events.find((e) => e.kind === 'close' && e.sock === listen.sock);
      assert.ok(listenerClose, `${t.name}: the listener's close`);
      assert.equal(listenerClose.old_state, 'LISTEN');
      assert.equal(listenerClose.pid, t.server_pid, `${t.name}: the listener's close names its owner`);
    }
  });
}
