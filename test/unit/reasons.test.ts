/**
 * Failure reasons and listen-queue health (issue 13) from records to every output: JSON (both
 * encoders), the model's per-process and host-wide figures, the queue alarm of a server that stops
 * accepting, the exporter's bounded reason label.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SocketModel } from '../../src/model/model';
import { UserNames } from '../../src/capture/users';
import { decodeEvent, stringifyEvent } from '../../src/capture/decode';
import { jsonLine } from '../../src/capture/json-line';
import { EventKind as K, Flag, Flag2, Reason, TcpState } from '../../src/capture/layout';
import { Aggregator } from '../../src/exporter/aggregator';
import { buildRegistry } from '../../src/exporter/metrics';
import { formatFailures } from '../../src/model/failures';
import { feed, kernelSock, makeRecord, MS, RecordFields, SEC } from './helpers/records';

const T0 = 1000 * SEC;
const users = new UserNames(() => 'root:x:0:0::/root:/bin/sh\n');
const ECONNREFUSED = 111;
const ETIMEDOUT = 110;
const ECONNABORTED = 103;
const EHOSTUNREACH = 113;

function json(f: RecordFields): Record<string, unknown> {
  const view = new DataView(makeRecord(f).buffer);
  const line = jsonLine(view, 0);
  assert.equal(line, stringifyEvent(decodeEvent(view, 0)));
  return JSON.parse(line);
}

const failed = (sock: number, pid: number, error: number, reason: number, extra: Partial<RecordFields> = {}): RecordFields => ({
  kind: K.Connect, sock: kernelSock(sock), serial: sock, pid, comm: 'client', error, reason, ts_ns: T0,
  old_state: TcpState.SynSent, new_state: TcpState.Close, raddr: '127.0.0.1', rport: 9, ...extra,
});

test('JSON: a failed connect\'s reason and SYN retries; the destination of one that failed in the call', () => {
  const e = json(failed(1, 7, ECONNABORTED, Reason.Timeout, { retries: 3, duration_ns: 4 * SEC }));
  assert.deepEqual([e.error, e.reason, e.syn_retries, e.latency_us], ['ECONNABORTED', 'timeout', 3, 4_000_000]);
  const local = json(failed(2, 7, EHOSTUNREACH, Reason.Unreachable, { flags: Flag.LocalError, old_state: 0, new_state: 0, raddr: '10.9.9.9', rport: 80 }));
  assert.deepEqual([local.reason, local.raddr, local.rport, local.syn_retries], ['unreachable', '10.9.9.9', 80, 0]);
  // The cgroup backend may not know the errno: no error, a reason all the same.
  const unknown = json(failed(3, 7, 0, Reason.Local, { flags: Flag.LocalError, flags2: Flag2.StartUnknown }));
  assert.deepEqual([unknown.error, unknown.reason, unknown.latency_us], [null, 'local', null]);
  const ok = json({ kind: K.Connect, pid: 7, old_state: TcpState.SynSent, new_state: TcpState.Established, retries: 1 });
  assert.deepEqual([ok.reason, ok.syn_retries], [undefined, 1], 'a success has no reason, its SYN retries all the same');
  assert.equal(json(failed(4, 7, 0, 9)).reason, 'unknown_9', 'a reason of a later version');
  assert.equal(json({ kind: K.Close, pid: 7, reason: Reason.Reset, old_state: TcpState.Established, new_state: TcpState.Close }).reason, 'reset');
});

test('JSON: accept wait and queues; QUEUE events with overflows and the SYN queue', () => {
  const a = json({ kind: K.Accept, pid: 5, duration_ns: 1_500_000_000, queue_len: 2, queue_max: 5 });
  assert.deepEqual([a.queue_wait_us, a.queue_len, a.queue_max], [1_500_000, 2, 5]);
  assert.equal(json({ kind: K.Accept, pid: 5 }).queue_wait_us, null, 'older records: not known');
  assert.equal(json({ kind: K.Accept, pid: 5, duration_ns: 9, flags2: Flag2.StartUnknown }).queue_wait_us, null);
  assert.equal(json({ kind: K.Accept, pid: 5 }).queue_len, undefined, 'no queue fields when the limit is not known');
  const q = json({ kind: K.Queue, pid: 5, lport: 80, queue_len: 2, queue_max: 1, count: 6, bytes_received: 3, flags: Flag.NoTask });
  assert.deepEqual([q.kind, q.queue_len, q.queue_max, q.overflows, q.syn_queue, q.tid], ['queue', 2, 1, 6, 3, null]);
});

test('model: failures by reason once each, resets after establishment, errno fallback for older records', () => {
  const m = new SocketModel({ users });
  feed(m, [
    makeRecord(failed(1, 10, ECONNREFUSED, Reason.Refused)),
    makeRecord(failed(2, 10, ETIMEDOUT, Reason.Timeout, { retries: 1 })),
    makeRecord(failed(3, 10, ECONNABORTED, Reason.Timeout, { retries: 1 })),
    makeRecord(failed(4, 10, ECONNABORTED, Reason.Aborted)),
    makeRecord(failed(5, 10, EHOSTUNREACH, Reason.Unreachable, { flags: Flag.LocalError })),
    makeRecord(failed(6, 10, 0, Reason.Local, { flags: Flag.LocalError })),
    // A record from before reasons (reason 0): its errno says which.
    makeRecord(failed(7, 11, ECONNREFUSED, 0)),
    makeRecord(failed(8, 11, ETIMEDOUT, 0)),
    // An established connection ended by a received RST, its end told twice: counted once.
    makeRecord({ kind: K.Close, sock: kernelSock(9), serial: 9, pid: 11, comm: 'client', reason: Reason.Reset, old_state: TcpState.Established, new_state: TcpState.Close }),
    makeRecord({ kind: K.Close, sock: kernelSock(9), serial: 9, pid: 11, comm: 'client', reason: Reason.Reset, flags: Flag.ByClose }),
    makeRecord({ kind: K.Connect, sock: kernelSock(10), serial: 10, pid: 11, comm: 'client', old_state: TcpState.SynSent, new_state: TcpState.Established }),
  ]);
  m.refresh(T0 + SEC);
  const a = m.process(10)!;
  assert.deepEqual([a.failTotal, a.connectsFailed, a.connectsOk], [6, 6, 0]);
  assert.equal(formatFailures(a.fails), 'refused 1, timeout 2, unreachable 1, aborted 1, local 1');
  const b = m.process(11)!;
  assert.deepEqual([b.failTotal, b.connectsOk, b.failCount(Reason.Reset)], [3, 1, 1]);
  assert.equal(formatFailures(b.fails), 'refused 1, timeout 1, reset 1');
  assert.deepEqual(m.healthTotals().failures, { refused: 2, timeout: 3, unreachable: 1, reset: 1, aborted: 1, local: 1 });
});

/** A listener (pid 5, port 80, backlog `max`) and what its records tell. */
function listener(max: number): RecordFields {
  return { kind: K.Listen, sock: kernelSock(100), serial: 100, pid: 5, comm: 'server', lport: 80, ts_ns: T0, old_state: TcpState.Close, new_state: TcpState.Listen, queue_max: max };
}

