/**
 * The exporter's aggregation and exposition, fed synthetic records (helpers/records.ts writes them
 * exactly as the BPF side does): counters by comm and result, bytes without double counting, the
 * socket gauges, drops by stage; the comm labels bounded for 5,000 distinct names and re-ranked
 * to the most active; no garbage per record; --listen parsing and its one-line errors.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as net from 'node:net';
import * as path from 'node:path';
import { PerformanceObserver } from 'node:perf_hooks';
import yargs from 'yargs';
import { DropStage, EventKind as K, Flag, Offset, TcpState } from '../../src/capture/layout';
import { Aggregator, C, LATENCY_BOUNDS_SEC } from '../../src/exporter/aggregator';
import { NO_FILTER } from '../../src/model/filter';
import { SocketModel } from '../../src/model/model';
import { UserNames } from '../../src/capture/users';
import { RERANK_INTERVAL_MS } from '../../src/exporter/comm-labels';
import { parseListen } from '../../src/exporter/listen';
import { buildRegistry, ExporterView, seriesBound, SERIES_PER_COMM } from '../../src/exporter/metrics';
import { serveMetrics } from '../../src/exporter/server';
import { SocketTable } from '../../src/exporter/socket-table';
import { builder, exporterArgs } from '../../src/cli/commands/exporter';
import { feed, kernelSock, makeRecord, pack, MS } from './helpers/records';

const MAIN = path.resolve(__dirname, '../../src/cli/main.js');
const ECONNREFUSED = 111;
const ETIMEDOUT = 110;

interface Series { name: string; labels: Record<string, string>; value: number }

function parseExposition(text: string): Series[] {
  return text.split('\n').filter((l) => l && !l.startsWith('#')).map((line) => {
    const m = /^([a-zA-Z_:][\w:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    assert.ok(m, `exposition line: ${line}`);
    const labels: Record<string, string> = {};
    for (const l of (m[2] ?? '').matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)) labels[l[1]] = l[2];
    return { name: m[1], labels, value: Number(m[3]) };
  });
}

function view(a: Aggregator): ExporterView {
  return { aggregator: a, ringFill: { last: 0, max: 0 }, info: { backend: 'test', version: '0' }, bpfStatsEnabled: () => false };
}

async function scrape(a: Aggregator): Promise<Series[]> {
  return parseExposition(await buildRegistry(view(a), false).metrics());
}

function value(series: Series[], name: string, labels: Record<string, string>): number | undefined {
  return series.find((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v))?.value;
}

/** One client connection's records, as the cgroup backend sends them. */
function connection(o: { sock: number; comm: string; pid: number; error?: number; sent?: number; latencyNs?: number; sendDelta?: number }): Uint8Array[] {
  const base = { sock: kernelSock(o.sock), serial: o.sock, comm: o.comm, pid: o.pid, lport: 40000 + o.sock, rport: 80, laddr: '127.0.0.1', raddr: '127.0.0.1' };
  const recs = [
    makeRecord({ ...base, kind: K.Socket, lport: 0, rport: 0 }),
    makeRecord({ ...base, kind: K.ConnectStart, old_state: TcpState.Close, new_state: TcpState.SynSent }),
  ];
  if (o.error) {
    recs.push(makeRecord({ ...base, kind: K.Reset }));
    recs.push(makeRecord({ ...base, kind: K.Connect, error: o.error, old_state: TcpState.SynSent, new_state: TcpState.Close }));
  } else {
    recs.push(makeRecord({ ...base, kind: K.Connect, duration_ns: o.latencyNs ?? 40_000, old_state: TcpState.SynSent, new_state: TcpState.Established }));
    if (o.sendDelta) recs.push(makeRecord({ ...base, kind: K.Send, bytes_sent: o.sendDelta }));
  }
  recs.push(makeRecord({ ...base, kind: K.Close, bytes_sent: o.sent ?? 0, old_state: o.error ? TcpState.SynSent : TcpState.FinWait2, new_state: TcpState.Close, flags: 0 }));
  return recs;
}

