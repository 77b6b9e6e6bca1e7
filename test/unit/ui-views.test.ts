import { test } from 'node:test';
import assert from 'node:assert/strict';
import { EventKind as K, Flag } from '../../src/capture/layout';
import { NO_FILTER } from '../../src/model/filter';
import { SocketModel } from '../../src/model/model';
import { UserNames } from '../../src/capture/users';
import { COLUMNS, layoutColumns } from '../../src/ui/columns';
import { fit, fmtAge, fmtBytes, fmtLatency, fmtPorts, fmtRate, fmtUptime } from '../../src/ui/format';
import { UiState } from '../../src/ui/state';
import { sparkline } from '../../src/ui/views/chart';
import { describeEvent, detailLines } from '../../src/ui/views/detail';
import { footerLine } from '../../src/ui/views/footer';
import { headerLines } from '../../src/ui/views/header';
import { tableLines } from '../../src/ui/views/table';
import { Theme } from '../../src/ui/views/theme';
import { feed, kernelSock, makeRecord, MS, SEC } from './helpers/records';

const T0 = 100 * SEC;
const users = new UserNames(() => 'root:x:0:0::/root:/bin/sh\n');
const plain = new Theme(false);
const color = new Theme(true);

/** Strip blessed tags, as the screen would show the text. */
function visible(s: string): string {
  return s.replace(/\{open\}/g, '\0o').replace(/\{close\}/g, '\0c').replace(/\{\/?[a-z-]+\}/g, '')
    .replace(/\0o/g, '{').replace(/\0c/g, '}');
}

function bigModel(n: number): SocketModel {
  const m = new SocketModel({ users, maxProcesses: n + 10 });
  const recs: Uint8Array[] = [];
  for (let pid = 1; pid <= n; pid++) {
    recs.push(makeRecord({ kind: K.Accept, pid, comm: pid === 7 ? 'we{ird}' : `proc${pid}`, sock: kernelSock(pid), ts_ns: T0 + pid * MS, lport: 80 }));
  }
  feed(m, recs);
  m.refresh(T0 + SEC);
  return m;
}

test('formatting: rates, bytes, latency, age, ports, fit', () => {
  assert.deepEqual([0, 0.01, 2.34, 12.6, 999, 1234, 56789, 1.5e6].map(fmtRate), ['0', '0.0', '2.3', '13', '999', '1.2k', '57k', '1.5M']);
  assert.deepEqual([0, 512, 2048, 1.5 * 1024 * 1024, 3 * 1024 ** 3].map(fmtBytes), ['0', '512', '2.0K', '1.5M', '3.0G']);
  assert.deepEqual([NaN, 850, 85_000, 1_234_000, 45_000_000, 2.5e9, 12e9].map(fmtLatency), ['-', '850ns', '85us', '1.2ms', '45ms', '2.5s', '12s']);
  assert.deepEqual([0, 59e9, 61e9, 7200e9, 3 * 86400e9].map(fmtAge), ['0s', '59s', '1m', '2h', '3d']);
  assert.equal(fmtUptime(3_723_000), '1:02:03');
  assert.equal(fmtUptime(65_000), '1:05');
  assert.equal(fmtPorts([], 9), '-');
  assert.equal(fmtPorts([80, 443], 9), '80,443');
  assert.equal(fmtPorts([80, 443, 8080, 8443], 9), '80,443,+2');
  assert.equal(fmtPorts([65535, 65534], 4), '+2');
  assert.equal(fit('abcdef', 4, 'left'), 'abc~');
  assert.equal(fit('ab', 4, 'right'), '  ab');
});

test('columns: every width from 80 fits, PID and COMM always there, all at 240+', () => {
  for (let w = 80; w <= 240; w++) {
    const placed = layoutColumns(w);
    const used = placed.reduce((n, p) => n + p.width + 1, -1);
    assert.ok(used <= w, `width ${w}: ${used}`);
    assert.ok(placed.some((p) => p.col.id === 'pid') && placed.some((p) => p.col.id === 'comm'));
  }
  assert.equal(layoutColumns(240).length, COLUMNS.length);
});

