/**
 * The model's per-frame shortcuts give the same figures as the plain way:
 *  - stats().openSockets / .sockets, and the open entries per pid (which spare an exit the walk
 *    of every socket), are kept as counters: they equal a walk of the entries after random streams
 *    that open, close, reuse and evict sockets and exit processes;
 *  - ProcessRow.refresh skips the buckets of rows quiet for longer than the window, and reuses the
 *    percentiles while the histogram has no new sample: rates and percentiles equal RateWindow.rate()
 *    and LatencyHistogram.quantileNs() computed afresh;
 *  - query() (which starts from the previous query's order) gives the order a fresh sort gives.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SocketModel } from '../../src/model/model';
import { UserNames } from '../../src/capture/users';
import { NO_FILTER } from '../../src/model/filter';
import { filterSort, SORT_KEYS, sortRows } from '../../src/model/query';
import { Series } from '../../src/model/processes';
import type { ProcessRow } from '../../src/model/processes';
import type { SocketEntry } from '../../src/model/sockets';
import { EventKind as K, TcpState } from '../../src/capture/layout';
import { feed, kernelSock, makeRecord, SEC } from './helpers/records';

const users = new UserNames(() => 'root:x:0:0::/root:/bin/sh\n');

function rng(seed: number): () => number {
  let x = seed | 0 || 1;
  return () => {
    x ^= x << 13; x ^= x >>> 17; x ^= x << 5;
    return (x >>> 0) / 4294967296;
  };
}

const KINDS = [K.Socket, K.Listen, K.ConnectStart, K.Connect, K.Accept, K.State, K.Close, K.Send, K.Recv, K.Reset, K.Exit];

/** The socket totals the way stats() used to count them: by walking every entry. */
function walkCounts(m: SocketModel): { sockets: number; openSockets: number; openByPid: [number, number][] } {
  // The model's SocketTable (socket-table.ts), read from inside: the invariant is about its private counts.
  const inner = (m as unknown as { socks: { socks: Map<number, SocketEntry>; closedQueue: SocketEntry[]; closedHead: number } }).socks;
  let open = 0;
  for (const s of inner.socks.values()) if (s.closedNs === 0) open++;
  let replaced = 0;
  for (let i = inner.closedHead; i < inner.closedQueue.length; i++) {
    const s = inner.closedQueue[i];
    if (inner.socks.get(s.key) !== s) replaced++;
  }
  const byPid = new Map<number, number>();
  for (const s of inner.socks.values()) if (s.closedNs === 0) byPid.set(s.pid, (byPid.get(s.pid) ?? 0) + 1);
  return { sockets: inner.socks.size + replaced, openSockets: open, openByPid: [...byPid].sort((a, b) => a[0] - b[0]) };
}

function counted(m: SocketModel): { sockets: number; openSockets: number; openByPid: [number, number][] } {
  const st = m.stats();
  const byPid = (m as unknown as { socks: { openByPid: Map<number, number> } }).socks.openByPid;
  return { sockets: st.sockets, openSockets: st.openSockets, openByPid: [...byPid].sort((a, b) => a[0] - b[0]) };
}

test('socket counters (totals, open per pid) equal a walk of the entries after random streams (reuse, exits, eviction, aging)', () => {
  for (let seed = 1; seed <= 60; seed++) {
    const r = rng(seed * 7919);
    const m = new SocketModel({ users, maxSockets: 16 + Math.floor(r() * 48), closedSocketTtlSec: 2 });
    let ts = 1000 * SEC;
    for (let step = 0; step < 40; step++) {
      const batch = [];
      for (let i = 0; i < 25; i++) {
        ts += Math.floor(r() * 0.2 * SEC);
        const kind = KINDS[Math.floor(r() * KINDS.length)];
        batch.push(makeRecord({
          kind, ts_ns: ts, pid: 1 + Math.floor(r() * 6), comm: 'p', sock: kernelSock(1 + Math.floor(r() * 60)),
          laddr: '127.0.0.1', lport: 1000 + Math.floor(r() * 4), raddr: '127.0.0.1', rport: r() < 0.5 ? 0 : 80,
          proto: r() < 0.2 ? 17 : 6, new_state: Math.floor(r() * 12), error: r() < 0.1 ? 111 : 0,
          bytes_sent: 10, bytes_received: 10,
        }));
      }
      feed(m, batch);
      if (step % 3 === 0) m.refresh(ts);
      assert.deepEqual(counted(m), walkCounts(m), `seed ${seed} step ${step}`);
    }
  }
});

