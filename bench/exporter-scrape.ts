/**
 * bench/exporter-scrape.ts: the exporter's scrape time with ~10,000 series (issue 15): the real
 * aggregator, registry and HTTP server (src/exporter/aggregator.ts, metrics.ts, server.ts) fed
 * synthetic records (bench/synthetic.ts, the unit tests' makeRecord) until the exposition holds the
 * asked number of series, then timed scrapes.
 *
 *   node dist/bench/exporter-scrape.js [--series 10000] [--scrapes 50] [--warmup 5] [--json]
 *   (npm run bench -- exporter-scrape ...; no root needed; --series takes a list: 1000,10000)
 *
 * The feed: per labelled comm, a listener and a few loopback connections to itself (one refused,
 * one kept open), so that every comm has all its series (13 counters, the connect latency
 * histogram's 20, the listen gauge); then as many names again, once the top N are taken, which all
 * count under comm="~other" (as a fork bomb of names would); a softirq record of an unknown socket
 * (~unknown). N, the --top-comms it runs with, is chosen from SERIES_PER_COMM so that the total,
 * prom-client's process_* and nodejs_* metrics included, is about --series; the series are then
 * counted from the text itself (one per sample line).
 *
 * The exporter's side (aggregator, registry, server) runs in a process of its own (this file,
 * forked with --serve N), so the client that times it shares no event loop with it. Timed,
 * --scrapes times each after --warmup untimed ones:
 *   http      GET /metrics through the real server on 127.0.0.1, from the parent process (a fresh
 *             connection each; the comm re-ranking the server does before each scrape included),
 *             to the last byte
 *   registry  registry.metrics() alone, in the exporter's process before it serves (no HTTP)
 * Figures: median [min-max] ms, the body's bytes, the series count (all, socktop_*).
 */
import { type ChildProcess, fork } from 'node:child_process';
import { performance } from 'node:perf_hooks';
import type { Registry } from 'prom-client';
import { EventKind as K, TcpState as S } from '../src/capture/layout';
import { Aggregator } from '../src/exporter/aggregator';
import { buildRegistry, type ExporterView, SERIES_PER_COMM } from '../src/exporter/metrics';
import { serveMetrics } from '../src/exporter/server';
import { kernelSock, makeRecord } from '../test/unit/helpers/records';
import { countSeries, parseExposition, scrape } from './exposition';
import { commFor, connectionRecords, listenerRecords, packRecords } from './synthetic';

interface Options { series: number[]; scrapes: number; warmup: number; json: boolean }

function argValue(argv: readonly string[], name: string): string | undefined {
  const i = argv.indexOf(`--${name}`);
  return i >= 0 ? argv[i + 1] : undefined;
}

function parseOptions(argv: readonly string[]): Options {
  const num = (name: string, def: number, min: number): number => {
    const v = argValue(argv, name);
    const n = v === undefined ? def : Number(v);
    if (!Number.isInteger(n) || n < min) throw new Error(`--${name}: '${v}' is not a whole number >= ${min}`);
    return n;
  };
  const series = (argValue(argv, 'series') ?? '10000').split(',').map(Number);
  if (series.some((n) => !Number.isInteger(n) || n < 1)) throw new Error(`--series: '${argValue(argv, 'series')}' is not a list of whole numbers`);
  return { series, scrapes: num('scrapes', 50, 1), warmup: num('warmup', 5, 0), json: argv.includes('--json') };
}

/** Labelled comm number i: distinct, at most 15 bytes (the kernel's comm). */
const commName = (i: number): string => `${i}-${commFor(i)}`.slice(0, 15);

