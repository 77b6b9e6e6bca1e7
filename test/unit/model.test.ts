import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SocketModel } from '../../src/model/model';
import { UserNames } from '../../src/capture/users';
import { NO_FILTER, parsePidFilter } from '../../src/model/filter';
import { EventKind as K, Flag, Flag2, RECORD_SIZE, TcpState } from '../../src/capture/layout';
import { feed, kernelSock, makeRecord, MS, RecordFields, SEC } from './helpers/records';

const T0 = 1000 * SEC;
const users = new UserNames(() => 'root:x:0:0::/root:/bin/sh\nalice:x:1000:1000::/home/alice:/bin/sh\n');

function model(opts = {}) {
  return new SocketModel({ users, ...opts });
}

function rec(f: RecordFields): Uint8Array {
  return makeRecord({ ts_ns: T0, ...f });
}

/** One client connection's records: socket, connect start, connect ok, send/recv, close. */
function clientConn(pid: number, comm: string, n: number, ts: number, opts: { latencyNs?: number; sent?: number; recv?: number } = {}) {
  const sock = kernelSock(n);
  const lat = opts.latencyNs ?? 100_000;
  const tuple = { laddr: '127.0.0.1', lport: 40000 + n, raddr: '127.0.0.1', rport: 8080 };
  return [
    rec({ kind: K.Socket, pid, comm, sock, ts_ns: ts }),
    rec({ kind: K.ConnectStart, pid, comm, sock, ts_ns: ts + 1, ...tuple }),
    rec({ kind: K.Connect, pid, comm, sock, ts_ns: ts + lat, duration_ns: lat, ...tuple }),
    rec({ kind: K.Send, pid, comm, sock, ts_ns: ts + lat + 1, bytes_sent: opts.sent ?? 100, ...tuple }),
    rec({ kind: K.Recv, pid, comm, sock, ts_ns: ts + lat + 2, bytes_received: opts.recv ?? 200, ...tuple }),
    rec({
      kind: K.Close, pid, comm, sock, ts_ns: ts + lat + 3, ...tuple,
      bytes_sent: opts.sent ?? 100, bytes_received: opts.recv ?? 200, flags: Flag.ByClose,
    }),
  ];
}

test('a listener and its accepts: counts, ports, open sockets', () => {
  const m = model();
  const lsock = kernelSock(1);
  const records = [
    rec({ kind: K.Socket, pid: 10, comm: 'server', sock: lsock, uid: 1000 }),
    rec({ kind: K.Bind, pid: 10, comm: 'server', sock: lsock, laddr: '127.0.0.1', lport: 8080 }),
    rec({ kind: K.Listen, pid: 10, comm: 'server', sock: lsock, laddr: '127.0.0.1', lport: 8080 }),
  ];
  for (let i = 0; i < 5; i++) {
    records.push(rec({
      kind: K.Accept, pid: 10, comm: 'server', sock: kernelSock(100 + i), ts_ns: T0 + i * MS,
      laddr: '127.0.0.1', lport: 8080, raddr: '127.0.0.1', rport: 50000 + i,
    }));
  }
  records.push(rec({ kind: K.Close, pid: 10, comm: 'server', sock: kernelSock(100), ts_ns: T0 + 10 * MS }));
  feed(m, records);
  m.refresh(T0 + SEC);
  const row = m.process(10)!;
  assert.equal(row.comm, 'server');
  assert.equal(m.userName(row.uid), 'alice');
  assert.equal(row.accepts, 5);
  assert.equal(row.closes, 1);
  assert.deepEqual(row.listenPorts(), [8080]);
  assert.equal(row.open, 1 + 5 - 1);
  const socks = m.socketsOf(10);
  assert.equal(socks.length, 6);
  assert.equal(socks[0].local(), '127.0.0.1:8080');
  assert.equal(socks[0].stateName(), 'LISTEN');
  assert.equal(socks[5].open, false);
  // Closing the listener frees its port.
  feed(m, [rec({ kind: K.Close, pid: 10, comm: 'server', sock: lsock, ts_ns: T0 + 20 * MS })]);
  assert.deepEqual(m.process(10)!.listenPorts(), []);
  assert.equal(m.process(10)!.open, 4);
});

