/**
 * The view models (src/model/views) on synthetic records: commands, tree, connections, remote
 * endpoints and listening ports, their sorting and filtering, and batch mode printing each view.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { EventKind as K } from '../../src/capture/layout';
import { UserNames } from '../../src/capture/users';
import { formatSnapshot } from '../../src/cli/run/batch';
import { NO_FILTER, parsePidFilter, RowFilter } from '../../src/model/filter';
import { SocketModel } from '../../src/model/model';
import { queryView, ViewQuery, ViewResult } from '../../src/model/views';
import { peersOf } from '../../src/model/views/connections';
import { nextView, viewByKey, viewByName, VIEW_NAMES, VIEWS } from '../../src/model/views/registry';
import { UiState } from '../../src/ui/state';
import { connectionRecords, ECONNREFUSED, listenerRecords } from '../../bench/synthetic';
import { feed, kernelSock, makeRecord, MS, SEC } from './helpers/records';

const T0 = 1000 * SEC;
const users = new UserNames(() => 'root:x:0:0::/root:/bin/sh\nwww:x:33:33::/var/www:/bin/sh\n');

function query(model: SocketModel, view: ViewQuery['view'], o: Partial<ViewQuery> = {}): ViewResult {
  return queryView(model, {
    view, filter: NO_FILTER, sortKey: VIEWS[view].defaultSort, descending: !VIEWS[view].ascending.includes(VIEWS[view].defaultSort),
    foldExitedSec: 5, groupBy: 'command', folded: new Set(), drill: null, ...o,
  });
}

/** A server (pid 100, python3, port 8080) and `n` curls, one connection each, every one exited. */
function curls(n: number, opts: { refusedEvery?: number } = {}): SocketModel {
  const m = new SocketModel({ users, parentOf: (pid) => (pid === 100 ? 1 : 50) });
  const recs = listenerRecords(100, 'python3', 33, 1, 8080, T0);
  let sock = 10;
  for (let i = 0; i < n; i++) {
    const pid = 1000 + i;
    const ts = T0 + SEC + i * 10 * MS;
    const refused = opts.refusedEvery !== undefined && i % opts.refusedEvery === 0;
    recs.push(...connectionRecords({
      clientPid: pid, clientComm: 'curl', serverPid: 100, serverComm: 'python3', serverUid: 33,
      clientSock: sock++, serverSock: sock++, port: refused ? 9 : 8080, clientPort: 40000 + i, tsNs: ts, refused,
    }));
    recs.push(makeRecord({ kind: K.Exit, pid, comm: 'curl', ts_ns: ts + 5 * MS }));
  }
  feed(m, recs);
  return m;
}

test('commands: 30 short-lived curls are one row of 30 processes, also once they aged out', () => {
  const m = curls(30);
  m.refresh(T0 + 2 * SEC);
  let r = query(m, 'commands');
  assert.equal(r.view, 'commands');
  if (r.view !== 'commands') return;
  assert.deepEqual(r.rows.map((g) => g.comm), ['curl', 'python3']);
  const curl = r.rows[0];
  assert.equal(curl.processes, 30);
  assert.equal(curl.exited, 30);
  assert.equal(curl.live, 0);
  assert.equal(curl.connectsOk, 30);
  assert.equal(curl.connects, 30);
  assert.equal(r.rows[1].accepts, 30);
  assert.equal(r.rows[1].live, 1);
  // Past the model's 60 s for exited rows: the rows go, their command keeps counting them.
  m.refresh(T0 + 120 * SEC);
  r = query(m, 'commands');
  if (r.view !== 'commands') return;
  assert.equal(r.rows.find((g) => g.comm === 'curl')?.processes, 30);
  assert.equal(r.rows.find((g) => g.comm === 'curl')?.connectsOk, 30);
  assert.equal(r.foldedExited, 30);
});