test('counters by comm and result; bytes from SEND deltas plus what CLOSE totals add; a second CLOSE is not counted', async () => {
  const a = new Aggregator({ topComms: 10 });
  feed(a, [
    ...connection({ sock: 1, comm: 'curl', pid: 10, sent: 300, sendDelta: 100, latencyNs: 40_000 }),
    ...connection({ sock: 2, comm: 'curl', pid: 10, sent: 50, latencyNs: 2 * MS }),
    ...connection({ sock: 3, comm: 'curl', pid: 10, error: ECONNREFUSED }),
    ...connection({ sock: 4, comm: 'wget', pid: 11, error: ETIMEDOUT }),
    // The same socket's end reported twice (state change and release): one close.
    makeRecord({ kind: K.Close, sock: kernelSock(4), serial: 4, comm: 'wget', pid: 11, bytes_sent: 0 }),
    makeRecord({ kind: K.Accept, sock: kernelSock(9), serial: 9, comm: 'nginx', pid: 20, lport: 80, rport: 40001 }),
    makeRecord({ kind: K.Recv, sock: kernelSock(9), serial: 9, comm: 'nginx', pid: 20, bytes_received: 200 }),
    // Softirq records carry no comm: they count for the socket's owner.
    makeRecord({ kind: K.Retransmit, sock: kernelSock(9), serial: 9, pid: 0, flags: Flag.OwnerUnknown }),
    makeRecord({ kind: K.Reset, sock: kernelSock(9), serial: 9, pid: 0, flags: Flag.ResetSent }),
    makeRecord({ kind: K.Close, sock: kernelSock(9), serial: 9, comm: 'nginx', pid: 20, bytes_received: 300, bytes_sent: 0 }),
    makeRecord({ kind: K.Retransmit, sock: kernelSock(77), serial: 77, pid: 0 }),
    makeRecord({ kind: K.Drops, new_state: DropStage.BpfRing, count: 5 }),
    makeRecord({ kind: K.Drops, new_state: DropStage.KernelMiss, count: 2 }),
  ]);
  const s = await scrape(a);
  const c = (name: string, labels: Record<string, string>) => value(s, name, labels);
  assert.equal(c('socktop_connects_total', { comm: 'curl', result: 'ok' }), 2);
  assert.equal(c('socktop_connects_total', { comm: 'curl', result: 'refused' }), 1);
  assert.equal(c('socktop_connects_total', { comm: 'curl', result: 'timeout' }), 0);
  assert.equal(c('socktop_connects_total', { comm: 'wget', result: 'timeout' }), 1);
  assert.equal(c('socktop_closes_total', { comm: 'curl' }), 3);
  assert.equal(c('socktop_closes_total', { comm: 'wget' }), 1);
  assert.equal(c('socktop_bytes_total', { comm: 'curl', direction: 'sent' }), 350);
  assert.equal(c('socktop_bytes_total', { comm: 'nginx', direction: 'received' }), 300);
  assert.equal(c('socktop_accepts_total', { comm: 'nginx' }), 1);
  assert.equal(c('socktop_retransmits_total', { comm: 'nginx' }), 1);
  assert.equal(c('socktop_resets_total', { comm: 'nginx', direction: 'sent' }), 1);
  assert.equal(c('socktop_resets_total', { comm: 'curl', direction: 'received' }), 1);
  assert.equal(c('socktop_retransmits_total', { comm: '~unknown' }), 1);
  assert.equal(c('socktop_connect_duration_seconds_count', { comm: 'curl' }), 2);
  assert.equal(c('socktop_connect_duration_seconds_bucket', { comm: 'curl', le: '0.00005' }), 1);
  assert.equal(c('socktop_connect_duration_seconds_bucket', { comm: 'curl', le: '0.0025' }), 2);
  assert.equal(c('socktop_connect_duration_seconds_bucket', { comm: 'curl', le: '+Inf' }), 2);
  assert.ok(Math.abs(c('socktop_connect_duration_seconds_sum', { comm: 'curl' })! - 0.00204) < 1e-12);
  assert.equal(c('socktop_connect_duration_seconds_count', { comm: 'wget' }), undefined, 'no histogram without a successful connect');
  assert.equal(c('socktop_events_lost_total', { stage: 'bpf_ring' }), 5);
  assert.equal(c('socktop_events_lost_total', { stage: 'kernel_miss' }), 2);
  assert.equal(c('socktop_events_lost_total', { stage: 'shared_ring' }), 0);
  assert.equal(c('socktop_events_lost_total', { stage: 'recording' }), 0);
  assert.equal(c('socktop_bpf_stats_enabled', {}), 0);
  assert.equal(s.filter((x) => x.name === 'socktop_bpf_program_run_seconds_total').length, 0, 'no made-up BPF run time');
  for (const x of s) for (const k of Object.keys(x.labels)) assert.ok(['comm', 'result', 'reason', 'direction', 'le', 'stage', 'state', 'backend', 'version', 'program'].includes(k), k);
});