test('connects: ok and failed by errno, latency percentiles', () => {
  const m = model();
  const records: Uint8Array[] = [];
  for (let i = 0; i < 100; i++) {
    // 99 connects at 100 us, one at 50 ms: p50 ~ 100 us, p99 ~ 100 us, max 50 ms.
    records.push(...clientConn(20, 'client', i, T0 + i * MS, { latencyNs: i === 99 ? 50 * MS : 100_000 }));
  }
  records.push(rec({ kind: K.Connect, pid: 20, comm: 'client', sock: kernelSock(500), error: 111 }));
  records.push(rec({ kind: K.Connect, pid: 20, comm: 'client', sock: kernelSock(501), error: 110 }));
  feed(m, records);
  m.refresh(T0 + SEC);
  const row = m.process(20)!;
  assert.equal(row.connectsOk, 100);
  assert.equal(row.connectsFailed, 2);
  assert.equal(row.errors, 2);
  assert.equal(row.errnos!.get(111), 1);
  assert.equal(row.errnos!.get(110), 1);
  assert.ok(Math.abs(row.p50Ns - 100_000) / 100_000 < 0.2, `p50 ${row.p50Ns}`);
  assert.ok(row.p99Ns < 200_000, `p99 ${row.p99Ns}`);
  assert.equal(row.open, 0);
  assert.equal(row.bytesSent, 100 * 100);
  assert.equal(row.bytesReceived, 100 * 200);
});

test('p99 catches a slow tail', () => {
  const m = model();
  const records: Uint8Array[] = [];
  for (let i = 0; i < 100; i++) {
    records.push(...clientConn(21, 'client', i, T0 + i * MS, { latencyNs: i >= 95 ? 40 * MS : 1 * MS }));
  }
  feed(m, records);
  m.refresh(T0 + SEC);
  const row = m.process(21)!;
  assert.ok(Math.abs(row.p50Ns - MS) / MS < 0.2, `p50 ${row.p50Ns}`);
  assert.ok(Math.abs(row.p99Ns - 40 * MS) / (40 * MS) < 0.2, `p99 ${row.p99Ns}`);
});

test('close adds the bytes SEND/RECV did not report', () => {
  const m = model();
  const sock = kernelSock(7);
  feed(m, [
    rec({ kind: K.Accept, pid: 30, comm: 'srv', sock }),
    rec({ kind: K.Send, pid: 30, comm: 'srv', sock, bytes_sent: 1000 }),
    rec({ kind: K.Recv, pid: 30, comm: 'srv', sock, bytes_received: 10 }),
    // Totals at close: 1500 sent (500 unreported), 10 received (all reported).
    rec({ kind: K.Close, pid: 30, comm: 'srv', sock, bytes_sent: 1500, bytes_received: 10 }),
    // A socket never seen before, closed with totals: everything counts.
    rec({ kind: K.Close, pid: 30, comm: 'srv', sock: kernelSock(8), bytes_sent: 7, bytes_received: 9 }),
    // A second end-of-socket report for the same socket adds nothing.
    rec({ kind: K.Close, pid: 30, comm: 'srv', sock, bytes_sent: 1500, bytes_received: 10, flags: Flag.ByDestroy }),
  ]);
  const row = m.process(30)!;
  assert.equal(row.bytesSent, 1507);
  assert.equal(row.bytesReceived, 19);
  assert.equal(row.closes, 2);
  const s = m.socketsOf(30).find((x) => x.sent === 1500)!;
  assert.equal(s.received, 10);
});

test('rates: sliding 5 s window over 1 s buckets', () => {
  const m = model();
  const records: Uint8Array[] = [];
  // 10 accepts per second for 10 seconds.
  for (let s = 0; s < 10; s++) {
    for (let i = 0; i < 10; i++) {
      records.push(rec({ kind: K.Accept, pid: 40, comm: 'srv', sock: kernelSock(s * 10 + i), ts_ns: T0 + s * SEC + i * 50 * MS }));
    }
  }
  feed(m, records);
  m.refresh(T0 + 10 * SEC);
  assert.equal(m.process(40)!.accRate, 10);
  m.refresh(T0 + 12.5 * SEC); // 2.5 s of silence: 2.5 of the 5 s still hold 10/s
  assert.equal(m.process(40)!.accRate, 5);
  m.refresh(T0 + 16 * SEC);
  assert.equal(m.process(40)!.accRate, 0);
  const h = m.history(12);
  assert.equal(h.accepts.length, 12);
  // Seconds T0+4 .. T0+15: six seconds of 10 accepts, then six quiet ones.
  assert.deepEqual(h.accepts, [10, 10, 10, 10, 10, 10, 0, 0, 0, 0, 0, 0]);
});

