import { test } from 'node:test';
import assert from 'node:assert/strict';
import { EventKind as K } from '../../src/capture/layout';
import { formatSnapshot, runBatch } from '../../src/cli/run/batch';
import { NO_FILTER, parsePidFilter } from '../../src/model/filter';
import { SocketModel } from '../../src/model/model';
import { UserNames } from '../../src/capture/users';
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
    + 'drops: kernel_miss 0, udp_flows 0, bpf_ring 4, shared_ring 2, recording 0');
  assert.equal(lines[1], 'Processes: 2 total, 2 shown, sockets open 2, unattributed events 0');
  assert.equal(lines[2], '');
  assert.match(lines[3], /^\s+PID S USER\s+COMM\s+LISTEN\s+OPEN\s+CONN\/s\s+ACC\/s↓\s+CLOSE\/s\s+ERR\s+FAIL\s+QUEUE\s+OVFL\s+ACCW-p99\s+RETX\s+TX\/s\s+RX\/s\s+LAT-p50\s+LAT-p99\s+AGE\s+CONTAINER\s+NETNS\s+POD$/);
  const nginx = lines[4].trim().split(/\s+/);
  assert.deepEqual(nginx, ['100', 'www', 'nginx', '80,443', '2', '0', '2.0', '2.0', '0', '0', '-', '0', '-', '0', '2.0K', '1.0K', '-', '-', '1s']);
  const curl = lines[5].trim().split(/\s+/);
  assert.deepEqual(curl, ['200', 'root', 'curl', '-', '0', '1.2', '0', '0', '1', '1', '-', '0', '0', '0', '80us', '80us', '1s']);
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
  assert.match(text, /drops: kernel_miss 0, udp_flows 0, bpf_ring 4/);
});

test('runBatch ends after one snapshot when a finite source runs dry', async () => {
  const src = fakeSource(records());
  const out = collector();
  await runBatch(src, { delaySec: 5, filter: NO_FILTER, out: out.stream, signal: new AbortController().signal });
  assert.equal(out.text().match(/^socktop - /gm)?.length, 1);
});

test('runBatch prints all N snapshots of a finite source that ran dry at once (replay --speed 0 -b -n 2)', async () => {
  const src = fakeSource(records());
  const out = collector();
  const t0 = Date.now();
  await runBatch(src, { delaySec: 0.2, iterations: 2, filter: NO_FILTER, out: out.stream, signal: new AbortController().signal });
  assert.equal(out.text().match(/^socktop - /gm)?.length, 2);
  assert.ok(Date.now() - t0 >= 190, 'the second snapshot comes -d later');
});

/** Names a process can give itself (prctl PR_SET_NAME takes any bytes but NUL, 15 of them). */
const NAMES: Array<string | Uint8Array> = [
  'nginx', '\x1b]0;pwn\x07\x1b[2J', 'a\r\nb', 'héllo→✓', '中文名字', '😀emoji', 'c1\u009b31m\u0085', 'e\u0301\u202e',
  new Uint8Array([0x61, 0xff, 0xfe, 0x62]), // invalid UTF-8
];

function namedModel(): SocketModel {
  const model = new SocketModel({ users });
  feed(model, NAMES.map((comm, i) => makeRecord({ kind: K.Listen, pid: 300 + i, comm, sock: kernelSock(500 + i), ts_ns: T0, lport: 8000 + i })));
  model.refresh(T0 + SEC);
  return model;
}

/**
 * A line as terminal cells: a wide character fills two (the second ''), zero-width ones join the
 * cell before. Widths of the characters NAMES use, told here independently of displayWidth().
 */
function cells(line: string): string[] {
  const out: string[] = [];
  for (const ch of line) {
    const w = /[\u4e00-\u9fff\u{1f600}-\u{1f64f}]/u.test(ch) ? 2 : /\p{Mn}/u.test(ch) ? 0 : 1;
    if (w === 0 && out.length) out[out.length - 1] += ch;
    else out.push(ch, ...(w === 2 ? [''] : []));
  }
  return out;
}

test('batch: process names reach the terminal escaped, never as controls (a name cannot retitle or clear it)', () => {
  const text = formatSnapshot({
    model: namedModel(), info: { mode: 'replay', backend: 'cgroup', host: 'evil\x1b[2Jhost', kernel: '6.1\r' },
    drops: [0, 0, 0, 0], filter: NO_FILTER, sortKey: 'pid', descending: false, width: Infinity,
    wallTime: new Date(2026, 0, 2, 3, 4, 5), uptimeMs: 1000,
  });
  assert.doesNotMatch(text, /[\x00-\x09\x0b-\x1f\x7f-\x9f\u202e]/, 'no control but the newlines between lines');
  const lines = text.split('\n');
  assert.equal(lines.length, 4 + NAMES.length + 1, 'one line per process: a \\r\\n in a name does not split it');
  assert.match(lines[0], /evil\\x1b\[2Jhost, kernel 6\.1\\r,/);
  const comms = lines.slice(4, 4 + NAMES.length).map((l) => l.trim().split(/\s+/)[2]);
  assert.deepEqual(comms, ['nginx', '\\x1b]0;pwn\\x07~', 'a\\r\\nb', 'héllo→✓', '中文名字', '😀emoji', 'c1\\x9b31m\\x85',
    'e\u0301\\u202e', 'a\ufffd\ufffdb']);
});

test('batch: CJK, emoji and escaped names keep every column aligned', () => {
  const text = formatSnapshot({
    model: namedModel(), info: { mode: 'live', backend: 'cgroup', host: 'box', kernel: '6.1' },
    drops: [0, 0, 0, 0], filter: NO_FILTER, sortKey: 'pid', descending: false, width: 160,
    wallTime: new Date(2026, 0, 2, 3, 4, 5), uptimeMs: 1000,
  });
  const lines = text.split('\n');
  const header = cells(lines[3]);
  // The gaps between columns: the cells that are blank in the header and in every row alike
  // sit between the same columns (the header titles line up with their cells).
  const rows = lines.slice(4, 4 + NAMES.length).map(cells);
  for (const row of rows) {
    // Lines end trimmed: rows whose last cells (CONTAINER, NETNS) are blank end earlier.
    assert.ok(row.length <= header.length, `no wider than the header: ${row.join('')}`);
    const at = (title: string) => header.join('').indexOf(title);
    // Right-aligned OPEN and AGE end exactly under their titles, the LISTEN port starts under its title.
    assert.equal(row.slice(at('LISTEN'), at('LISTEN') + 4).join(''), String(8000 + rows.indexOf(row)), row.join(''));
    assert.equal(row[at('OPEN') + 3], '1', row.join(''));
    assert.equal(row.slice(at('AGE') + 1, at('AGE') + 3).join(''), '1s', row.join(''));
  }
});
