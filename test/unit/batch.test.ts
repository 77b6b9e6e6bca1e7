import { test } from 'node:test';
import assert from 'node:assert/strict';
import { EventKind as K } from '../../src/capture/layout';
import { formatSnapshot, runBatch } from '../../src/cli/commands/batch';
import { NO_FILTER, parsePidFilter } from '../../src/model/filter';
import { SocketModel } from '../../src/model/model';
import { UserNames } from '../../src/model/users';
import { feed, kernelSock, makeRecord, MS, SEC } from './helpers/records';
import { collector, fakeSource } from './helpers/source';

const T0 = 5000 * SEC;
const users = new UserNames(() => 'root:x:0:0::/root:/bin/sh\nwww:x:33:33::/var/www:/bin/sh\n');

function records(): Uint8Array[] {
  const out: Uint8Array[] = [];
  const lsock = kernelSock(1);
  out.push(makeRecord({ kind: K.Listen, pid: 100, uid: 33, comm: 'nginx', sock: lsock, ts_ns: T0, laddr: '0.0.0.0', lport: 80 }));
  out.push(makeRecord({ kind: K.Listen, pid: 100, uid: 33, comm: 'nginx', sock: kernelSock(2), ts_ns: T0, laddr: '0.0.0.0', lport: 443 }));
  for (let i = 0; i < 10; i++) {
    out.push(makeRecord({ kind: K.Accept, pid: 100, uid: 33, comm: 'nginx', sock: kernelSock(10 + i), ts_ns: T0 + i * 100 * MS, lport: 80, rport: 4000 + i }));
    out.push(makeRecord({ kind: K.Close, pid: 100, uid: 33, comm: 'nginx', sock: kernelSock(10 + i), ts_ns: T0 + i * 100 * MS + MS, bytes_sent: 1024, bytes_received: 512 }));
  }
  for (let i = 0; i < 5; i++) {
    out.push(makeRecord({ kind: K.Connect, pid: 200, comm: 'curl', sock: kernelSock(50 + i), ts_ns: T0 + i * 100 * MS, duration_ns: 80_000 }));
  }
  out.push(makeRecord({ kind: K.Connect, pid: 200, comm: 'curl', sock: kernelSock(60), ts_ns: T0 + 600 * MS, error: 111 }));
  out.push(makeRecord({ kind: K.Drops, new_state: 1, count: 4, ts_ns: T0 }));
  return out;
}

function snapshot(opts: Partial<Parameters<typeof formatSnapshot>[0]> = {}): string {
  const model = new SocketModel({ users });
  feed(model, records());
  model.refresh(T0 + 2 * SEC);
  return formatSnapshot({
    model, info: { mode: 'live', backend: 'tracepoint', host: 'box', kernel: '6.1.0' },
    drops: [0, 4, 2, 0], filter: NO_FILTER, sortKey: 'acc', descending: true, width: Infinity,
    wallTime: new Date(2026, 0, 2, 3, 4, 5), uptimeMs: 65_000, ...opts,
  });
}

test('a snapshot: header with time, events and drops per stage, then the sorted table', () => {
  const lines = snapshot().split('\n');
  assert.equal(lines[0], 'socktop - 03:04:05 up 1:05, box, kernel 6.1.0, probe tracepoint, events 29 (5.8/s), '
    + 'drops: kernel_miss 0, bpf_ring 4, shared_ring 2, recording 0');
  assert.equal(lines[1], 'Processes: 2 total, 2 shown, sockets open 2, unattributed events 0');
  assert.equal(lines[2], '');
  assert.match(lines[3], /^\s+PID S USER\s+COMM\s+LISTEN\s+OPEN\s+CONN\/s\s+ACC\/s↓\s+CLOSE\/s\s+ERR\s+RETX\s+TX\/s\s+RX\/s\s+LAT-p50\s+LAT-p99\s+AGE$/);
  const nginx = lines[4].trim().split(/\s+/);
  assert.deepEqual(nginx, ['100', 'www', 'nginx', '80,443', '2', '0', '2.0', '2.0', '0', '0', '2.0K', '1.0K', '-', '-', '1s']);
  const curl = lines[5].trim().split(/\s+/);
  assert.deepEqual(curl, ['200', 'root', 'curl', '-', '0', '1.2', '0', '0', '1', '0', '0', '0', '80us', '80us', '1s']);
  assert.equal(lines[6], '');
});

test('filters apply and are shown; narrow widths drop low-priority columns', () => {
  const text = snapshot({ filter: { ...NO_FILTER, pids: parsePidFilter('200') } });
  assert.match(text, /2 total, 1 shown.*filter: pid 200/);
  assert.doesNotMatch(text, /nginx/);
  const narrow = snapshot({ width: 80 }).split('\n');
  assert.ok(narrow.slice(3).every((l) => l.length <= 80), 'every table line fits 80 columns');
  assert.doesNotMatch(narrow[3], /USER|LAT-p50/);
  const byComm = snapshot({ filter: { ...NO_FILTER, comm: 'NGINX' } });
  assert.match(byComm, /1 shown, .*filter: comm ~ NGINX/);
});

test('runBatch prints N snapshots from a source, then stops', async () => {
  const src = fakeSource(records());
  src.done = false;
  const out = collector();
  await runBatch(src, { delaySec: 0.1, iterations: 2, filter: NO_FILTER, out: out.stream, signal: new AbortController().signal });
  const text = out.text();
  assert.equal(text.match(/^socktop - /gm)?.length, 2);
  assert.match(text, /events 29/);
  assert.match(text, /drops: kernel_miss 0, bpf_ring 4/);
});

test('runBatch ends after one snapshot when a finite source runs dry', async () => {
  const src = fakeSource(records());
  const out = collector();
  await runBatch(src, { delaySec: 5, filter: NO_FILTER, out: out.stream, signal: new AbortController().signal });
  assert.equal(out.text().match(/^socktop - /gm)?.length, 1);
});