const joined = (n: number, len: number, max: number, ts: number): RecordFields => ({
  kind: K.State, sock: kernelSock(200 + n), serial: 200 + n, pid: 0, flags: Flag.OwnerUnknown | Flag.NoTask, lport: 80, rport: 40000 + n,
  old_state: TcpState.SynRecv, new_state: TcpState.Established, queue_len: len, queue_max: max, ts_ns: ts,
});

const accepted = (n: number, len: number, max: number, ts: number, waitNs: number): RecordFields => ({
  kind: K.Accept, sock: kernelSock(200 + n), serial: 200 + n, pid: 5, comm: 'server', lport: 80, rport: 40000 + n,
  queue_len: len, queue_max: max, ts_ns: ts, duration_ns: waitNs,
});

test('model: a listener\'s queue from passive opens, accepts and QUEUE samples; accept wait p50/p99', () => {
  const m = new SocketModel({ users });
  feed(m, [makeRecord(listener(5)), makeRecord(joined(1, 1, 5, T0 + MS)), makeRecord(joined(2, 2, 5, T0 + 2 * MS))]);
  m.refresh(T0 + 3 * MS);
  const row = m.process(5)!;
  assert.deepEqual([row.queueLen, row.queueMax, row.queueAlarm], [2, 5, false]);
  feed(m, [
    makeRecord(accepted(1, 1, 5, T0 + 10 * MS, 9 * MS)),
    makeRecord(accepted(2, 0, 5, T0 + 11 * MS, 9 * MS)),
    makeRecord({ kind: K.Queue, sock: kernelSock(100), serial: 100, pid: 5, comm: 'server', lport: 80, queue_len: 0, queue_max: 5, bytes_received: 1, ts_ns: T0 + SEC, flags: Flag.NoTask }),
  ]);
  m.refresh(T0 + SEC);
  assert.deepEqual([row.queueLen, row.queueMax, row.overflows, row.queueAlarm], [0, 5, 0, false]);
  assert.ok(Math.abs(row.acceptP50Ns - 9 * MS) / (9 * MS) < 0.2 && Math.abs(row.acceptP99Ns - 9 * MS) / (9 * MS) < 0.2);
  assert.deepEqual(m.listenQueues(5), [{ pid: 5, port: 80, len: 0, max: 5, synQueue: 1, overflows: 0, full: false }]);
  // The listener closes: its queue leaves the process's sums.
  feed(m, [makeRecord({ kind: K.Close, sock: kernelSock(100), serial: 100, pid: 5, comm: 'server', lport: 80, old_state: TcpState.Listen, new_state: TcpState.Close, ts_ns: T0 + 2 * SEC })]);
  m.refresh(T0 + 2 * SEC);
  assert.deepEqual([row.queueLen, row.queueMax, m.listenQueues(5).length], [0, 0, 0]);
});

