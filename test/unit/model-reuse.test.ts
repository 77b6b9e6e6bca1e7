/**
 * The kernel reuses a freed struct sock at once: a closed entry's address may already carry
 * another connection. Seen in a real run (screenshots/detail): the child socket of an incoming
 * connection to another process's listener (state changes in softirq, pid 0) landed on the
 * address of one of `cached`'s closed sockets and was shown among cached's events.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SocketModel } from '../../src/model/model';
import { UserNames } from '../../src/capture/users';
import { EventKind as K, TcpState as S } from '../../src/capture/layout';
import { feed, kernelSock, makeRecord, SEC } from './helpers/records';

const users = new UserNames(() => 'root:x:0:0::/root:/bin/sh\n');
const T0 = 1000 * SEC;
const SOCK = kernelSock(77);
const cachedConn = { laddr: '127.0.0.1', lport: 6379, raddr: '127.0.0.1', rport: 33222 };

function cachedServedAndClosed(m: SocketModel): void {
  feed(m, [
    makeRecord({ kind: K.Accept, ts_ns: T0, pid: 10, comm: 'cached', sock: SOCK, ...cachedConn }),
    makeRecord({ kind: K.Close, ts_ns: T0 + 1000, pid: 10, comm: 'cached', sock: SOCK, ...cachedConn, bytes_sent: 512, bytes_received: 13 }),
  ]);
}

test('softirq events of another connection on a reused address are not the closed socket owner\'s', () => {
  const m = new SocketModel({ users });
  cachedServedAndClosed(m);
  const before = m.recentEvents(10).length;
  const other = { laddr: '127.0.0.1', lport: 9090, raddr: '127.0.0.2', rport: 49474 };
  feed(m, [
    makeRecord({ kind: K.State, ts_ns: T0 + SEC, pid: 0, sock: SOCK, ...other, old_state: S.Listen, new_state: S.SynRecv }),
    makeRecord({ kind: K.State, ts_ns: T0 + SEC + 10, pid: 0, sock: SOCK, ...other, old_state: S.SynRecv, new_state: S.Established }),
  ]);
  assert.equal(m.recentEvents(10).length, before, 'nothing added to cached');
  assert.equal(m.stats().unattributed, 2);
  // The closed socket is still shown as it was.
  const s = m.socketsOf(10);
  assert.equal(s.length, 1);
  assert.equal(s[0].lport, 6379);
  assert.equal(s[0].state, S.Close);
  // The new owner's accept takes the address as a new entry.
  feed(m, [makeRecord({ kind: K.Accept, ts_ns: T0 + SEC + 20, pid: 20, comm: 'lg-server', sock: SOCK, ...other })]);
  assert.equal(m.process(20)!.open, 1);
  assert.equal(m.socketsOf(20)[0].lport, 9090);
  assert.equal(m.socketsOf(10).length, 1, 'cached keeps its closed socket in the detail view');
});

test('a new connection\'s handshake (softirq, before accept) belongs to the process listening on its port', () => {
  const m = new SocketModel({ users });
  const lsock = kernelSock(5);
  const listener = { laddr: '127.0.0.1', lport: 9090 };
  feed(m, [
    makeRecord({ kind: K.Socket, ts_ns: T0, pid: 20, comm: 'lg-server', sock: lsock }),
    makeRecord({ kind: K.Listen, ts_ns: T0, pid: 20, comm: 'lg-server', sock: lsock, ...listener }),
  ]);
  cachedServedAndClosed(m);
  const other = { laddr: '127.0.0.1', lport: 9090, raddr: '127.0.0.2', rport: 49474 };
  const cachedBefore = m.recentEvents(10).length;
  const serverBefore = m.recentEvents(20).length;
  feed(m, [
    // on the reused address of cached's closed socket, and on a fresh one
    makeRecord({ kind: K.State, ts_ns: T0 + SEC, pid: 0, sock: SOCK, ...other, old_state: S.Listen, new_state: S.SynRecv }),
    makeRecord({ kind: K.State, ts_ns: T0 + SEC, pid: 0, sock: kernelSock(99), ...other, rport: 49475, old_state: S.Listen, new_state: S.SynRecv }),
  ]);
  assert.equal(m.recentEvents(10).length, cachedBefore);
  assert.equal(m.recentEvents(20).length, serverBefore + 2);
  assert.equal(m.stats().unattributed, 0);
  // Once the listener is closed, the port is nobody's.
  feed(m, [makeRecord({ kind: K.Close, ts_ns: T0 + 2 * SEC, pid: 20, comm: 'lg-server', sock: lsock, ...listener })]);
  feed(m, [makeRecord({ kind: K.State, ts_ns: T0 + 3 * SEC, pid: 0, sock: kernelSock(98), ...other, old_state: S.Listen, new_state: S.SynRecv })]);
  assert.equal(m.stats().unattributed, 1);
});

test('late events of the same connection after close still reach its owner', () => {
  const m = new SocketModel({ users });
  cachedServedAndClosed(m);
  const before = m.recentEvents(10).length;
  feed(m, [
    makeRecord({ kind: K.State, ts_ns: T0 + 2000, pid: 0, sock: SOCK, ...cachedConn, old_state: S.LastAck, new_state: S.Close }),
  ]);
  assert.equal(m.recentEvents(10).length, before + 1);
  assert.equal(m.stats().unattributed, 0);
});