/** Feed the aggregator: `labelled` comms with every series, `others` more names under ~other, one ~unknown record. */
function feed(a: Aggregator, labelled: number, others: number): number {
  const records: Uint8Array[] = [];
  let sock = 1;
  let ts = 1e9;
  const tick = (step: number): number => {
    ts += step;
    return ts;
  };
  const connect = (comm: string, pid: number, port: number, extra: { refused?: boolean; keepOpen?: boolean; latencyNs?: number }) => {
    records.push(...connectionRecords({
      clientPid: pid, clientComm: comm, serverPid: pid, serverComm: comm, clientSock: sock++, serverSock: sock++,
      port: extra.refused ? port + 1 : port, clientPort: 30000 + (sock % 30000), tsNs: tick(50_000), ...extra,
    }));
  };
  for (let i = 0; i < labelled + others; i++) {
    const comm = i < labelled ? commName(i) : `x${i}-${commFor(i)}`.slice(0, 15);
    const pid = 1000 + i;
    const port = 1024 + ((2 * i) % 60000);
    records.push(...listenerRecords(pid, comm, 0, sock++, port, tick(10_000)));
    // Latencies spread over the histogram's buckets.
    connect(comm, pid, port, { latencyNs: 20_000 * (1 + (i % 7)) });
    connect(comm, pid, port, { latencyNs: 2_000_000 * (1 + (i % 5)) });
    connect(comm, pid, port, { refused: true });
    connect(comm, pid, port, { keepOpen: true });
  }
  // A softirq reset on a socket never seen: counted under ~unknown.
  records.push(makeRecord({ kind: K.Reset, ts_ns: tick(1000), sock: kernelSock(sock++), lport: 80, rport: 40000, laddr: '127.0.0.1', raddr: '127.0.0.1', comm: '' }));
  records.push(makeRecord({ kind: K.State, ts_ns: tick(1000), sock: kernelSock(sock++), old_state: S.Established, new_state: S.CloseWait, comm: '' }));
  const packed = packRecords(records);
  const view = new DataView(packed.buffer, packed.byteOffset, packed.byteLength);
  for (let off = 0; off < packed.byteLength; off += records[0].length) a.ingest(view, off);
  return records.length;
}

function exporterView(topComms: number): ExporterView {
  return {
    aggregator: new Aggregator({ topComms }), ringFill: { last: 0.01, max: 0.2 },
    info: { backend: 'cgroup', version: 'bench' }, bpfStatsEnabled: () => false,
  };
}

/** Series of an exposition with no socket traffic at all (the fixed ones, process_* and nodejs_*). */
async function baseSeries(): Promise<number> {
  return countSeries(parseExposition(await buildRegistry(exporterView(1)).metrics())).all;
}

interface Timing { median: number; min: number; max: number }
function timing(ms: number[]): Timing {
  const s = [...ms].sort((a, b) => a - b);
  const median = s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
  return { median, min: s[0], max: s[s.length - 1] };
}
const fmt = (t: Timing): string => `${t.median.toFixed(2)} [${t.min.toFixed(2)}-${t.max.toFixed(2)}]`;

interface ScrapeResult {
  target: number; topComms: number; records: number; commLabels: number;
  series: number; socktopSeries: number; bytes: number;
  httpMs: Timing; registryMs: Timing; registryBytes: number;
}

async function timeRegistry(reg: Registry, o: Options): Promise<{ t: Timing; bytes: number }> {
  let bytes = 0;
  for (let i = 0; i < o.warmup; i++) await reg.metrics();
  const ms: number[] = [];
  for (let i = 0; i < o.scrapes; i++) {
    const t0 = performance.now();
    const text = await reg.metrics();
    ms.push(performance.now() - t0);
    bytes = Buffer.byteLength(text);
  }
  return { t: timing(ms), bytes };
}

async function timeHttp(url: string, o: Options): Promise<{ t: Timing; bytes: number; text: string }> {
  for (let i = 0; i < o.warmup; i++) await scrape(url);
  const ms: number[] = [];
  let last = { bytes: 0, body: '' };
  for (let i = 0; i < o.scrapes; i++) {
    const s = await scrape(url);
    ms.push(s.ms);
    last = s;
  }
  return { t: timing(ms), bytes: last.bytes, text: last.body };
}

/** What the exporter's process reports once it serves. */
interface Served { port: number; records: number; registryMs: Timing; registryBytes: number }