test('history is per complete second, oldest first', () => {
  const m = model();
  feed(m, [
    rec({ kind: K.Connect, pid: 1, comm: 'a', ts_ns: T0 + 0.5 * SEC }),
    rec({ kind: K.Connect, pid: 1, comm: 'a', ts_ns: T0 + 2.5 * SEC, error: 111 }),
    rec({ kind: K.Close, pid: 1, comm: 'a', ts_ns: T0 + 2.6 * SEC }),
  ]);
  m.refresh(T0 + 3.1 * SEC);
  const h = m.history(4);
  assert.deepEqual(h.connects, [0, 1, 0, 1]);
  assert.deepEqual(h.errors, [0, 0, 0, 1]);
  assert.deepEqual(h.closes, [0, 0, 0, 1]);
});

test('unknown-owner events: attributed through a known socket, else counted apart', () => {
  const m = model();
  const sock = kernelSock(3);
  feed(m, [
    rec({ kind: K.ConnectStart, pid: 50, comm: 'cli', sock }),
    rec({ kind: K.Retransmit, pid: 0, sock, flags: Flag.OwnerUnknown }),
    rec({ kind: K.State, pid: 0, sock, flags: Flag.OwnerUnknown, old_state: TcpState.SynSent, new_state: TcpState.Established }),
    rec({ kind: K.State, pid: 0, sock: kernelSock(99), flags: Flag.OwnerUnknown, new_state: TcpState.SynRecv }),
    rec({ kind: K.Reset, pid: 0, sock: kernelSock(98), flags: Flag.OwnerUnknown | Flag.ResetSent }),
  ]);
  assert.equal(m.process(0), undefined);
  assert.equal(m.process(50)!.retransmits, 1);
  assert.equal(m.socketsOf(50)[0].stateName(), 'ESTABLISHED');
  assert.equal(m.stats().unattributed, 2);
});

test('exit marks the row, keeps its name, and ages it out after the TTL', () => {
  const m = model({ exitedTtlSec: 60 });
  feed(m, [
    ...clientConn(60, 'shortlived', 1, T0),
    rec({ kind: K.Exit, pid: 60, comm: 'shortlived', ts_ns: T0 + SEC, count: 3 }),
    rec({ kind: K.Exit, pid: 61, comm: 'unrelated', ts_ns: T0 + SEC }),
  ]);
  m.refresh(T0 + 2 * SEC);
  const row = m.process(60)!;
  assert.equal(row.exited, true);
  assert.equal(row.exitCode, 3);
  assert.equal(row.comm, 'shortlived');
  assert.equal(m.process(61), undefined, 'no row for a process without socket events');
  m.refresh(T0 + 60.5 * SEC);
  assert.ok(m.process(60));
  m.refresh(T0 + 61.5 * SEC);
  assert.equal(m.process(60), undefined);
});

test('a reused pid after exit gets a fresh row', () => {
  const m = model();
  feed(m, [
    rec({ kind: K.Accept, pid: 70, comm: 'old', sock: kernelSock(1) }),
    rec({ kind: K.Exit, pid: 70, comm: 'old' }),
    rec({ kind: K.Accept, pid: 70, comm: 'new', sock: kernelSock(2) }),
  ]);
  const row = m.process(70)!;
  assert.equal(row.comm, 'new');
  assert.equal(row.exited, false);
  assert.equal(row.accepts, 1);
});

test('a renamed process (exec) keeps its row with the new name', () => {
  const m = model();
  feed(m, [
    rec({ kind: K.Accept, pid: 71, comm: 'sh', sock: kernelSock(1) }),
    rec({ kind: K.Accept, pid: 71, comm: 'nginx', sock: kernelSock(2) }),
  ]);
  assert.equal(m.process(71)!.comm, 'nginx');
  assert.equal(m.process(71)!.accepts, 2);
});

test('process cap evicts exited and idle rows first and counts them', () => {
  const m = model({ maxProcesses: 10 });
  const records: Uint8Array[] = [];
  for (let pid = 1; pid <= 10; pid++) records.push(rec({ kind: K.Accept, pid, comm: `p${pid}`, sock: kernelSock(pid), ts_ns: T0 + pid }));
  records.push(rec({ kind: K.Exit, pid: 9, comm: 'p9', ts_ns: T0 + 100 }));
  records.push(rec({ kind: K.Accept, pid: 11, comm: 'p11', sock: kernelSock(11), ts_ns: T0 + 200 }));
  feed(m, records);
  const st = m.stats();
  assert.equal(st.evictedProcesses, 1);
  assert.equal(st.processes, 10);
  assert.equal(m.process(9), undefined, 'the exited row went first');
  assert.ok(m.process(11));
});