test('commands: grouped by user, filtered by comm and pid (retired totals only without a pid filter)', () => {
  const m = curls(4);
  m.refresh(T0 + 2 * SEC);
  const byUser = query(m, 'commands', { groupBy: 'user' });
  if (byUser.view !== 'commands') return;
  assert.deepEqual(byUser.rows.map((g) => [g.comm, g.processes]).sort(), [['root', 4], ['www', 1]]);
  const f: RowFilter = { ...NO_FILTER, comm: 'cur' };
  const only = query(m, 'commands', { filter: f });
  if (only.view !== 'commands') return;
  assert.deepEqual(only.rows.map((g) => g.comm), ['curl']);
  const pids = query(m, 'commands', { filter: { ...NO_FILTER, pids: parsePidFilter('1000,1001') } });
  if (pids.view !== 'commands') return;
  assert.equal(pids.rows[0].processes, 2);
});

test('processes: exited rows fold into their command after --fold-exited, counted', () => {
  const m = curls(10);
  m.refresh(T0 + 2 * SEC); // exited about 1 s ago: not folded at 5 s
  let r = query(m, 'processes');
  assert.equal(r.rows.length, 11);
  assert.equal(r.foldedExited, 0);
  m.refresh(T0 + 10 * SEC);
  r = query(m, 'processes');
  assert.deepEqual(r.rows.map((x) => (x as { pid: number }).pid), [100]);
  assert.equal(r.foldedExited, 10);
  r = query(m, 'processes', { foldExitedSec: 60 });
  assert.equal(r.rows.length, 11);
});

test('tree: children under their parent, siblings sorted, folded with -, filter keeps ancestors', () => {
  const parents: Record<number, number> = { 100: 1, 101: 100, 102: 100, 103: 101, 200: 1 };
  const m = new SocketModel({ users, parentOf: (pid) => parents[pid] });
  const recs = [
    ...listenerRecords(100, 'server', 0, 1, 80, T0),
    ...[101, 102, 103, 200].map((pid, i) => makeRecord({ kind: K.Socket, pid, comm: pid === 200 ? 'other' : 'worker', sock: kernelSock(10 + i), ts_ns: T0 + MS })),
  ];
  feed(m, recs);
  m.refresh(T0 + SEC);
  const r = query(m, 'tree', { sortKey: 'pid', descending: false });
  if (r.view !== 'tree') return;
  // pid 1 used no socket: a placeholder groups its two children.
  assert.deepEqual(r.rows.map((t) => `${t.prefix}${t.row.pid}`), ['1', '├─ 100', '│  ├─ 101', '│  │  └─ 103', '│  └─ 102', '└─ 200']);
  assert.deepEqual(r.rows.map((t) => t.depth), [0, 1, 2, 3, 2, 1]);
  assert.deepEqual(r.rows.map((t) => t.placeholder), [true, false, false, false, false, false]);
  const folded = query(m, 'tree', { sortKey: 'pid', descending: false, folded: new Set([100]) });
  if (folded.view !== 'tree') return;
  assert.deepEqual(folded.rows.map((t) => t.row.pid), [1, 100, 200]);
  assert.equal(folded.rows[1].hidden, 3);
  const filtered = query(m, 'tree', { sortKey: 'pid', descending: false, filter: { ...NO_FILTER, pids: parsePidFilter('103') } });
  if (filtered.view !== 'tree') return;
  assert.deepEqual(filtered.rows.map((t) => t.row.pid), [100, 101, 103]);
  // The parent pid is asked once at first sight, kept on the row.
  assert.equal(m.process(103)?.ppid, 101);
});

