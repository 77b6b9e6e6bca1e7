/**
 * Sockets that existed before socktop started: a server already listening with an idle connection.
 * From the first events socktop must show the listener and both ends of the connection with their
 * owners, and attribute the later traffic and closes of those sockets to them.
 */
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import * as path from 'path';
import { spawn } from 'child_process';
import { liveTestOptions } from './bpf-available';
import { parseJsonLines, startSocktop } from './socktop-run';

const FIXTURE = path.join(__dirname, 'fixtures/preexisting.js');

test('existing listeners and connections are shown and attributed', liveTestOptions(), async () => {
  const server = spawn(process.execPath, [FIXTURE], { stdio: ['pipe', 'pipe', 'inherit'] });
  const ready = await new Promise<{ serverPid: number; clientPid: number; port: number }>((resolve) => {
    server.stdout!.once('data', (d) => resolve(JSON.parse(String(d))));
  });
  const exited = new Promise((r) => server.on('exit', r));
  let socktop: Awaited<ReturnType<typeof startSocktop>>;
  try {
    socktop = await startSocktop(['--json']);
  } catch (e) {
    server.kill(); // it waits for "go" forever: without this a failed start hangs the test
    throw e;
  }
  try {
    server.stdin!.write('go\n');
    await exited;
    await new Promise((r) => setTimeout(r, 500));
  } finally {
    assert.equal(await socktop.stop('SIGINT'), 0, socktop.stderr());
  }
  const events = parseJsonLines(socktop.stdout());
  const { serverPid, clientPid, port } = ready;
  const snap = events.filter((e) => e.snapshot);
  const listen = snap.find((e) => e.kind === 'listen' && e.lport === port);
  assert.ok(listen, 'the listener is in the snapshot');
  assert.equal(listen.pid, serverPid);
  assert.equal(listen.comm, 'pre-server');
  const serverEnd = snap.find((e) => e.kind === 'socket' && e.lport === port && e.pid === serverPid);
  const clientEnd = snap.find((e) => e.kind === 'socket' && e.rport === port && e.pid === clientPid);
  assert.ok(serverEnd && clientEnd, 'both ends of the idle connection are in the snapshot');
  assert.equal(clientEnd.comm, 'pre-client');
  // The later closes of those very sockets carry their owners and their snapshot identity.
  for (const [end, pid] of [[serverEnd, serverPid], [clientEnd, clientPid], [listen, serverPid]] as const) {
    const closes = events.filter((e) => e.kind === 'close' && e.sock === end.sock);
    assert.equal(closes.length, 1, `one close for ${end.kind} ${end.lport}->${end.rport}`);
    assert.equal(closes[0].pid, pid);
  }
  // Nothing about these sockets was left without an owner.
  const socks = new Set([serverEnd.sock, clientEnd.sock, listen.sock]);
  assert.equal(events.filter((e) => socks.has(e.sock) && e.owner === 'unknown').length, 0);
});