test('refresh: rates and percentiles equal a fresh computation, for busy, quiet and idle rows', () => {
  const m = new SocketModel({ users });
  const r = rng(42);
  const recs = [];
  const t0 = 1000 * SEC;
  for (let i = 0; i < 3000; i++) {
    const pid = 1 + Math.floor(r() * 40);
    const ts = t0 + Math.floor(r() * 20 * SEC);
    const kind = [K.Connect, K.Accept, K.Close, K.Send, K.Recv][Math.floor(r() * 5)];
    recs.push(makeRecord({
      kind, ts_ns: ts, pid, comm: `c${pid}`, sock: kernelSock(i + 1), duration_ns: 1000 + Math.floor(r() * 1e6),
      error: r() < 0.1 ? 111 : 0, bytes_sent: 100, bytes_received: 50,
    }));
  }
  // Sparse rows: one event each, so at some refreshes it sits in the window's oldest, partly
  // weighted second (the boundary of the idle shortcut), at others just before it.
  for (let i = 0; i < 40; i++) {
    const pid = 100 + i;
    recs.push(makeRecord({ kind: K.Connect, ts_ns: t0 + 10 * SEC + i * 0.4 * SEC, pid, comm: 'sparse', sock: kernelSock(9000 + i), duration_ns: 5000 }));
  }
  recs.sort((a, b) => Number(new DataView(a.buffer).getBigUint64(0, true) - new DataView(b.buffer).getBigUint64(0, true)));
  let fed = 0;
  const nows = [t0 + 3.3 * SEC, t0 + 10 * SEC, t0 + 19.99 * SEC, t0 + 21.5 * SEC, t0 + 25.2 * SEC, t0 + 26 * SEC, t0 + 40 * SEC];
  for (let k = 0; k < 16; k++) nows.push(t0 + 26.1 * SEC + k * 0.7 * SEC);
  nows.sort((a, b) => a - b);
  for (const now of nows) {
    const upto = recs.filter((x) => Number(new DataView(x.buffer).getBigUint64(0, true)) <= now).length;
    feed(m, recs.slice(fed, upto));
    fed = upto;
    m.refresh(now);
    for (const row of m.query(NO_FILTER, 'pid', false)) {
      const w = 5;
      assert.equal(row.connRate, row.rates.rate(Series.Connects, now, w), `conn pid ${row.pid} at ${now}`);
      assert.equal(row.accRate, row.rates.rate(Series.Accepts, now, w));
      assert.equal(row.closeRate, row.rates.rate(Series.Closes, now, w));
      assert.equal(row.errRate, row.rates.rate(Series.Errors, now, w));
      assert.equal(row.txRate, row.rates.rate(Series.Tx, now, w));
      assert.equal(row.rxRate, row.rates.rate(Series.Rx, now, w));
      if (row.latency?.count) {
        assert.equal(row.p50Ns, row.latency.quantileNs(0.5));
        assert.equal(row.p99Ns, row.latency.quantileNs(0.99));
      } else {
        assert.ok(Number.isNaN(row.p50Ns) && Number.isNaN(row.p99Ns));
      }
    }
  }
});