test('gauges: TCP sockets by state follow the state changes; listeners by comm, snapshot ones included', async () => {
  const a = new Aggregator({ topComms: 10 });
  const lst = { sock: kernelSock(1), serial: 1, comm: 'nginx', pid: 5, lport: 80 };
  feed(a, [
    makeRecord({ ...lst, kind: K.Listen, old_state: TcpState.Close, new_state: TcpState.Listen, flags: Flag.Snapshot }),
    makeRecord({ kind: K.Listen, sock: kernelSock(2), serial: 2, comm: 'redis', pid: 6, lport: 6379, old_state: TcpState.Close, new_state: TcpState.Listen }),
    makeRecord({ kind: K.State, sock: kernelSock(3), serial: 3, pid: 0, lport: 80, rport: 5555, old_state: TcpState.Listen, new_state: TcpState.SynRecv }),
    makeRecord({ kind: K.State, sock: kernelSock(3), serial: 3, pid: 0, lport: 80, rport: 5555, old_state: TcpState.SynRecv, new_state: TcpState.Established }),
    makeRecord({ kind: K.Accept, sock: kernelSock(3), serial: 3, comm: 'nginx', pid: 5, lport: 80, rport: 5555 }),
    makeRecord({ kind: K.ConnectStart, sock: kernelSock(4), serial: 4, comm: 'curl', pid: 7, rport: 80, new_state: TcpState.SynSent }),
  ]);
  let s = await scrape(a);
  assert.equal(value(s, 'socktop_tcp_sockets', { state: 'LISTEN' }), 2);
  assert.equal(value(s, 'socktop_tcp_sockets', { state: 'ESTABLISHED' }), 1);
  assert.equal(value(s, 'socktop_tcp_sockets', { state: 'SYN_SENT' }), 1);
  assert.equal(value(s, 'socktop_tcp_sockets', { state: 'SYN_RECV' }), 0);
  assert.equal(value(s, 'socktop_listen_sockets', { comm: 'nginx' }), 1);
  assert.equal(value(s, 'socktop_listen_sockets', { comm: 'redis' }), 1);
  assert.equal(value(s, 'socktop_closes_total', { comm: 'nginx' }), 0, 'snapshot records count no events');
  feed(a, [
    makeRecord({ kind: K.Close, sock: kernelSock(2), serial: 2, comm: 'redis', pid: 6, lport: 6379, old_state: TcpState.Listen, new_state: TcpState.Close }),
    makeRecord({ kind: K.Close, sock: kernelSock(3), serial: 3, comm: 'nginx', pid: 5, old_state: TcpState.LastAck, new_state: TcpState.Close }),
  ]);
  s = await scrape(a);
  assert.equal(value(s, 'socktop_tcp_sockets', { state: 'LISTEN' }), 1);
  assert.equal(value(s, 'socktop_tcp_sockets', { state: 'ESTABLISHED' }), 0);
  assert.equal(value(s, 'socktop_listen_sockets', { comm: 'redis' }), undefined);
  assert.equal(s.filter((x) => x.name === 'socktop_tcp_sockets').length, 11, 'every state but CLOSE');
});

