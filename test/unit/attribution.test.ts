/** Pre-existing sockets: /proc/net parsing and tying live events to them by 4-tuple. */
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { parseProcAddress, readExistingSockets, ExistingSocket } from '../../src/capture/snapshot';
import { SnapshotAttribution } from '../../src/capture/attribution';
import { decodeEvent } from '../../src/capture/decode';
import { EventKind, Flag, TcpState, AF_INET, IPPROTO_TCP, RECORD_SIZE } from '../../src/capture/layout';
import { kernelSock, makeRecord, pack } from './helpers/records';

test('parseProcAddress turns /proc/net words back into network-order bytes', () => {
  assert.deepEqual([...parseProcAddress('0100007F').subarray(0, 4)], [127, 0, 0, 1]);
  const v6 = parseProcAddress('00000000000000000000000001000000'); // ::1
  assert.deepEqual([...v6], [...Array(15).fill(0), 1]);
});

test('readExistingSockets joins /proc/net rows with the fd that holds the inode', () => {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'socktop-proc-'));
  fs.mkdirSync(path.join(root, 'net'));
  fs.mkdirSync(path.join(root, '4242/fd'), { recursive: true });
  fs.writeFileSync(path.join(root, '4242/comm'), 'nginx\n');
  fs.symlinkSync('socket:[777]', path.join(root, '4242/fd/3'));
  const header = '  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n';
  fs.writeFileSync(path.join(root, 'net/tcp'), header +
    '   0: 0100007F:1F90 00000000:0000 0A 00000000:00000000 00:00000000 00000000    33        0 777 1 0000000000000000 100 0 0 10 0\n' +
    '   1: 0100007F:1F91 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 888 1 0000000000000000 100 0 0 10 0\n');
  const socks = readExistingSockets(root);
  assert.equal(socks.length, 1, 'the unowned socket (inode 888) is skipped');
  assert.equal(socks[0].pid, 4242);
  assert.equal(socks[0].comm, 'nginx');
  assert.equal(socks[0].lport, 8080);
  assert.equal(socks[0].state, TcpState.Listen);
  assert.equal(socks[0].uid, 33);
  fs.rmSync(root, { recursive: true });
});

function existing(over: Partial<ExistingSocket>): ExistingSocket {
  return {
    family: AF_INET, proto: IPPROTO_TCP, laddr: parseProcAddress('0100007F'), lport: 8080,
    raddr: new Uint8Array(16), rport: 0, state: TcpState.Listen, inode: 777, uid: 33, pid: 4242,
    comm: 'nginx', netns: 0, cgroupId: 0, ...over,
  };
}

test('initial records describe the existing sockets, named by inode', () => {
  const a = new SnapshotAttribution([existing({}), existing({ inode: 778, lport: 8080, raddr: parseProcAddress('0100007F'), rport: 5555, state: TcpState.Established })]);
  const { bytes, count } = a.initialRecords(123n);
  assert.equal(count, 2);
  const view = new DataView(bytes.buffer);
  const [listen, conn] = [decodeEvent(view, 0), decodeEvent(view, RECORD_SIZE)];
  assert.equal(listen.kind, 'listen');
  assert.equal(listen.pid, 4242);
  assert.equal(listen.comm, 'nginx');
  assert.equal(listen.lport, 8080);
  assert.equal(listen.sock, (777).toString(16));
  assert.equal(listen.snapshot, true);
  assert.equal(conn.kind, 'socket');
  assert.equal(conn.rport, 5555);
});

test('live events of an existing socket get its owner and its inode as identity', () => {
  const a = new SnapshotAttribution([existing({ inode: 778, raddr: parseProcAddress('0100007F'), rport: 5555, state: TcpState.Established })]);
  const sk = kernelSock(9);
  const first = makeRecord({ kind: EventKind.State, sock: sk, flags: Flag.OwnerUnknown, laddr: '127.0.0.1', lport: 8080, raddr: '127.0.0.1', rport: 5555 });
  // The final event may have lost its ports: the kernel address alone must still match.
  const close = makeRecord({ kind: EventKind.Close, sock: sk, flags: Flag.OwnerUnknown });
  const other = makeRecord({ kind: EventKind.State, sock: kernelSock(10), flags: Flag.OwnerUnknown, laddr: '127.0.0.1', lport: 8080, raddr: '127.0.0.1', rport: 6666 });
  // The start records run through the same hook first (as in the worker): they change nothing.
  const start = a.initialRecords(1n);
  a.apply(start.bytes, new DataView(start.bytes.buffer), start.count);
  const { bytes, view } = pack([first, close, other]);
  a.apply(bytes, view, 3);
  const [e1, e2, e3] = [0, RECORD_SIZE, 2 * RECORD_SIZE].map((o) => decodeEvent(view, o));
  for (const e of [e1, e2]) {
    assert.equal(e.pid, 4242);
    assert.equal(e.comm, 'nginx');
    assert.equal(e.sock, (778).toString(16));
    assert.equal(e.owner, undefined);
  }
  assert.equal(e3.pid, 0, 'a new connection to the same port is not the existing one');
  assert.equal(e3.owner, 'unknown');
});