test('table: only the visible rows are rendered; selection inverse; braces escaped', () => {
  const m = bigModel(10_000);
  const s = new UiState({ sortKey: 'pid', descending: false });
  s.pageSize = 20;
  const rows = m.query(NO_FILTER, s.sortKey, s.descending);
  s.setRows(rows.map((r) => r.pid));
  s.handleKey({ name: 'down' });
  s.handleKey({ name: 'down' });
  const ctx = { nowNs: m.now, userName: (uid: number) => m.userName(uid) };
  const t0 = process.hrtime.bigint();
  const lines = tableLines({ rows, state: s, theme: color, ctx, width: 120, emptyText: '' });
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  assert.equal(lines.length, 21);
  assert.ok(ms < 50, `rendering 20 of 10k rows took ${ms} ms`);
  assert.match(lines[0], /PID↑/);
  assert.match(lines[3], /^\{inverse\}/);
  assert.doesNotMatch(lines[2], /inverse/);
  assert.equal(visible(lines[7]).trimStart().split(/\s+/).slice(0, 4).join(' '), '7 root we{ird} -');
  assert.equal(visible(lines[1]).length, 120);
});

test('table: empty text, NO_COLOR has no colour tags', () => {
  const s = new UiState();
  s.setRows([]);
  const ctx = { nowNs: 0, userName: () => 'root' };
  assert.deepEqual(tableLines({ rows: [], state: s, theme: plain, ctx, width: 80, emptyText: 'nothing yet' }).slice(1), ['nothing yet']);
  const m = new SocketModel({ users });
  feed(m, [makeRecord({ kind: K.Connect, pid: 5, comm: 'c', error: 111, ts_ns: T0 }), makeRecord({ kind: K.Exit, pid: 5, comm: 'c', ts_ns: T0 })]);
  m.refresh(T0);
  const rows = m.query(NO_FILTER, 'pid', false);
  s.setRows(rows.map((r) => r.pid));
  const noColor = tableLines({ rows, state: s, theme: plain, ctx, width: 80, emptyText: '' }).join('\n');
  assert.doesNotMatch(noColor, /-fg\}/);
  const colored = tableLines({ rows, state: s, theme: color, ctx, width: 80, emptyText: '' }).join('\n');
  assert.match(colored, /\{red-fg\}/, 'ERR in red');
  assert.match(colored, /\{gray-fg\}/, 'exited rows grey');
});

test('header: host, backend, drops per stage, filter, paused', () => {
  const m = bigModel(3);
  const state = new UiState({ comm: 'proc' });
  const frame = {
    model: m, state, theme: plain, info: { mode: 'live' as const, backend: 'tracepoint', host: 'box', kernel: '6.1' },
    stats: undefined, drops: [0, 5, 0, 1], uptimeMs: 61_000, width: 100,
    cost: { cpuPct: 1.25, bpfNsPerEvent: 850, bpfCpuPct: 0.5 },
  };
  let lines = headerLines(frame).map(visible);
  assert.match(lines[0], /^socktop  box  kernel 6\.1  probe tracepoint  up 1:01 +LIVE $/);
  assert.equal(lines[0].length, 100);
  assert.match(lines[1], /drops: kernel_miss 0 udp_flows 0 bpf_ring 5 shared_ring 0 recording 1/);
  assert.match(lines[2], /procs 3  sockets open 3  cost: cpu 1\.3%  bpf 850ns\/event 0\.5%  filter: comm ~ proc/);
  state.paused = true;
  lines = headerLines({ ...frame, cost: { ...frame.cost, bpfNsPerEvent: NaN } }).map(visible);
  assert.match(lines[0], /PAUSED $/);
  assert.match(lines[2], /bpf stats off/);
  // A recording write error is spelled out, not only counted.
  lines = headerLines({ ...frame, stats: { recordingDrops: 1, recordingError: 'ENOSPC: no space left on device' } }).map(visible);
  assert.match(lines[1], /recording: ENOSPC: no space left on device/);
});

test('footer: keys, or the prompt with its inline error', () => {
  const s = new UiState();
  assert.match(visible(footerLine(s, plain, 120)), /^q quit  \? help  1-6\/Tab view  Enter detail  p pid/);
  assert.ok(visible(footerLine(s, plain, 40)).length <= 40);
  s.handleKey({ ch: 'p' });
  for (const c of '1-') s.handleKey({ ch: c });
  s.handleKey({ name: 'enter' });
  const f = visible(footerLine(s, plain, 120));
  assert.match(f, /^PID filter \(123,456 100-200 !123; empty clears\): 1-_  bad PID '1-'/);
});