test('connections: a held connection is two rows, ESTABLISHED, each end owned, each the other\'s peer', () => {
  const m = new SocketModel({ users });
  feed(m, [
    ...listenerRecords(100, 'server', 0, 1, 7000, T0),
    ...connectionRecords({ clientPid: 200, clientComm: 'client', serverPid: 100, serverComm: 'server', clientSock: 2, serverSock: 3, port: 7000, clientPort: 45000, tsNs: T0 + SEC, keepOpen: true, bytes: 10 }),
    ...connectionRecords({ clientPid: 201, clientComm: 'gone', serverPid: 100, serverComm: 'server', clientSock: 4, serverSock: 5, port: 7000, clientPort: 45001, tsNs: T0 + SEC }),
  ]);
  m.refresh(T0 + 2 * SEC);
  const r = query(m, 'connections', { sortKey: 'local', descending: false });
  if (r.view !== 'connections') return;
  const est = r.rows.filter((s) => s.open && s.stateName() === 'ESTABLISHED');
  assert.deepEqual(est.map((s) => [s.pid, s.local(), s.remote()]).sort(), [
    [100, '127.0.0.1:7000', '127.0.0.1:45000'], [200, '127.0.0.1:45000', '127.0.0.1:7000'],
  ].sort());
  const peers = peersOf(m, est);
  for (const s of est) assert.equal(peers.get(s)?.pid, s.pid === 100 ? 200 : 100);
  assert.equal(r.rows.filter((s) => s.open && s.stateName() === 'LISTEN').length, 1);
  assert.equal(r.rows.filter((s) => !s.open).length, 2, 'the finished connection\'s two sockets, closed, kept a while');
  const client = est.find((s) => s.pid === 200)!;
  assert.equal(client.sent, 10);
  assert.equal(client.received, 100);
  assert.equal(client.connectNs, 40_000);
  // Filtered by owner, drilled to a local port.
  const mine = query(m, 'connections', { filter: { ...NO_FILTER, comm: 'client' } });
  assert.deepEqual(mine.rows.map((s) => (s as { pid: number }).pid), [200]);
  const port = query(m, 'connections', { drill: { kind: 'lport', port: 7000, label: 'port 7000' } });
  assert.deepEqual(port.rows.map((s) => (s as { pid: number }).pid).sort(), [100, 100]);
  // Sockets closed longer than the model keeps them go.
  m.refresh(T0 + 30 * SEC);
  assert.equal(query(m, 'connections').rows.filter((s) => !(s as { open: boolean }).open).length, 0);
});

test('remotes: connects and refused connects to one port counted exactly, by errno, with their processes', () => {
  const m = curls(10, { refusedEvery: 5 }); // i = 0 and 5 go to port 9 and are refused
  m.refresh(T0 + 2 * SEC);
  const r = query(m, 'remotes');
  if (r.view !== 'remotes') return;
  const by = new Map(r.rows.map((x) => [x.stats.port, x]));
  assert.equal(by.get(8080)?.stats.connects, 8);
  assert.equal(by.get(8080)?.stats.ok, 8);
  assert.equal(by.get(8080)?.stats.failed, 0);
  assert.equal(by.get(8080)?.stats.bytesSent, 8 * 100);
  assert.equal(by.get(8080)?.stats.bytesReceived, 8 * 1000);
  assert.equal(by.get(9)?.stats.connects, 2);
  assert.equal(by.get(9)?.stats.failed, 2);
  assert.deepEqual([...by.get(9)!.stats.errnos], [[ECONNREFUSED, 2]]);
  assert.equal(by.get(8080)?.stats.address, '127.0.0.1');
  assert.equal(by.get(8080)?.stats.pids.size, 8);
  assert.ok(Math.abs(by.get(8080)!.p50Ns - 40_000) < 40_000 * 0.2);
  const filtered = query(m, 'remotes', { filter: { ...NO_FILTER, pids: parsePidFilter('1005') } });
  assert.deepEqual(filtered.rows.map((x) => (x as { stats: { port: number } }).stats.port), [9]);
});

test('listeners: a server\'s port with its accepts, open connections and clients', () => {
  const m = new SocketModel({ users });
  const recs = listenerRecords(100, 'server', 33, 1, 8080, T0);
  for (let i = 0; i < 5; i++) {
    recs.push(...connectionRecords({ clientPid: 300 + i, clientComm: 'c', serverPid: 100, serverComm: 'server', serverUid: 33, clientSock: 10 + 2 * i, serverSock: 11 + 2 * i, port: 8080, clientPort: 50000 + i, tsNs: T0 + SEC + i * MS, keepOpen: i < 2 }));
  }
  feed(m, recs);
  m.refresh(T0 + 2 * SEC);
  const r = query(m, 'listeners');
  if (r.view !== 'listeners') return;
  assert.equal(r.rows.length, 1);
  const l = r.rows[0];
  assert.equal(l.stats.port, 8080);
  assert.equal(l.pid, 100);
  assert.equal(l.comm, 'server');
  assert.equal(l.listening, true);
  assert.equal(l.stats.accepts, 5);
  assert.equal(l.open, 2);
  assert.deepEqual([...l.stats.clients], [['127.0.0.1', 5]]);
  assert.equal(l.stats.local, '0.0.0.0:8080');
  assert.ok(l.accRate > 0);
});