test('socket cap evicts closed sockets first, oldest first', () => {
  const m = model({ maxSockets: 10 });
  const records: Uint8Array[] = [];
  for (let i = 0; i < 5; i++) records.push(rec({ kind: K.Accept, pid: 1, comm: 'a', sock: kernelSock(i), ts_ns: T0 + i }));
  for (let i = 0; i < 5; i++) records.push(rec({ kind: K.Close, pid: 1, comm: 'a', sock: kernelSock(i), ts_ns: T0 + 10 + i }));
  for (let i = 5; i < 12; i++) records.push(rec({ kind: K.Accept, pid: 1, comm: 'a', sock: kernelSock(i), ts_ns: T0 + 20 + i }));
  feed(m, records);
  const st = m.stats();
  assert.ok(st.sockets <= 10);
  assert.ok(st.evictedSockets >= 2);
  assert.equal(m.process(1)!.open, 7, 'open sockets are not evicted while closed ones remain');
  assert.ok(m.socketsOf(1).every((s) => s.open || s.closedNs >= T0 + 12));
});

test('closed sockets beyond maxClosedSockets go early, newest kept, counts unaffected', () => {
  const m = model({ maxClosedSockets: 3 });
  const records: Uint8Array[] = [];
  for (let i = 0; i < 8; i++) {
    records.push(rec({ kind: K.Accept, pid: 1, comm: 'a', sock: kernelSock(i), ts_ns: T0 + 2 * i }));
    records.push(rec({ kind: K.Close, pid: 1, comm: 'a', sock: kernelSock(i), ts_ns: T0 + 2 * i + 1 }));
  }
  records.push(rec({ kind: K.Accept, pid: 1, comm: 'a', sock: kernelSock(100), ts_ns: T0 + 50 }));
  feed(m, records);
  const socks = m.socketsOf(1);
  assert.equal(socks.filter((s) => !s.open).length, 3);
  assert.deepEqual(socks.filter((s) => !s.open).map((s) => s.closedNs), [T0 + 15, T0 + 13, T0 + 11]);
  assert.equal(socks.filter((s) => s.open).length, 1);
  assert.equal(m.process(1)!.closes, 8);
  assert.equal(m.process(1)!.accepts, 9);
  assert.equal(m.stats().sockets, 4);
  assert.equal(m.stats().evictedSockets, 0, 'retention is not eviction');
});

test('closed sockets age out of the detail view', () => {
  const m = model({ closedSocketTtlSec: 10 });
  feed(m, [
    rec({ kind: K.Accept, pid: 1, comm: 'a', sock: kernelSock(1), ts_ns: T0 }),
    rec({ kind: K.Close, pid: 1, comm: 'a', sock: kernelSock(1), ts_ns: T0 + SEC }),
  ]);
  m.refresh(T0 + 5 * SEC);
  assert.equal(m.socketsOf(1).length, 1);
  m.refresh(T0 + 12 * SEC);
  assert.equal(m.socketsOf(1).length, 0);
  assert.equal(m.stats().sockets, 0);
});

test('a reused kernel address after a missed close is a new socket', () => {
  const m = model();
  const sock = kernelSock(5);
  feed(m, [
    rec({ kind: K.Socket, pid: 1, comm: 'a', sock }),
    rec({ kind: K.Socket, pid: 1, comm: 'a', sock }),
  ]);
  assert.equal(m.process(1)!.open, 1);
});

test('snapshot records: open sockets and listeners, no counters', () => {
  const m = model();
  feed(m, [
    rec({ kind: K.Listen, pid: 80, comm: 'sshd', sock: 12345, flags: Flag.Snapshot, new_state: TcpState.Listen, laddr: '0.0.0.0', lport: 22 }),
    rec({ kind: K.Socket, pid: 80, comm: 'sshd', sock: 12346, flags: Flag.Snapshot, new_state: TcpState.Established, laddr: '10.0.0.1', lport: 22, raddr: '10.0.0.2', rport: 5555 }),
    rec({ kind: K.Listen, pid: 81, comm: 'v6d', sock: 12347, flags: Flag.Snapshot, new_state: TcpState.Listen, laddr: '::1', lport: 9000 }),
  ]);
  const row = m.process(80)!;
  assert.deepEqual(row.listenPorts(), [22]);
  assert.equal(row.open, 2);
  assert.equal(row.accepts, 0);
  const remote = m.socketsOf(80).map((s) => s.remote());
  assert.ok(remote.includes('10.0.0.2:5555'));
  assert.equal(m.socketsOf(81)[0].local(), '[::1]:9000');
});