test('detail: who, totals, sockets and recent events of one process', () => {
  const m = new SocketModel({ users });
  const sock = kernelSock(1);
  feed(m, [
    makeRecord({ kind: K.Listen, pid: 9, comm: 'srv', sock, laddr: '::1', lport: 8080, ts_ns: T0 }),
    makeRecord({ kind: K.Accept, pid: 9, comm: 'srv', sock: kernelSock(2), laddr: '::1', lport: 8080, raddr: '::1', rport: 40000, ts_ns: T0 + MS }),
    makeRecord({ kind: K.Close, pid: 9, comm: 'srv', sock: kernelSock(2), laddr: '::1', lport: 8080, raddr: '::1', rport: 40000, ts_ns: T0 + 2 * MS, bytes_sent: 2048, bytes_received: 10, duration_ns: MS, flags: Flag.ByClose }),
  ]);
  m.refresh(T0 + SEC);
  const lines = detailLines({ model: m, pid: 9, info: { pid: 9, ppid: 1, threads: 3, state: 'S', cmdline: 'srv --port 8080' }, theme: plain, width: 120, nowNs: m.now }).map(visible);
  const text = lines.join('\n');
  assert.match(lines[0], /^PID 9  srv  user root  state S  ppid 1  threads 3/);
  assert.match(text, /cmdline: srv --port 8080/);
  assert.match(text, /totals: accepts 1 .* closes 1  sent 2\.0K  received 10/);
  assert.match(text, /SOCKETS: 1 open, 1 recently closed/);
  assert.match(text, /tcp6\s+\[::1\]:8080\s+\[::\]:0\s+LISTEN/);
  assert.match(text, /tcp6\s+\[::1\]:8080\s+\[::1\]:40000\s+closed\s+0s\s+2\.0K\s+10/);
  assert.match(text, /close\s+\[::1\]:8080 \[::1\]:40000  sent 2\.0K received 10  lived 1\.0ms  by close/);
  assert.match(text, /accept\s+\[::1\]:8080 <- \[::1\]:40000/);
  assert.match(detailLines({ model: m, pid: 12345, info: undefined, theme: plain, width: 80, nowNs: 0 })[0], /process 12345 is gone/);
});

test('detail: where the process lives: netns, cgroup path, runtime and container id, pod UID and QoS', () => {
  const id = 'cd'.repeat(32);
  const pod = '0d2b5c1e-7f3a-4b6c-9d8e-1a2b3c4d5e6f';
  const cgPath = `/kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod${pod.replace(/-/g, '_')}.slice/cri-containerd-${id}.scope`;
  const m = new SocketModel({ users });
  m.setCgroupResolver((cg) => (cg === 77 ? cgPath : undefined));
  feed(m, [makeRecord({ kind: K.Listen, pid: 9, comm: 'srv', sock: kernelSock(1), laddr: '::1', lport: 8080, ts_ns: T0, cgroup_id: 77, netns: 4026532001 })]);
  m.refresh(T0 + SEC);
  const text = detailLines({ model: m, pid: 9, info: undefined, theme: plain, width: 400, nowNs: m.now }).map(visible).join('\n');
  assert.match(text, new RegExp(`netns 4026532001  cgroup ${cgPath.replace(/\./g, '\\.')}`));
  assert.match(text, new RegExp(`container containerd ${id}  pod ${pod} \\(besteffort\\)`));
  // Not known: said so, never a wrong name.
  feed(m, [makeRecord({ kind: K.Listen, pid: 10, comm: 'other', sock: kernelSock(2), laddr: '::1', lport: 8081, ts_ns: T0, cgroup_id: 78 })]);
  m.refresh(T0 + SEC);
  assert.match(detailLines({ model: m, pid: 10, info: undefined, theme: plain, width: 200, nowNs: m.now }).map(visible).join('\n'), /netns \?  cgroup id 78/);
});

test('event descriptions and sparklines', () => {
  assert.equal(describeEvent({ ts_ns: 0, kind: 'exit', pid: 1, tid: 1, uid: 0, comm: 'x', exit_code: 2 }), 'exit code 2');
  assert.equal(describeEvent({ ts_ns: 0, kind: 'connect', pid: 1, tid: 1, uid: 0, comm: 'x', family: 'inet', laddr: '1.2.3.4', lport: 5, raddr: '5.6.7.8', rport: 80, error: 'ECONNREFUSED', latency_us: 12 }),
    '1.2.3.4:5 -> 5.6.7.8:80  ECONNREFUSED  12us');
  // Unknown (null) is "?", never 0: a socket that began before socktop, a SYN it did not see.
  const close = { ts_ns: 0, kind: 'close', pid: 1, tid: null, uid: 0, comm: 'x', bytes_sent: 0, bytes_received: 20, ended_by: 'state' } as const;
  assert.match(describeEvent({ ...close, duration_us: null }), /lived \?/);
  assert.match(describeEvent({ ...close, duration_us: 1500 }), /lived 1\.5ms/);
  assert.match(describeEvent({ ts_ns: 0, kind: 'connect', pid: 1, tid: 1, uid: 0, comm: 'x', error: null, latency_us: null }), /ok {2}\?$/);
  assert.equal(sparkline([0, 1, 2, 4, 8], 5), ' ▁▂▄█');
  assert.equal(sparkline([0, 0, 0], 2), '  ');
});