test('5,000 distinct comms: at most --top-comms + 2 comm values and seriesBound series; every connect still counted', async () => {
  const TOP = 50;
  const COMMS = 5000;
  const a = new Aggregator({ topComms: TOP });
  const recs: Uint8Array[] = [];
  for (let i = 0; i < COMMS; i++) recs.push(...connection({ sock: i + 1, comm: `bomb${i}`, pid: 1000 + i, error: ECONNREFUSED }));
  feed(a, recs);
  a.labels.rerank(Date.now());
  const s = await scrape(a);
  const comms = new Set(s.filter((x) => x.labels.comm !== undefined).map((x) => x.labels.comm));
  assert.ok(comms.size <= TOP + 2, `comm values ${comms.size}`);
  assert.ok(comms.has('~other'));
  const bound = seriesBound(TOP, 0);
  assert.ok(s.length <= bound, `${s.length} series > ${bound}`);
  const refused = s.filter((x) => x.name === 'socktop_connects_total' && x.labels.result === 'refused').reduce((n, x) => n + x.value, 0);
  assert.equal(refused, COMMS, 'the ~other bucket holds what the labelled names do not');
  assert.ok(a.labels.tracked <= a.labels.capacity);
  console.log(`# 5000 comms, --top-comms ${TOP}: ${comms.size} comm values, ${s.length} series (bound ${bound}, ${SERIES_PER_COMM} per comm), ${a.labels.tracked} names tracked`);
});

test('rerank: a name busier than a labelled one takes its slot, its series starts at zero; the demoted name\'s counts move to ~other, so sums never go back', async () => {
  const a = new Aggregator({ topComms: 2 });
  let sock = 1;
  const conns = (comm: string, n: number) => {
    const r: Uint8Array[] = [];
    for (let i = 0; i < n; i++) r.push(...connection({ sock: sock++, comm, pid: 1, error: ECONNREFUSED }));
    return r;
  };
  feed(a, [...conns('a', 1), ...conns('b', 1), ...conns('c', 3)]);
  let s = await scrape(a);
  assert.equal(value(s, 'socktop_connects_total', { comm: '~other', result: 'refused' }), 3);
  assert.equal(value(s, 'socktop_connects_total', { comm: 'c', result: 'refused' }), undefined);
  a.labels.rerank(RERANK_INTERVAL_MS); // c (3 units of activity per connect, 9) beats a (3) by more than 2x
  feed(a, conns('c', 2));
  s = await scrape(a);
  assert.equal(value(s, 'socktop_connects_total', { comm: 'c', result: 'refused' }), 2, 'counted from its promotion');
  // The demoted name (a or b) had one refused connect: it is under ~other now, with c's first 3.
  assert.equal(value(s, 'socktop_connects_total', { comm: '~other', result: 'refused' }), 4, 'monotonic, and holds the demoted name');
  const labelled = new Set(s.filter((x) => x.name === 'socktop_connects_total').map((x) => x.labels.comm));
  assert.equal(labelled.has('a') && labelled.has('b'), false, 'one of a, b gave up its slot');
  const total = s.filter((x) => x.name === 'socktop_connects_total' && x.labels.result === 'refused').reduce((n, x) => n + x.value, 0);
  assert.equal(total, 7, 'the sum over comm is every refused connect: none lost to the reassignment');
  a.labels.rerank(RERANK_INTERVAL_MS + 1);
  assert.equal(a.labels.reassignments, 1, 'at most one rerank per interval');
});