test('drops per stage and the recent-event logs', () => {
  const m = model();
  feed(m, [
    rec({ kind: K.Drops, new_state: 1, count: 7 }),
    rec({ kind: K.Drops, new_state: 3, count: 2 }),
    rec({ kind: K.Drops, new_state: 1, count: 1 }),
    ...clientConn(90, 'curl', 1, T0),
  ]);
  assert.deepEqual(m.stats().drops, [0, 8, 0, 2, 0, 0]);
  const recent = m.recentEvents(90);
  // SEND and RECV are not logged by default: socket, connect_start, connect, close (newest first).
  assert.deepEqual(recent.map((e) => e.kind), ['close', 'connect', 'connect_start', 'socket']);
  assert.equal(recent[0].comm, 'curl');
  assert.equal(m.recentGlobal(2).length, 2);
});

test('the per-process log keeps only the newest records', () => {
  const m = model({ processLogSize: 4 });
  const records: Uint8Array[] = [];
  for (let i = 0; i < 10; i++) records.push(rec({ kind: K.Accept, pid: 1, comm: 'a', sock: kernelSock(i), ts_ns: T0 + i }));
  feed(m, records);
  assert.deepEqual(m.recentEvents(1).map((e) => e.ts_ns - T0), [9, 8, 7, 6]);
});

test('query: filters and sorts', () => {
  const m = model();
  const records: Uint8Array[] = [];
  const add = (pid: number, comm: string, accepts: number) => {
    for (let i = 0; i < accepts; i++) records.push(rec({ kind: K.Accept, pid, comm, sock: kernelSock(pid * 100 + i), ts_ns: T0 + i }));
  };
  add(100, 'nginx', 3);
  add(200, 'nginx', 7);
  add(300, 'redis', 5);
  feed(m, records);
  m.refresh(T0 + SEC);
  assert.deepEqual(m.query(NO_FILTER, 'acc', true).map((r) => r.pid), [200, 300, 100]);
  assert.deepEqual(m.query(NO_FILTER, 'pid', false).map((r) => r.pid), [100, 200, 300]);
  assert.deepEqual(m.query(NO_FILTER, 'comm', false).map((r) => r.pid), [200, 100, 300]);
  assert.deepEqual(m.query({ ...NO_FILTER, comm: 'NGI' }, 'pid', false).map((r) => r.pid), [100, 200]);
  assert.deepEqual(m.query({ ...NO_FILTER, pids: parsePidFilter('!200') }, 'pid', false).map((r) => r.pid), [100, 300]);
  assert.deepEqual(m.query({ ...NO_FILTER, follow: 300 }, 'pid', false).map((r) => r.pid), [300]);
});

test('ingest counts every record of a large mixed stream', () => {
  const m = model();
  const records: Uint8Array[] = [];
  for (let i = 0; i < 2000; i++) records.push(...clientConn(1000 + (i % 50), 'bench', i, T0 + i * 1000));
  const { view, offsets } = (() => {
    const bytes = new Uint8Array(records.length * RECORD_SIZE);
    records.forEach((r, i) => bytes.set(r, i * RECORD_SIZE));
    return { view: new DataView(bytes.buffer), offsets: records.map((_, i) => i * RECORD_SIZE) };
  })();
  // Not a timed assertion (benchmarks live in bench/): just check it runs and counts everything.
  for (let round = 0; round < 5; round++) for (const off of offsets) m.ingest(view, off);
  assert.equal(m.stats().events, records.length * 5);
});