test('batch: -b --view prints every view with its own columns', () => {
  const m = curls(3, { refusedEvery: 3 });
  m.refresh(T0 + 2 * SEC);
  const heads: Record<string, RegExp> = {
    processes: /^\s+PID S USER\s+COMM/m, commands: /^COMMAND\s+USER\s+PROCS\s+LIVE\s+EXITED/m, tree: /^\s+PID.?\s+PPID S/m,
    connections: /^PROTO LOCAL\s+REMOTE\s+STATE/m, remotes: /^REMOTE\s+PORT CONNS/m, listeners: /^PORT. LOCAL\s+PID COMM/m,
  };
  for (const view of VIEW_NAMES) {
    const text = formatSnapshot({
      model: m, info: { mode: 'replay', backend: 'cgroup', host: 'h', kernel: 'k' }, drops: [0, 0, 0, 0],
      filter: NO_FILTER, sortKey: VIEWS[view].defaultSort, descending: true, width: Infinity, view,
      wallTime: new Date(2026, 0, 1), uptimeMs: 0,
    });
    assert.match(text, heads[view], view);
    if (view !== 'processes') assert.match(text, new RegExp(`^View: ${view} `, 'm'));
  }
  const remotes = formatSnapshot({
    model: m, info: { mode: 'replay', backend: 'cgroup', host: 'h', kernel: 'k' }, drops: [0, 0, 0, 0],
    filter: NO_FILTER, sortKey: 'port', descending: false, width: Infinity, view: 'remotes', wallTime: new Date(), uptimeMs: 0,
  });
  assert.match(remotes, /^127\.0\.0\.1\s+9\s+1\s+0\s+1 .*ECONNREFUSED 1\s+curl\[1000\]/m);
  assert.match(remotes, /^127\.0\.0\.1\s+8080\s+2\s+2\s+0 .*curl x2/m);
});

test('registry and keys: names, aliases, 1-6, Tab and Shift-Tab, each view its own sort', () => {
  assert.equal(viewByName('ports'), 'listeners');
  assert.equal(viewByName('Commands'), 'commands');
  assert.equal(viewByName('nope'), undefined);
  assert.equal(viewByKey('4'), 'connections');
  assert.equal(nextView('listeners', 1), 'processes');
  assert.equal(nextView('processes', -1), 'listeners');
  const s = new UiState();
  assert.equal(s.view, 'processes');
  s.handleKey({ name: 'tab' });
  assert.equal(s.view, 'commands');
  assert.equal(s.sortKey, 'conns');
  s.handleKey({ name: 's', ch: 's' });
  const commandsSort = s.sortKey;
  s.handleKey({ name: 'S-tab' });
  assert.equal(s.view, 'processes');
  assert.equal(s.sortKey, 'conn');
  s.handleKey({ ch: '2' });
  assert.equal(s.sortKey, commandsSort, 'the commands view kept its sort');
  s.handleKey({ ch: 'u' });
  assert.equal(s.groupBy, 'user');
  s.handleKey({ ch: '3' });
  s.setRows([100, 101]);
  s.handleKey({ ch: '-' });
  assert.deepEqual([...s.folded], [100]);
  s.handleKey({ ch: '+' });
  assert.deepEqual([...s.folded], []);
  s.handleKey({ name: 'enter' });
  assert.equal(s.mode, 'detail');
  assert.equal(s.detailPid, 100);
  const r = new UiState({ replay: true, view: 'tree' });
  assert.equal(r.handleKey({ ch: '-' }), 'render', 'the tree folds with - in a replay too');
  assert.equal(r.handleKey({ ch: ']' }), 'speed-up');
  assert.equal(new UiState({ view: 'remotes' }).sortKey, 'conns');
  const c = new UiState({ view: 'connections' });
  c.setRows([5]);
  assert.equal(c.handleKey({ name: 'enter' }), 'drill');
});