test('the per-record path makes next to no garbage: 4 million records of known comms and sockets, at most 3 minor GCs', async () => {
  const a = new Aggregator({ topComms: 50 });
  const recs: Uint8Array[] = [];
  for (let i = 0; i < 1000; i++) recs.push(...connection({ sock: i + 1, comm: `app${i % 5}`, pid: 100 + (i % 5), sent: 1000, sendDelta: 400 }));
  const { view, offsets } = pack(recs);
  for (const off of offsets) a.ingest(view, off); // warm up: names, sockets, JIT
  let gcs = 0;
  const obs = new PerformanceObserver((list) => { gcs += list.getEntries().length; });
  obs.observe({ entryTypes: ['gc'] });
  await new Promise((r) => setImmediate(r));
  gcs = 0;
  const rounds = Math.ceil(4_000_000 / offsets.length);
  for (let r = 0; r < rounds; r++) for (const off of offsets) a.ingest(view, off);
  await new Promise((r) => setTimeout(r, 50));
  obs.disconnect();
  // A Map lookup keyed by the 53-bit socket id (a heap number) made about 7 scavenges per million.
  assert.ok(gcs <= 3, `${gcs} GCs while ingesting ${rounds * offsets.length} records`);
  assert.equal((await scrape(a)).find((x) => x.name === 'socktop_connects_total' && x.labels.comm === 'app0')?.value, 200 * (rounds + 1));
});

test('--listen: loopback by default; ADDRESS:PORT parsed; bad values are one-line usage errors', async () => {
  const argv = (await builder(yargs([])).parseAsync()) as Record<string, unknown>;
  assert.deepEqual(exporterArgs(argv), { listen: { host: '127.0.0.1', port: 9947 }, topComms: 50 });
  assert.deepEqual(parseListen('0.0.0.0:9947'), { host: '0.0.0.0', port: 9947 });
  assert.deepEqual(parseListen('[::1]:9100'), { host: '::1', port: 9100 });
  assert.deepEqual(parseListen('[::]:0'), { host: '::', port: 0 });
  for (const bad of ['9947', ':9947', 'localhost:9947', '1.2.3:80', '127.0.0.1:', '127.0.0.1:65536', '127.0.0.1:-1', '::1:9947', '[::1]', '127.0.0.1:80:80', 'evil\x1b[2J:1', '']) {
    const r = spawnSync(process.execPath, [MAIN, 'exporter', '--listen', bad], { encoding: 'utf8', timeout: 20000 });
    assert.equal(r.status, 2, `${JSON.stringify(bad)}: ${r.stderr}`);
    assert.match(r.stderr, /^socktop: --listen: [^\n]*\n$/, JSON.stringify(bad));
    assert.ok(!r.stderr.includes('\x1b'), 'no raw escape reaches the terminal');
  }
  for (const [args, re] of [[['--top-comms', '0'], /--top-comms/], [['--json'], /--json: not an option of `socktop exporter`/], [['--pid', '1'], /-p(id)?: not an option of `socktop exporter`/]] as const) {
    const r = spawnSync(process.execPath, [MAIN, 'exporter', ...args], { encoding: 'utf8', timeout: 20000 });
    assert.equal(r.status, 2, r.stderr);
    assert.match(r.stderr, new RegExp(`^socktop: [^\\n]*${re.source}[^\\n]*\\n$`));
  }
});

test('a taken --listen port: one line, exit 1, before any BPF is loaded', async () => {
  const taken = net.createServer();
  await new Promise<void>((r) => taken.listen(0, '127.0.0.1', () => r()));
  const port = (taken.address() as net.AddressInfo).port;
  try {
    const r = spawnSync(process.execPath, [MAIN, 'exporter', '--listen', `127.0.0.1:${port}`], { encoding: 'utf8', timeout: 20000 });
    assert.equal(r.status, 1, r.stderr);
    assert.equal(r.stderr, `socktop: --listen 127.0.0.1:${port}: address already in use\n`);
  } finally {
    taken.close();
  }
});