test('events attributed through the socket do not rename the row', () => {
  const m = model();
  const sock = kernelSock(4);
  feed(m, [
    rec({ kind: K.Accept, pid: 51, comm: 'server', sock, uid: 1000 }),
    rec({ kind: K.State, pid: 0, sock, flags: Flag.OwnerUnknown, new_state: TcpState.CloseWait }),
    rec({ kind: K.Close, pid: 0, sock, flags: Flag.OwnerUnknown, bytes_sent: 5 }),
  ]);
  const row = m.process(51)!;
  assert.equal(row.comm, 'server');
  assert.equal(row.uid, 1000);
  assert.equal(row.closes, 1);
  assert.equal(row.bytesSent, 5);
  assert.equal(row.open, 0);
});

test('late events of an exited process stay on its row', () => {
  const m = model();
  const sock = kernelSock(6);
  feed(m, [
    rec({ kind: K.Accept, pid: 52, comm: 'worker', sock }),
    rec({ kind: K.Exit, pid: 52, comm: 'worker' }),
    // tcp_destroy_sock after the exit: the owner's pid, but no comm any more.
    rec({ kind: K.Close, pid: 52, comm: '', sock, flags: Flag.ByDestroy }),
    rec({ kind: K.State, pid: 52, comm: 'other', sock, new_state: TcpState.Close }),
  ]);
  const row = m.process(52)!;
  assert.equal(row.comm, 'worker');
  assert.equal(row.exited, true);
  assert.equal(row.closes, 1);
  assert.equal(row.open, 0);
});

test('a refused connect is one error, not two (the RST answering the SYN is its cause)', () => {
  const m = model();
  const sock = kernelSock(9);
  feed(m, [
    rec({ kind: K.Socket, pid: 53, comm: 'curl', sock }),
    rec({ kind: K.State, pid: 53, comm: 'curl', sock, old_state: TcpState.Close, new_state: TcpState.SynSent, rport: 1 }),
    rec({ kind: K.ConnectStart, pid: 53, comm: 'curl', sock, rport: 1 }),
    rec({ kind: K.Reset, pid: 53, comm: 'curl', sock, rport: 1 }),
    rec({ kind: K.State, pid: 53, comm: 'curl', sock, old_state: TcpState.SynSent, new_state: TcpState.Close, rport: 1 }),
    rec({ kind: K.Connect, pid: 53, comm: 'curl', sock, error: 111, rport: 1 }),
    rec({ kind: K.Close, pid: 53, comm: 'curl', sock, rport: 1 }),
    // A reset on an established connection is an error of its own.
    rec({ kind: K.Accept, pid: 53, comm: 'curl', sock: kernelSock(10) }),
    rec({ kind: K.Reset, pid: 53, comm: 'curl', sock: kernelSock(10) }),
  ]);
  const row = m.process(53)!;
  assert.equal(row.errors, 2);
  assert.equal(row.connectsFailed, 1);
  assert.equal(row.resetsReceived, 2);
  assert.equal(row.errnos!.get(111), 1);
});

test('a closed socket whose kernel address is reused stays in the detail view', () => {
  const m = model();
  const sock = kernelSock(12);
  feed(m, [
    rec({ kind: K.Accept, pid: 54, comm: 'srv', sock, ts_ns: T0, raddr: '127.0.0.1', rport: 1111 }),
    rec({ kind: K.Close, pid: 54, comm: 'srv', sock, ts_ns: T0 + 1, bytes_sent: 10 }),
    rec({ kind: K.Accept, pid: 54, comm: 'srv', sock, ts_ns: T0 + 2, raddr: '127.0.0.1', rport: 2222 }),
  ]);
  const socks = m.socketsOf(54);
  assert.equal(socks.length, 2);
  assert.equal(socks[0].open, true);
  assert.equal(socks[0].remote(), '127.0.0.1:2222');
  assert.equal(socks[1].sent, 10);
  assert.equal(m.stats().sockets, 2);
  assert.equal(m.stats().openSockets, 1);
});