test('query() orders exactly like a fresh sort, every key, both directions, with ties, frame after frame', () => {
  const m = new SocketModel({ users });
  const r = rng(7);
  const recs = [];
  for (let i = 0; i < 400; i++) {
    const pid = 1 + Math.floor(r() * 120);
    recs.push(makeRecord({
      kind: [K.Connect, K.Accept, K.Close, K.Listen][Math.floor(r() * 4)], ts_ns: 1000 * SEC + Math.floor(r() * 4) * SEC,
      pid, comm: ['b', 'a', 'c'][pid % 3], uid: pid % 2, sock: kernelSock(i + 1), lport: 80 + (i % 3), duration_ns: 1000 * (1 + (i % 5)),
      new_state: TcpState.Listen,
    }));
  }
  feed(m, recs);
  m.refresh(1004 * SEC);
  const rows = m.query(NO_FILTER, 'pid', false);
  const name = (uid: number) => (uid ? 'zed' : 'root');
  const plain: Record<string, (x: ProcessRow) => number> = {
    pid: (x) => x.pid, listen: (x) => (x.listen ? x.listen.size : 0), open: (x) => x.open, conn: (x) => x.connRate,
    acc: (x) => x.accRate, close: (x) => x.closeRate, err: (x) => x.errors, retx: (x) => x.retransmits, tx: (x) => x.txRate,
    rx: (x) => x.rxRate, p50: (x) => (Number.isNaN(x.p50Ns) ? -1 : x.p50Ns), p99: (x) => (Number.isNaN(x.p99Ns) ? -1 : x.p99Ns),
    age: (x) => 1004 * SEC - x.lastNs, fail: (x) => x.failTotal,
    queue: (x) => (x.queueMax > 0 ? x.queueLen / x.queueMax : 0) * 1e6 + x.queueLen, ovfl: (x) => x.overflows,
    accp99: (x) => (Number.isNaN(x.acceptP99Ns) ? -1 : x.acceptP99Ns),
  };
  for (const key of SORT_KEYS) {
    for (const desc of [false, true]) {
      const dir = desc ? -1 : 1;
      const num = plain[key];
      const primary = num ? (a: ProcessRow, b: ProcessRow) => num(a) - num(b)
        : key === 'user' ? (a: ProcessRow, b: ProcessRow) => (name(a.uid) < name(b.uid) ? -1 : name(a.uid) > name(b.uid) ? 1 : 0)
          : (a: ProcessRow, b: ProcessRow) => (a.comm < b.comm ? -1 : a.comm > b.comm ? 1 : 0);
      const want = [...rows].sort((a, b) => dir * primary(a, b) || b.lastNs - a.lastNs || a.pid - b.pid).map((x) => x.pid);
      const shuffled = [...rows].sort(() => r() - 0.5);
      assert.deepEqual(sortRows(shuffled, key, desc, 1004 * SEC, name).map((x) => x.pid), want, `${key} ${desc ? 'desc' : 'asc'}`);
    }
  }
});

test('query() after changes (new rows, gone rows, new rates, another key or filter) equals a fresh filterSort', () => {
  const m = new SocketModel({ users, exitedTtlSec: 3 });
  const r = rng(99);
  let ts = 1000 * SEC;
  const keys = ['conn', 'conn', 'pid', 'acc', 'comm', 'conn', 'age', 'err'] as const;
  for (let frame = 0; frame < 40; frame++) {
    const recs = [];
    for (let i = 0; i < 60; i++) {
      ts += Math.floor(r() * 0.02 * SEC);
      const pid = 1 + Math.floor(r() * 80);
      const kind = [K.Connect, K.Accept, K.Close, K.Exit, K.Connect][Math.floor(r() * 5)];
      recs.push(makeRecord({ kind, ts_ns: ts, pid, comm: `c${pid % 7}`, sock: kernelSock(frame * 100 + i + 1), error: r() < 0.2 ? 111 : 0 }));
    }
    feed(m, recs);
    m.refresh(ts);
    const key = keys[frame % keys.length];
    const desc = frame % 3 !== 0;
    const filter = frame % 5 === 4 ? { ...NO_FILTER, comm: 'c3' } : NO_FILTER;
    const all = (m as unknown as { procs: Map<number, ProcessRow> }).procs;
    // The reference sorts copies that remember no earlier order (query() starts from the last one).
    const fresh = [...all.values()].map((row) => Object.assign(row.frozenCopy(), { sortRank: -1 }));
    const want = filterSort(fresh, filter, key, desc, m.now, (u) => m.userName(u)).map((x) => x.pid);
    assert.deepEqual(m.query(filter, key, desc).map((x) => x.pid), want, `frame ${frame}`);
  }
});