test('sort: with a limit, the first rows are exactly the fully sorted ones', async () => {
  const { sortByNumber } = await import('../../src/model/views/sort');
  let seed = 7;
  const rand = () => {
    seed = (seed * 1103515245 + 12345) % 2147483648;
    return seed / 2147483648;
  };
  const rows = Array.from({ length: 5000 }, (_, i) => ({ i, v: Math.floor(rand() * 300) }));
  for (const descending of [false, true]) {
    const full = sortByNumber(rows.slice(), (r) => r.v, descending, (r) => r.i);
    const part = sortByNumber(rows.slice(), (r) => r.v, descending, (r) => r.i, 60);
    assert.deepEqual(part.slice(0, 60), full.slice(0, 60));
    assert.equal(new Set(part).size, 5000, 'every row still there once');
  }
});

test('cli: --view NAME (and aliases) and --fold-exited SEC, bad values are one-line usage errors', async () => {
  const { normalizeOptions } = await import('../../src/cli/options');
  const { UsageError } = await import('../../src/cli/errors');
  assert.equal(normalizeOptions({}).view, 'processes');
  assert.equal(normalizeOptions({ view: 'ports' }).view, 'listeners');
  assert.equal(normalizeOptions({ view: ['tree', 'conns'] }).view, 'connections', 'the last one wins');
  assert.equal(normalizeOptions({}).foldExitedSec, 5);
  assert.equal(normalizeOptions({ 'fold-exited': 30 }).foldExitedSec, 30);
  assert.throws(() => normalizeOptions({ view: 'bogus' }), (e) => e instanceof UsageError && /--view: 'bogus' is not a view \(processes, commands/.test(e.message));
  assert.throws(() => normalizeOptions({ 'fold-exited': -1 }), (e) => e instanceof UsageError && /--fold-exited/.test(e.message));
  assert.throws(() => normalizeOptions({ 'fold-exited': 'soon' }), UsageError);
  assert.throws(() => normalizeOptions({ json: true, view: 'tree' }), (e) => e instanceof UsageError && /--view goes with the TUI or -b/.test(e.message));
});

test('commands by container: processes in one container are one row (named by its runtime when known), the rest (host)', () => {
  const m = new SocketModel({ users });
  const id = 'c0ffee'.padEnd(64, '0');
  const paths = new Map<number, string>([[1, '/'], [500, `/kubepods.slice/kubepods-besteffort.slice/cri-containerd-${id}.scope`]]);
  m.setCgroupResolver((cg) => paths.get(cg));
  const recs = [
    ...[2000, 2001].map((pid) => makeRecord({ kind: K.Socket, pid, comm: pid === 2000 ? 'nginx' : 'sh', ts_ns: T0, sock: kernelSock(pid), cgroup_id: 500, family: 2, proto: 6 })),
    makeRecord({ kind: K.Socket, pid: 3000, comm: 'sshd', ts_ns: T0, sock: kernelSock(3000), cgroup_id: 1, family: 2, proto: 6 }),
  ];
  feed(m, recs);
  m.refresh(T0 + SEC);
  let r = query(m, 'commands', { groupBy: 'container' });
  if (r.view !== 'commands') return assert.fail(r.view);
  assert.deepEqual(r.rows.map((g) => [g.comm, g.processes]).sort(), [['(host)', 1], [id.slice(0, 12), 2]]);
  m.setContainerNamer((cid) => (cid === id ? 'web-1' : undefined));
  m.refresh(T0 + 2 * SEC);
  r = query(m, 'commands', { groupBy: 'container' });
  if (r.view !== 'commands') return assert.fail(r.view);
  assert.deepEqual(r.rows.map((g) => [g.comm, g.processes]).sort(), [['(host)', 1], ['web-1', 2]]);
  const s = new UiState({});
  s.handleKey({ ch: '2' });
  for (const want of ['user', 'container', 'command']) {
    s.handleKey({ ch: 'u' });
    assert.equal(s.groupBy, want, 'u: command -> user -> container -> command');
  }
});