test('the HTTP endpoint: /metrics in the Prometheus text format, /healthz, 404 and 405', async () => {
  const a = new Aggregator({ topComms: 5 });
  feed(a, connection({ sock: 1, comm: 'we"ird\\name', pid: 1 }));
  let healthy = true;
  const server = await serveMetrics({ host: '127.0.0.1', port: 0 }, buildRegistry(view(a), false), { healthy: () => healthy });
  const base = `http://127.0.0.1:${server.address.port}`;
  try {
    const m = await fetch(`${base}/metrics`);
    assert.equal(m.status, 200);
    assert.match(m.headers.get('content-type') ?? '', /^text\/plain; version=0\.0\.4/);
    const text = await m.text();
    assert.match(text, /^# TYPE socktop_connects_total counter$/m);
    assert.match(text, /^# TYPE socktop_connect_duration_seconds histogram$/m);
    assert.ok(text.includes('socktop_closes_total{comm="we\\"ird\\\\name"} 1'), 'label values escaped');
    assert.equal(LATENCY_BOUNDS_SEC.length + 1, parseExposition(text).filter((s) => s.name === 'socktop_connect_duration_seconds_bucket').length);
    assert.equal((await fetch(`${base}/healthz`)).status, 200);
    healthy = false;
    assert.equal((await fetch(`${base}/healthz`)).status, 503);
    assert.equal((await fetch(`${base}/nope`)).status, 404);
    assert.equal((await fetch(`${base}/metrics`, { method: 'POST' })).status, 405);
  } finally {
    await server.close();
  }
});

test('socket table: its hash (backward-shift deletion) and state counts agree with a plain Map over a random stream', () => {
  const table = new SocketTable(512); // 16k closes: forgotten closed entries free hash slots and entries for reuse
  const ref = new Map<number, number>(); // key -> state of open sockets
  let x = 12345;
  const rnd = (n: number) => {
    x ^= x << 13; x ^= x >>> 17; x ^= x << 5;
    return (x >>> 0) % n;
  };
  const states = [TcpState.Listen, TcpState.SynSent, TcpState.Established, TcpState.FinWait1, TcpState.CloseWait];
  for (let step = 0; step < 50_000; step++) {
    const key = rnd(400) + 1;
    const { view, offsets } = pack([makeRecord({ kind: K.State, sock: kernelSock(key), serial: key })]);
    const off = offsets[0];
    const idx = table.find(view, off);
    const isOpen = idx >= 0 && table.isOpen(idx);
    assert.equal(isOpen, ref.has(key), `step ${step}: key ${key} open?`);
    if (rnd(3) === 0 && isOpen) {
      table.close(idx);
      ref.delete(key);
    } else {
      const state = states[rnd(states.length)];
      table.setState(table.openEntry(idx, view, off), state);
      ref.set(key, state);
    }
  }
  const want = new Float64Array(13);
  for (const s of ref.values()) want[s]++;
  assert.deepEqual([...table.tcpStateCounts], [...want]);
  assert.equal(table.evicted, 0);
  let open = 0;
  table.forEachOpen(() => open++);
  assert.equal(open, ref.size);
});

test('BPF run time is exported only when kernel.bpf_stats_enabled=1; drops are the larger of markers and the source\'s counters', async () => {
  const a = new Aggregator({ topComms: 5 });
  feed(a, [makeRecord({ kind: K.Drops, new_state: DropStage.SharedRing, count: 3 })]);
  let enabled = false;
  const stats = {
    kernelMisses: 4, bpfRingDrops: 1, sharedRingDrops: 2, recordingDrops: 0,
    programs: [{ name: 'cg_sock_create', runCount: 10, runTimeNs: 2_500_000 }, { name: 'tp_state', runCount: 7, runTimeNs: 1_000 }],
  };
  const source = { stats: () => stats, ring: { drops: () => 2, capacity: 65536 } } as unknown as ExporterView['source'];
  const reg = buildRegistry({ ...view(a), source, bpfStatsEnabled: () => enabled }, false);
  let s = parseExposition(await reg.metrics());
  assert.equal(value(s, 'socktop_bpf_stats_enabled', {}), 0);
  assert.equal(s.filter((x) => x.name.startsWith('socktop_bpf_program')).length, 0);
  assert.equal(value(s, 'socktop_events_lost_total', { stage: 'shared_ring' }), 3, 'marker 3 > counter 2');
  assert.equal(value(s, 'socktop_events_lost_total', { stage: 'kernel_miss' }), 4);
  assert.equal(value(s, 'socktop_events_lost_total', { stage: 'bpf_ring' }), 1);
  assert.equal(value(s, 'socktop_shared_ring_capacity_records', {}), 65536);
  enabled = true;
  s = parseExposition(await reg.metrics());
  assert.equal(value(s, 'socktop_bpf_stats_enabled', {}), 1);
  assert.equal(value(s, 'socktop_bpf_program_run_seconds_total', { program: 'cg_sock_create' }), 0.0025);
  assert.equal(value(s, 'socktop_bpf_program_runs_total', { program: 'tp_state' }), 7);
});

test('same accounting as the TUI: per comm, the exporter\'s counters equal the model\'s rows over random interleaved streams', () => {
  for (let seed = 1; seed <= 20; seed++) {
    let x = seed * 7919;
    const rnd = (n: number) => {
      x ^= x << 13; x ^= x >>> 17; x ^= x << 5;
      return (x >>> 0) % n;
    };
    // One queue of records per connection; the stream takes the head of a random queue each step.
    const queues: Uint8Array[][] = [];
    let sockNo = 1;
    for (let c = 0; c < 150; c++) {
      const pid = 100 + rnd(6);
      const comm = `app${pid}`;
      const id = sockNo++;
      const kind = rnd(3);
      const server = kind === 2;
      const base = {
        sock: kernelSock(id), serial: id, pid, comm, laddr: '10.0.0.1', raddr: '10.0.0.2',
        lport: server ? 443 : 30000 + id, rport: server ? 30000 + id : 443,
      };
      const softirq = { ...base, pid: 0, comm: '' };
      const q: Uint8Array[] = [];
      let sent = 0;
      let received = 0;
      const traffic = () => {
        for (let i = rnd(4); i > 0; i--) {
          const n = 1 + rnd(5000);
          if (rnd(2)) { sent += n; q.push(makeRecord({ ...base, kind: K.Send, bytes_sent: n })); }
          else { received += n; q.push(makeRecord({ ...base, kind: K.Recv, bytes_received: n })); }
          if (rnd(5) === 0) q.push(makeRecord({ ...softirq, kind: K.Retransmit }));
        }
      };
      const close = () => {
        // The totals are at least what SEND/RECV told; a quiet tail shows only at close.
        const rec = makeRecord({ ...base, kind: K.Close, bytes_sent: sent + rnd(300), bytes_received: received + rnd(300), new_state: TcpState.Close });
        q.push(rec);
        if (rnd(4) === 0) q.push(rec); // a second end-of-socket report
      };
      switch (kind) {
        case 0: // client, connected
          q.push(makeRecord({ ...base, kind: K.Socket, lport: 0, rport: 0 }));
          q.push(makeRecord({ ...base, kind: K.ConnectStart, new_state: TcpState.SynSent }));
          q.push(makeRecord({ ...base, kind: K.Connect, duration_ns: 1000 + rnd(5_000_000), new_state: TcpState.Established }));
          traffic();
          if (rnd(6) === 0) q.push(makeRecord({ ...softirq, kind: K.Reset, flags: rnd(2) ? Flag.ResetSent : 0 }));
          close();
          break;
        case 1: // client, failed
          q.push(makeRecord({ ...base, kind: K.ConnectStart, new_state: TcpState.SynSent }));
          q.push(makeRecord({ ...base, kind: K.Reset }));
          q.push(makeRecord({ ...base, kind: K.Connect, error: [ECONNREFUSED, ETIMEDOUT, 113, 104, 22][rnd(5)], new_state: TcpState.Close }));
          close();
          break;
        default: // server side
          q.push(makeRecord({ ...base, kind: K.Accept }));
          traffic();
          close();
      }
      queues.push(q);
    }
    const stream: Uint8Array[] = [];
    while (queues.length) {
      const i = rnd(queues.length);
      stream.push(queues[i].shift()!);
      if (queues[i].length === 0) queues.splice(i, 1);
    }
    const model = new SocketModel({ users: new UserNames(() => '') });
    const agg = new Aggregator({ topComms: 50 });
    feed(model, stream);
    feed(agg, stream);
    model.refresh();
    for (const row of model.query(NO_FILTER, 'pid', false)) {
      const slot = agg.labels.slotForWords(row.commW0, row.commW1, row.commW2, row.commW3, false);
      const failed = [C.ConnectRefused, C.ConnectTimeout, C.ConnectUnreachable, C.ConnectReset, C.ConnectOther]
        .reduce((n, col) => n + agg.counter(slot, col), 0);
      const mine = {
        connectsOk: agg.counter(slot, C.ConnectOk), connectsFailed: failed, accepts: agg.counter(slot, C.Accepts),
        closes: agg.counter(slot, C.Closes), bytesSent: agg.counter(slot, C.BytesSent), bytesReceived: agg.counter(slot, C.BytesReceived),
        retransmits: agg.counter(slot, C.Retransmits), resetsSent: agg.counter(slot, C.ResetsSent), resetsReceived: agg.counter(slot, C.ResetsReceived),
      };
      const theirs = {
        connectsOk: row.connectsOk, connectsFailed: row.connectsFailed, accepts: row.accepts, closes: row.closes,
        bytesSent: row.bytesSent, bytesReceived: row.bytesReceived, retransmits: row.retransmits,
        resetsSent: row.resetsSent, resetsReceived: row.resetsReceived,
      };
      assert.deepEqual(mine, theirs, `seed ${seed}, ${row.comm}`);
      assert.equal(agg.latencyCumulative(slot, LATENCY_BOUNDS_SEC.length), row.latency?.count ?? 0);
    }
  }
});

test('container labels: one comm in two containers is two series with container and pod_uid; the host root has none; softirq records take the socket owner\'s place', async () => {
  const id = 'de'.repeat(32);
  const pod = '0d2b5c1e-7f3a-4b6c-9d8e-1a2b3c4d5e6f';
  const paths = new Map<number, string>([
    [21, `/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod${pod.replace(/-/g, '_')}.slice/cri-containerd-${id}.scope`],
    [22, '/system.slice/app.service'],
    [1, '/'],
  ]);
  const a = new Aggregator({ topComms: 10, cgroupPath: (cg) => paths.get(cg) });
  const placed = (recs: Uint8Array[], cgroup_id: number) => recs.map((r) => {
    new DataView(r.buffer).setBigUint64(Offset.cgroup_id, BigInt(cgroup_id), true);
    return r;
  });
  feed(a, placed(connection({ sock: 1, comm: 'app', pid: 10 }), 21));
  feed(a, placed(connection({ sock: 2, comm: 'app', pid: 11 }), 21));
  feed(a, placed(connection({ sock: 3, comm: 'app', pid: 20 }), 22));
  feed(a, placed(connection({ sock: 4, comm: 'app', pid: 30 }), 1));
  // A listener in the container, then an accept of it made in softirq (no comm): the owner's place.
  const lbase = { sock: kernelSock(9), serial: 9, pid: 12, comm: 'app', lport: 8080, laddr: '127.0.0.1' };
  feed(a, placed([makeRecord({ ...lbase, kind: K.Listen, new_state: TcpState.Listen })], 21));
  feed(a, [makeRecord({ ...lbase, kind: K.Retransmit, pid: 0, comm: '' })]);
  const s = await scrape(a);
  const ok = s.filter((x) => x.name === 'socktop_connects_total' && x.labels.result === 'ok');
  assert.deepEqual(ok.map((x) => [x.labels.comm, x.labels.container, x.labels.pod_uid, x.value]).sort(), [
    ['app', 'app.service', undefined, 1],
    ['app', id.slice(0, 12), pod, 2],
    ['app', undefined, undefined, 1],
  ].sort());
  assert.equal(value(s, 'socktop_listen_sockets', { comm: 'app', container: id.slice(0, 12) }), 1);
  assert.equal(value(s, 'socktop_retransmits_total', { comm: 'app', container: id.slice(0, 12) }), 1);
  assert.ok(s.length <= seriesBound(10, 0), 'the bound counts (comm, container) slots');
});
