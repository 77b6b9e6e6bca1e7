/**
 * Bytes of a kept-alive connection that goes quiet: the BPF side reports a socket's bytes at most
 * once a second, and the reader's flush (run_flush_bytes) reports what a burst left unreported. So
 * the bytes of one request and its response reach socktop, for the right process on each side,
 * while the connection is still open and idle; its close then adds nothing twice.
 */
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import * as path from 'path';
import { spawn } from 'child_process';
import { liveTestOptions } from './bpf-available';
import { parseJsonLines, startSocktop } from './socktop-run';
import { waitFor } from './native-fixture';

const FIXTURE = path.join(__dirname, 'fixtures/keepalive.js');
const REQ = 1000;
const RESP = 300;

type Event = Record<string, any>;

function bytesOf(events: Event[], pid: number, kind: 'send' | 'recv', port: number): number {
  return events
    .filter((e) => e.kind === kind && e.pid === pid && (e.lport === port || e.rport === port))
    .reduce((sum, e) => sum + e.bytes, 0);
}

test('bytes of an idle kept-alive connection arrive before it closes, once', liveTestOptions(), async () => {
  const socktop = await startSocktop(['--json']);
  const server = spawn(process.execPath, [FIXTURE, 'server', String(REQ), String(RESP)], { stdio: ['pipe', 'pipe', 'inherit'] });
  const exited = new Promise((r) => server.on('exit', r));
  let ready: { serverPid: number; clientPid: number; port: number; clientPort: number };
  try {
    ready = await new Promise((resolve, reject) => {
      server.stdout!.once('data', (d) => resolve(JSON.parse(String(d))));
      server.once('exit', (code) => reject(new Error(`the keepalive fixture exited (${code}) before its exchange`)));
    });
    const { serverPid, clientPid, port } = ready;
    // The exchange is over and both ends are idle: within the flush period (1 s) plus the time a
    // socket's first report waits (1 s), all four figures are there.
    const complete = (): boolean => {
      const ev = parseJsonLines(socktop.stdout());
      return bytesOf(ev, clientPid, 'send', port) === REQ && bytesOf(ev, serverPid, 'recv', port) === REQ
        && bytesOf(ev, serverPid, 'send', port) === RESP && bytesOf(ev, clientPid, 'recv', port) === RESP;
    };
    const arrived = await waitFor(complete, 6000);
    const before = parseJsonLines(socktop.stdout());
    assert.ok(arrived, `bytes while open: client sent ${bytesOf(before, clientPid, 'send', port)}/${REQ}, `
      + `server received ${bytesOf(before, serverPid, 'recv', port)}/${REQ}, server sent `
      + `${bytesOf(before, serverPid, 'send', port)}/${RESP}, client received ${bytesOf(before, clientPid, 'recv', port)}/${RESP}`);
    assert.equal(before.filter((e) => e.kind === 'close' && (e.lport === port || e.rport === port) && e.rport !== 0).length, 0,
      'the connection is still open');
  } finally {
    server.stdin!.write('end\n');
    await exited;
    await new Promise((r) => setTimeout(r, 300));
    assert.equal(await socktop.stop('SIGINT'), 0, socktop.stderr());
  }
  const events = parseJsonLines(socktop.stdout());
  const { serverPid, clientPid, port, clientPort } = ready;
  // Nothing reported twice: the byte events still sum to the exchange, and the closes' totals agree.
  assert.equal(bytesOf(events, clientPid, 'send', port), REQ);
  assert.equal(bytesOf(events, serverPid, 'send', port), RESP);
  const clientClose = events.find((e) => e.kind === 'close' && e.pid === clientPid && e.lport === clientPort);
  const serverClose = events.find((e) => e.kind === 'close' && e.pid === serverPid && e.lport === port && e.rport === clientPort);
  assert.ok(clientClose && serverClose, 'both ends closed');
  assert.deepEqual([clientClose.bytes_sent, clientClose.bytes_received], [REQ, RESP]);
  assert.deepEqual([serverClose.bytes_sent, serverClose.bytes_received], [RESP, REQ]);
  assert.equal(clientClose.comm, 'ka-client');
  assert.equal(serverClose.comm, 'ka-server');
});