test('one 4-tuple in two network namespaces: two existing sockets, each live event finds its own', () => {
  const tuple = { raddr: parseProcAddress('0100007F'), rport: 5555, state: TcpState.Established };
  const a = new SnapshotAttribution([
    existing({ ...tuple, inode: 801, netns: 4026532001, cgroupId: 71, pid: 11, comm: 'a' }),
    existing({ ...tuple, inode: 802, netns: 4026532002, cgroupId: 72, pid: 22, comm: 'b' }),
  ]);
  const start = a.initialRecords(1n);
  const sv = new DataView(start.bytes.buffer);
  const [sa, sb] = [decodeEvent(sv, 0), decodeEvent(sv, RECORD_SIZE)];
  assert.deepEqual([sa.netns, sa.cgroup_id, sb.netns, sb.cgroup_id], [4026532001, 71, 4026532002, 72], 'start records carry their place');
  const live = (n: number, netns: number) => makeRecord({
    kind: EventKind.State, sock: kernelSock(n), flags: Flag.OwnerUnknown, laddr: '127.0.0.1', lport: 8080, raddr: '127.0.0.1', rport: 5555, netns,
  });
  const { bytes, view } = pack([live(1, 4026532002), live(2, 4026532001), live(3, 4026532003)]);
  a.apply(bytes, view, 3);
  const [e1, e2, e3] = [0, RECORD_SIZE, 2 * RECORD_SIZE].map((o) => decodeEvent(view, o));
  assert.deepEqual([e1.pid, e1.sock], [22, (802).toString(16)]);
  assert.deepEqual([e2.pid, e2.sock], [11, (801).toString(16)]);
  assert.equal(e3.pid, 0, 'a third namespace has no existing socket with that tuple');
});

test('readExistingSockets reads every network namespace through a process in it, each socket with its netns', () => {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'socktop-proc-'));
  const header = '  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n';
  const row = (inode: number) => `   0: 0100007F:1F90 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 ${inode} 1 0000000000000000 100 0 0 10 0\n`;
  const proc = (pid: number, inode: number, comm: string) => {
    fs.mkdirSync(path.join(root, `${pid}/fd`), { recursive: true });
    fs.mkdirSync(path.join(root, `${pid}/ns`));
    fs.mkdirSync(path.join(root, `${pid}/net`));
    fs.writeFileSync(path.join(root, `${pid}/ns/net`), ''); // a file of its own: its inode names the namespace
    fs.writeFileSync(path.join(root, `${pid}/comm`), `${comm}\n`);
    fs.writeFileSync(path.join(root, `${pid}/net/tcp`), header + row(inode)); // the same 4-tuple in each
    fs.symlinkSync(`socket:[${inode}]`, path.join(root, `${pid}/fd/3`));
  };
  proc(10, 777, 'host-srv');
  proc(20, 888, 'pod-srv');
  fs.mkdirSync(path.join(root, 'net'));
  fs.writeFileSync(path.join(root, 'net/tcp'), header + row(777));
  fs.symlinkSync('10', path.join(root, 'self'));
  const socks = readExistingSockets(root).sort((a, b) => a.inode - b.inode);
  assert.deepEqual(socks.map((s) => [s.inode, s.pid, s.comm, s.lport]), [[777, 10, 'host-srv', 8080], [888, 20, 'pod-srv', 8080]]);
  assert.equal(socks[0].netns, fs.statSync(path.join(root, '10/ns/net')).ino);
  assert.equal(socks[1].netns, fs.statSync(path.join(root, '20/ns/net')).ino);
  assert.notEqual(socks[0].netns, socks[1].netns);
  fs.rmSync(root, { recursive: true });
});