test('model: a server that stops calling accept() lights up: full queue, overflows, or connections waiting with no accept', () => {
  // Waiting: two connections in a roomy queue, no accept for 2 s.
  const m = new SocketModel({ users });
  feed(m, [makeRecord(listener(5)), makeRecord(joined(1, 1, 5, T0 + MS)), makeRecord(joined(2, 2, 5, T0 + 2 * MS))]);
  m.refresh(T0 + SEC);
  assert.equal(m.process(5)!.queueAlarm, false, 'one second: not yet');
  m.refresh(T0 + 2 * SEC + 2 * MS);
  assert.equal(m.process(5)!.queueAlarm, true, 'two seconds with nobody accepting');
  feed(m, [makeRecord(accepted(1, 1, 5, T0 + 2100 * MS, 2 * SEC)), makeRecord(accepted(2, 0, 5, T0 + 2101 * MS, 2 * SEC))]);
  m.refresh(T0 + 2200 * MS);
  assert.equal(m.process(5)!.queueAlarm, false, 'accepting again, queue empty');

  // Full and overflowing: backlog 1 holds 2; a QUEUE sample with 6 overflows.
  const f = new SocketModel({ users });
  feed(f, [makeRecord(listener(1)), makeRecord(joined(1, 1, 1, T0 + MS)), makeRecord(joined(2, 2, 1, T0 + 2 * MS))]);
  f.refresh(T0 + 3 * MS);
  const row = f.process(5)!;
  assert.deepEqual([row.fullListeners, row.queueAlarm], [1, true], 'full: 2 > 1, the kernel\'s own test');
  feed(f, [makeRecord({ kind: K.Queue, sock: kernelSock(100), serial: 100, pid: 5, comm: 'server', lport: 80, queue_len: 2, queue_max: 1, count: 6, ts_ns: T0 + SEC, flags: Flag.NoTask })]);
  f.refresh(T0 + SEC);
  assert.deepEqual([row.overflows, f.healthTotals().listenOverflows, f.listenQueues()[0].overflows], [6, 6, 6]);
  // It drains: no longer full, but the overflow stays lit for the rate window (5 s), then goes.
  feed(f, [makeRecord(accepted(1, 1, 1, T0 + 2 * SEC, SEC)), makeRecord(accepted(2, 0, 1, T0 + 2 * SEC + MS, SEC))]);
  f.refresh(T0 + 3 * SEC);
  assert.deepEqual([row.fullListeners, row.queueAlarm], [0, true]);
  f.refresh(T0 + 7 * SEC);
  assert.equal(row.queueAlarm, false);
  const h = f.healthTotals();
  assert.deepEqual([h.queueLen, h.queueMax, h.listenOverflows], [0, 1, 6]);
  assert.ok(Math.abs(h.acceptP99Ns - SEC) / SEC < 0.2);
});