/**
 * The exporter's side (`--serve N`), in a process of its own so that the client timing it shares
 * no event loop with it: fed, registry.metrics() timed alone, then serving until the parent goes.
 */
async function serve(topComms: number, o: Options): Promise<void> {
  const view = exporterView(topComms);
  const records = feed(view.aggregator, topComms, topComms);
  const reg = buildRegistry(view);
  const registry = await timeRegistry(reg, o);
  const server = await serveMetrics({ host: '127.0.0.1', port: 0 }, reg, { beforeScrape: () => view.aggregator.labels.rerank(Date.now()) });
  process.once('disconnect', () => void server.close());
  const served: Served = { port: server.address.port, records, registryMs: registry.t, registryBytes: registry.bytes };
  process.send!(served);
}

/** Fork this file as the exporter's process; resolves once it serves. */
function startExporter(topComms: number, argv: readonly string[]): Promise<{ child: ChildProcess; served: Served }> {
  const child = fork(__filename, [...argv, '--serve', String(topComms)], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  return new Promise((resolve, reject) => {
    child.once('message', (m) => resolve({ child, served: m as Served }));
    child.once('exit', (code) => reject(new Error(`the exporter's process exited (${code}) before serving`)));
  });
}

async function benchOne(target: number, base: number, o: Options, argv: readonly string[]): Promise<ScrapeResult> {
  // Active slots export SERIES_PER_COMM each: N labelled, plus ~other and ~unknown.
  const topComms = Math.max(1, Math.round((target - base) / SERIES_PER_COMM) - 2);
  const { child, served } = await startExporter(topComms, argv);
  try {
    const http = await timeHttp(`http://127.0.0.1:${served.port}/metrics`, o);
    const samples = parseExposition(http.text);
    const counted = countSeries(samples);
    return {
      target, topComms, records: served.records, commLabels: new Set(samples.map((s) => s.labels.comm).filter(Boolean)).size,
      series: counted.all, socktopSeries: counted.socktop, bytes: http.bytes,
      httpMs: http.t, registryMs: served.registryMs, registryBytes: served.registryBytes,
    };
  } finally {
    const exited = new Promise((r) => child.once('exit', r));
    child.disconnect();
    await exited;
  }
}

function printTable(rs: ScrapeResult[], o: Options): void {
  console.log(`exporter scrape time (${o.scrapes} scrapes after ${o.warmup} warm-up; median [min-max] ms)`);
  const rows = [['series (all / socktop_*)', 'comm labels', '--top-comms', 'bytes', 'GET /metrics ms', 'registry.metrics() ms']];
  for (const r of rs) {
    rows.push([`${r.series} / ${r.socktopSeries}`, String(r.commLabels), String(r.topComms), String(r.bytes), fmt(r.httpMs), fmt(r.registryMs)]);
  }
  const w = rows[0].map((_, i) => Math.max(...rows.map((row) => row[i].length)));
  for (const row of rows) console.log(row.map((c, i) => (i === 0 ? c.padEnd(w[i]) : c.padStart(w[i]))).join('  '));
}

async function main(argv: readonly string[]): Promise<number> {
  let o: Options;
  try {
    o = parseOptions(argv);
  } catch (e) {
    console.error(`exporter-scrape: ${(e as Error).message}`);
    return 2;
  }
  const serveAs = argValue(argv, 'serve');
  if (serveAs !== undefined) {
    await serve(Number(serveAs), o);
    return 0;
  }
  const base = await baseSeries();
  const results: ScrapeResult[] = [];
  for (const target of o.series) results.push(await benchOne(target, base, o, argv));
  printTable(results, o);
  if (o.json) console.log(JSON.stringify({ bench: 'exporter-scrape', node: process.version, options: o, results }));
  return 0;
}

if (require.main === module) {
  main(process.argv.slice(2)).then((code) => { process.exitCode = code; }, (e) => {
    console.error(`exporter-scrape: ${(e as Error).message}`);
    process.exitCode = 1;
  });
}