/** Names a process can give itself: controls, \r\n, C1, bidi, wide characters, invalid UTF-8. */
const NAMES: Array<string | Uint8Array> = [
  'nginx', '\x1b]0;pwn\x07\x1b[2J', 'a\r\nb', 'héllo→✓', '中文名字', '😀emoji', 'c1\u009b31m', 'x\u202ey',
  new Uint8Array([0x61, 0xff, 0x62]),
];
const CONTROLS = /[\x00-\x1f\x7f-\x9f\u202e]/;

/** Display columns of a visible line, told independently of displayWidth() for the characters above. */
function columns(line: string): number {
  let n = 0;
  for (const ch of line) n += /[\u4e00-\u9fff\u{1f600}-\u{1f64f}]/u.test(ch) ? 2 : 1;
  return n;
}

test('table (TUI): names shown escaped, one row each, every row exactly the screen width', () => {
  const m = new SocketModel({ users });
  feed(m, NAMES.map((comm, i) => makeRecord({ kind: K.Listen, pid: 300 + i, comm, sock: kernelSock(500 + i), ts_ns: T0, lport: 8000 + i })));
  m.refresh(T0 + SEC);
  const s = new UiState({ sortKey: 'pid', descending: false });
  s.pageSize = 20;
  const rows = m.query(NO_FILTER, s.sortKey, s.descending);
  s.setRows(rows.map((r) => r.pid));
  const ctx = { nowNs: m.now, userName: (uid: number) => m.userName(uid) };
  for (const width of [80, 120]) {
    const lines = tableLines({ rows, state: s, theme: plain, ctx, width, emptyText: '' }).map(visible);
    assert.equal(lines.length, 1 + NAMES.length);
    for (const line of lines) {
      assert.doesNotMatch(line, CONTROLS, JSON.stringify(line));
      assert.equal(columns(line), width, `every line fills the width exactly: ${line}`);
    }
    // The port column starts at the same display column in every row.
    const listenAt = lines.slice(1).map((l) => columns(l.slice(0, l.indexOf(' 80') + 1)));
    assert.deepEqual(new Set(listenAt).size, 1, lines.join('\n'));
  }
  const comms = tableLines({ rows, state: s, theme: plain, ctx, width: 120, emptyText: '' }).slice(1).map((l) => visible(l).trim().split(/\s+/)[2]);
  assert.deepEqual(comms, ['nginx', '\\x1b]0;pwn\\~', 'a\\r\\nb', 'héllo→✓', '中文名字', '😀emoji', 'c1\\x9b31m', 'x\\u202ey', 'a\ufffdb']);
});

test('detail and header (TUI): names, users, command lines and hosts from outside are shown escaped', () => {
  const m = new SocketModel({ users });
  feed(m, [makeRecord({ kind: K.Listen, pid: 9, comm: '\x1b[2J中', sock: kernelSock(1), laddr: '::1', lport: 8080, ts_ns: T0 })]);
  m.refresh(T0 + SEC);
  const info = { pid: 9, ppid: 1, user: 'ev\x1bil', state: 'S', cmdline: 'srv --title \x1b]0;pwn\x07 --x\r\n--y\u0085' };
  const lines = detailLines({ model: m, pid: 9, info, theme: plain, width: 120, nowNs: m.now }).map(visible);
  for (const line of lines) assert.doesNotMatch(line, CONTROLS, JSON.stringify(line));
  assert.match(lines[0], /^PID 9  \\x1b\[2J中  user ev\\x1bil  state S/);
  assert.ok(lines.includes('cmdline: srv --title \\x1b]0;pwn\\x07 --x\\r\\n--y\\x85'), lines.join('\n'));
  const frame = {
    model: m, state: new UiState(), theme: plain, info: { mode: 'replay' as const, backend: 'cgroup', host: 'h\x1b[5m中', kernel: '6.1\r\n' },
    stats: undefined, drops: [0, 0, 0, 0], uptimeMs: 1000, width: 100,
    cost: { cpuPct: 0, bpfNsPerEvent: NaN, bpfCpuPct: 0 },
  };
  const head = headerLines(frame).map(visible);
  for (const line of head) assert.doesNotMatch(line, CONTROLS, JSON.stringify(line));
  assert.match(head[0], /^socktop  h\\x1b\[5m中  kernel 6\.1\\r\\n  probe cgroup/);
  assert.equal(columns(head[0]), 100, 'the status still ends at the right edge');
});