test('exit ends the sockets the kernel reports no end for: UDP and never-connected TCP', () => {
  const m = model();
  const pid = 70;
  const comm = 'exiting';
  const udp = kernelSock(71);
  const idleTcp = kernelSock(72);
  const connected = kernelSock(73);
  const tuple = { laddr: '127.0.0.1', lport: 5000, raddr: '127.0.0.1', rport: 80 };
  feed(m, [
    rec({ kind: K.Socket, pid, comm, sock: udp, proto: 17 }),
    rec({ kind: K.Socket, pid, comm, sock: idleTcp }),
    rec({ kind: K.Socket, pid, comm, sock: connected }),
    rec({ kind: K.ConnectStart, pid, comm, sock: connected, ...tuple }),
    rec({ kind: K.State, pid, comm, sock: connected, old_state: TcpState.SynSent, new_state: TcpState.Established, ...tuple }),
    rec({ kind: K.Exit, pid, comm, ts_ns: T0 + SEC }),
  ]);
  m.refresh(T0 + 2 * SEC);
  assert.equal(m.process(pid)!.open, 1, 'only the connected socket is still open');
  const open = m.socketsOf(pid).filter((s) => s.open);
  assert.equal(open.length, 1);
  assert.equal(open[0].state, TcpState.Established);
  // The kernel's own end of the connected socket closes it later.
  feed(m, [rec({ kind: K.Close, pid, comm, sock: connected, ts_ns: T0 + 3 * SEC, ...tuple })]);
  m.refresh(T0 + 4 * SEC);
  assert.equal(m.process(pid)!.open, 0);
});

test('a connect whose SYN socktop did not see counts as a connect, not as a 0 µs latency', () => {
  const m = model();
  const tuple = { laddr: '127.0.0.1', lport: 40000, raddr: '127.0.0.1', rport: 8080 };
  feed(m, [
    rec({ kind: K.Connect, pid: 30, comm: 'old', sock: kernelSock(700), duration_ns: 0, flags2: Flag2.StartUnknown, ...tuple }),
    rec({ kind: K.Connect, pid: 30, comm: 'old', sock: kernelSock(701), duration_ns: 2 * MS, ...tuple, lport: 40001 }),
  ]);
  m.refresh(T0 + SEC);
  const row = m.process(30)!;
  assert.equal(row.connectsOk, 2);
  assert.ok(row.p50Ns > MS, `p50 ${row.p50Ns}: only the known latency`);
});

test('place: each row keeps its cgroup and netns, named through the source\'s paths; --container and --netns filter rows', () => {
  const id = 'ab'.repeat(32);
  const pod = '0d2b5c1e-7f3a-4b6c-9d8e-1a2b3c4d5e6f';
  const paths = new Map<number, string>([
    [11, `/kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod${pod.replace(/-/g, '_')}.slice/cri-containerd-${id}.scope`],
    [12, '/system.slice/nginx.service'],
    [1, '/'],
  ]);
  const m = model();
  m.setCgroupResolver((cg) => paths.get(cg));
  feed(m, [
    rec({ kind: K.Socket, pid: 100, comm: 'app', sock: kernelSock(1), cgroup_id: 11, netns: 4026532001 }),
    rec({ kind: K.Socket, pid: 200, comm: 'nginx', sock: kernelSock(2), cgroup_id: 12, netns: 4026531840 }),
    rec({ kind: K.Socket, pid: 300, comm: 'sshd', sock: kernelSock(3), cgroup_id: 1, netns: 4026531840 }),
    // A record that does not know its place (a snapshot, an old recording) leaves the row's as it was.
    rec({ kind: K.Socket, pid: 100, comm: 'app', sock: kernelSock(4) }),
  ]);
  m.refresh();
  const row = m.process(100)!;
  assert.equal(row.cgroupId, 11);
  assert.equal(row.netns, 4026532001);
  assert.equal(row.place?.containerId, id);
  assert.equal(row.place?.podUid, pod);
  assert.equal(row.place?.name, id.slice(0, 12));
  assert.equal(m.process(200)!.place?.name, 'nginx.service');
  assert.equal(m.process(300)!.place?.name, '', 'the root cgroup: no name');
  const pids = (f: object) => m.query({ ...NO_FILTER, ...f }, 'pid', false).map((r) => r.pid);
  assert.deepEqual(pids({ container: 'abab' }), [100]);
  assert.deepEqual(pids({ container: pod.slice(0, 8) }), [100]);
  assert.deepEqual(pids({ container: 'nginx' }), [200]);
  assert.deepEqual(pids({ netns: 4026531840 }), [200, 300]);
  assert.deepEqual(pids({ netns: 4026532001, container: 'nginx' }), []);
  // A path not known at first is asked again at the next refresh.
  feed(m, [rec({ kind: K.Socket, pid: 400, comm: 'late', sock: kernelSock(5), cgroup_id: 13, netns: 4026531840 })]);
  m.refresh();
  assert.equal(m.process(400)!.place, undefined);
  paths.set(13, '/system.slice/late.service');
  m.refresh();
  assert.equal(m.process(400)!.place?.unit, 'late.service');
});