test('model: a QUEUE sample names the listener\'s owner as the socket knew it, and never renames the process', () => {
  const m = new SocketModel({ users });
  feed(m, [
    makeRecord(listener(5)),
    makeRecord({ kind: K.Bind, sock: kernelSock(300), serial: 300, pid: 5, comm: 'renamed', lport: 81, ts_ns: T0 + MS }),
    makeRecord({ kind: K.Queue, sock: kernelSock(100), serial: 100, pid: 5, comm: 'server', lport: 80, queue_len: 1, queue_max: 5, ts_ns: T0 + SEC, flags: Flag.NoTask }),
  ]);
  m.refresh(T0 + SEC);
  assert.deepEqual([m.process(5)!.comm, m.process(5)!.queueLen], ['renamed', 1]);
});

test('exporter: connect failures by a bounded reason label; listen overflows by comm', async () => {
  const a = new Aggregator({ topComms: 10 });
  feed(a, [
    makeRecord(failed(1, 10, ECONNREFUSED, Reason.Refused)),
    makeRecord(failed(2, 10, ECONNABORTED, Reason.Timeout, { retries: 1 })),
    makeRecord(failed(3, 10, 0, Reason.Local, { flags: Flag.LocalError })),
    makeRecord(failed(4, 10, 0, 200)), // a reason code of a later version: counted, as local
    makeRecord({ kind: K.Close, sock: kernelSock(9), serial: 9, pid: 10, comm: 'client', reason: Reason.Reset, old_state: TcpState.Established, new_state: TcpState.Close }),
    makeRecord({ ...listener(1), lport: 8080 }),
    makeRecord({ kind: K.Queue, sock: kernelSock(100), serial: 100, pid: 5, comm: 'server', lport: 8080, queue_len: 2, queue_max: 1, count: 4, flags: Flag.NoTask }),
    makeRecord({ kind: K.Queue, sock: kernelSock(100), serial: 100, pid: 5, comm: 'server', lport: 8080, queue_len: 2, queue_max: 1, count: 3, flags: Flag.NoTask }),
  ]);
  const reg = buildRegistry({ aggregator: a, ringFill: { last: 0, max: 0 }, info: { backend: 'cgroup', version: 'x' } }, false);
  const text = await reg.metrics();
  const value = (name: string, labels: string): number | undefined => {
    const m = new RegExp(`^${name}\\{${labels}\\} (\\S+)$`, 'm').exec(text);
    return m ? Number(m[1]) : undefined;
  };
  assert.equal(value('socktop_connect_failures_total', 'comm="client",reason="refused"'), 1);
  assert.equal(value('socktop_connect_failures_total', 'comm="client",reason="timeout"'), 1);
  assert.equal(value('socktop_connect_failures_total', 'comm="client",reason="local"'), 2);
  assert.equal(value('socktop_connect_failures_total', 'comm="client",reason="reset"'), 1);
  assert.equal(value('socktop_connect_failures_total', 'comm="client",reason="unreachable"'), 0);
  assert.equal(value('socktop_connects_total', 'comm="client",result="timeout"'), 1, 'a connect the program timed out is a timeout');
  assert.equal(value('socktop_listen_overflows_total', 'comm="server"'), 7);
  const reasons = new Set([...text.matchAll(/socktop_connect_failures_total\{[^}]*reason="(\w+)"/g)].map((m) => m[1]));
  assert.deepEqual([...reasons].sort(), ['aborted', 'local', 'refused', 'reset', 'timeout', 'unreachable']);
});
