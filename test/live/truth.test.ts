/**
 * Truth checks on real BPF, per backend: a retried non-blocking connect counts once; no kernel
 * address appears in any output (JSON, batch text, the recording's bytes); and a connection made
 * entirely through io_uring, which syscall tracepoints cannot see, is seen whole (its socket, its
 * accept at the operation's completion, with or without I/O on it).
 */
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { RECORD_SIZE } from '../../src/capture/layout';
import { openRecording } from '../../src/record/reader';
import { liveTestOptions } from './bpf-available';
import { CLI, closedPort, parseJsonLines, runNode, startSocktop } from './socktop-run';

const FIXTURES = path.resolve(__dirname, '../../../test/live/fixtures');
const TRAFFIC = path.join(__dirname, 'fixtures/traffic.js');
const settle = (): Promise<void> => new Promise((r) => setTimeout(r, 500)); // the reader's poll timeout

/** A kernel address as text: the direct map and vmalloc ranges all start 0xffff. */
const KERNEL_ADDRESS_TEXT = /ffff[89a-f][0-9a-f]{11}/i;

for (const probe of ['cgroup', 'tracepoint']) {
  test(`--probe ${probe}: a non-blocking connect retried after it failed is one failed connect`, liveTestOptions(), async () => {
    const socktop = await startSocktop(['--json', '--probe', probe]);
    let run: { pid: number; port: number; results: string[] };
    try {
      const out = execFileSync('python3', [path.join(FIXTURES, 'retry-connect.py'), String(await closedPort())], { encoding: 'utf8' });
      run = JSON.parse(out.trim());
      await settle();
    } finally {
      assert.equal(await socktop.stop('SIGINT'), 0, socktop.stderr());
    }
    assert.deepEqual(run.results, ['EINPROGRESS', 'ECONNREFUSED'], 'the retry returns the first attempt\'s error');
    const connects = parseJsonLines(socktop.stdout()).filter((e) => e.pid === run.pid && e.kind === 'connect');
    assert.deepEqual(connects.map((e) => [e.error, e.raddr, e.rport]), [['ECONNREFUSED', '127.0.0.1', run.port]],
      `one refused connect, no extra one with rport 0: ${JSON.stringify(connects)}`);
  });

  test(`--probe ${probe}: no kernel address in JSON, batch text or the recording`, liveTestOptions(), async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'socktop-addr-'));
    fs.chmodSync(dir, 0o1777); // under sudo the recording is created as the invoking user
    const file = path.join(dir, 'rec.socktop');
    const socktop = await startSocktop(['--json', '--probe', probe, '--record', file]);
    try {
      await runNode(TRAFFIC, ['server', '3', '100', String(await closedPort())]);
      await settle();
    } finally {
      assert.equal(await socktop.stop('SIGINT'), 0, socktop.stderr());
    }
    const json = socktop.stdout();
    const events = parseJsonLines(json);
    assert.ok(events.filter((e) => e.sock).length > 20, 'events with socket ids');
    assert.doesNotMatch(json, KERNEL_ADDRESS_TEXT);
    for (const e of events.filter((x) => x.sock)) assert.match(e.sock, /^[0-9a-f]{1,14}(-\d+)?$/, `opaque id: ${e.sock}`);
    const batch = spawnSync(process.execPath, [CLI, 'replay', file, '-b', '-n', '1'], { encoding: 'utf8' });
    assert.equal(batch.status, 0, batch.stderr);
    assert.doesNotMatch(batch.stdout + batch.stderr, KERNEL_ADDRESS_TEXT);
    // The recording's records: no 64-bit word (at the record's own 8-byte alignment, where the
    // BPF side writes pointers) in the kernel's half of the address space; the rest of the file
    // (header, process descriptions: JSON) holds no kernel address as text.
    const rec = openRecording(file);
    let words = 0;
    for (const b of rec.batches()) {
      for (let at = 0; at + 8 <= b.bytes.length; at += 8, words++) {
        assert.ok(b.view.getUint16(at + 6, true) < 0xffff, `kernel-looking word at byte ${at % RECORD_SIZE} of record ${b.first + Math.floor(at / RECORD_SIZE)}`);
      }
    }
    rec.close();
    assert.ok(words > 100, 'records checked');
    assert.doesNotMatch(fs.readFileSync(file, 'latin1'), KERNEL_ADDRESS_TEXT);
    fs.rmSync(dir, { recursive: true, force: true });
  });
}

/** The io_uring fixture, built with liburing (scripts/setup.sh installs liburing-dev). */
function buildUring(): string {
  const out = path.join(os.tmpdir(), `socktop-uring-${process.pid}`);
  execFileSync('cc', ['-O2', '-o', out, path.join(FIXTURES, 'uring.c'), '-luring']);
  return out;
}

for (const probe of ['cgroup', 'tracepoint']) {
  for (const mode of ['io', 'noio']) {
    test(`--probe ${probe} sees a connection made entirely through io_uring${mode === 'noio' ? ', with no I/O on it' : ''}, with pids on both sides`, liveTestOptions(), async () => {
      const uring = buildUring();
      const socktop = await startSocktop(['--json', '--probe', probe]);
      let run: { serverPid: number; clientPid: number; port: number; bytes: number };
      try {
        run = JSON.parse(execFileSync(uring, mode === 'noio' ? ['noio'] : [], { encoding: 'utf8' }).trim());
        await settle();
      } finally {
        assert.equal(await socktop.stop('SIGINT'), 0, socktop.stderr());
        fs.rmSync(uring, { force: true });
      }
      assert.equal(run.bytes, mode === 'noio' ? 0 : 1000);
      const events = parseJsonLines(socktop.stdout());
      const of = (pid: number, kind: string) => events.filter((e) => e.pid === pid && e.kind === kind);
      // The client's socket came from IORING_OP_SOCKET: no socket() syscall ran (the tracepoint
      // backend sees it at the operation's completion).
      const sockets = of(run.clientPid, 'socket');
      assert.equal(sockets.length, 1, `client socket: ${JSON.stringify(events.filter((e) => e.pid === run.clientPid))}`);
      assert.equal(sockets[0].comm, 'uring-client');
      const connects = of(run.clientPid, 'connect');
      assert.deepEqual(connects.map((e) => [e.error, e.rport]), [[null, run.port]]);
      // The accept came from IORING_OP_ACCEPT: claimed by the server when the operation completed,
      // not at its first use (with no I/O there is none before its close).
      const accepts = of(run.serverPid, 'accept');
      assert.deepEqual(accepts.map((e) => [e.comm, e.lport, e.rport, e.accepted_at]), [['uring-server', run.port, connects[0].lport, undefined]]);
      const serverSock = events.filter((e) => e.sock === accepts[0].sock);
      const serverClose = serverSock.filter((e) => e.kind === 'close');
      assert.deepEqual(serverClose.map((e) => [e.pid, e.comm, e.bytes_received]), [[run.serverPid, 'uring-server', run.bytes]],
        'the accepted socket closed once, by the server, under its accept id');
      assert.equal(serverSock.filter((e) => e.ts_ns > accepts[0].ts_ns && e.pid !== run.serverPid).length, 0, 'the server\'s from its accept on');
      const clientClose = of(run.clientPid, 'close').filter((e) => e.rport === run.port);
      assert.equal(clientClose.length, 1);
      assert.equal(clientClose[0].bytes_sent, run.bytes);
    });
  }
}
