/**
 * bench/drain.ts: the UI thread's drain rate: records per second moved from the shared ring into
 * the SocketModel (read and aggregated), with a worker thread filling the ring as the capture
 * worker does.
 *
 *   node dist/bench/drain.js [--seconds 5] [--warmup 1] [--exit-every 50] [--no-model-too] [--json]
 *   (npm run bench -- drain ...; no root needed)
 *
 * Producer (worker thread): a realistic stream prepared once (bench/synthetic.ts: the record mix
 * of a real loopback storm, plus sends and receives): 64 server processes, 2000 long-lived client
 * processes and, for one connection in --exit-every, a short-lived client (like a curl loop) that
 * exits after its connection (0: none). 16k connections, about 320k records, replayed over and
 * over with their timestamps moved on (about 2 M records per second of record time, so the rate
 * windows, the chart history and the aging all see time pass) and published in batches of 256
 * with SharedRing.pushBatch, as the capture worker does. When the ring is full it waits (no drops).
 *
 * Consumer (main thread): exactly the UI's path: Pump.drain() (src/ui/pump.ts) visiting each record
 * with SocketModel.ingest(), in a loop, plus model.refresh() once per 100 ms of wall time (the
 * UI's frames; refresh is per frame, not per record). The figure is the records drained per second,
 * median over 1 s windows after --warmup; also how often the consumer found the ring empty (if
 * often, the producer was the limit and the figure is a lower bound).
 *
 * --no-model-too: also the same loop with a visitor that only reads the kind byte (the ring's own
 * cost, for comparison).
 *
 * Target (issue 3): at least 2 million records/s drained and aggregated.
 */
import { isMainThread, parentPort, Worker, workerData } from 'node:worker_threads';
import * as os from 'node:os';
import { performance } from 'node:perf_hooks';
import { EventKind as K, Offset, RECORD_SIZE } from '../src/capture/layout';
import { SharedRing } from '../src/capture/ring';
import { DEFAULT_RING_CAPACITY as RING_CAPACITY } from '../src/cli/live'; // what the CLI gives the live capture
import { SocketModel } from '../src/model/model';
import { UI_MODEL_OPTIONS } from '../src/ui/app';
import { Pump } from '../src/ui/pump';
import type { DataSource } from '../src/source';
import { makeRecord } from '../test/unit/helpers/records';
import { commFor, connectionRecords, listenerRecords, packRecords, rng, uidFor } from './synthetic';

const TARGET = 2_000_000;
const BATCH = 256;

const SEC = 1e9;
const NS_PER_RECORD = 500; // record time advances 0.5 us per record: 2 M records/s of record time

function argValue(name: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : undefined;
}
function numArg(name: string, def: number): number {
  const v = argValue(name);
  const n = v === undefined ? def : Number(v);
  if (!Number.isFinite(n) || n < 0) throw new Error(`--${name}: '${v}' is not a non-negative number`);
  return n;
}

// ------------------------------------------------------------------------------ the stream

/** The stream the producer replays: packed records with ts relative to the stream's start. */
export function buildStream(exitEvery: number): { packed: Uint8Array; count: number; spanNs: number } {
  const rand = rng(2024);
  const servers = 64;
  const clients = 2000;
  const connections = 16384;
  const records: Uint8Array[] = [];
  let ts = 0;
  let sock = 1;
  for (let s = 0; s < servers; s++) records.push(...listenerRecords(1000 + s, commFor(s), uidFor(s), sock++, 9000 + s, ts));
  let shortPid = 500000;
  for (let c = 0; c < connections; c++) {
    const server = Math.floor(rand() * servers);
    const shortLived = exitEvery > 0 && c % exitEvery === exitEvery - 1;
    const client = shortLived ? shortPid++ : 10000 + Math.floor(rand() * clients);
    const clientComm = shortLived ? 'curl' : commFor(client);
    const recs = connectionRecords({
      clientPid: client, clientComm, clientUid: uidFor(client), serverPid: 1000 + server, serverComm: commFor(server),
      serverUid: uidFor(server), clientSock: 100000 + (c % 4096) * 2, serverSock: 100001 + (c % 4096) * 2,
      port: 9000 + server, clientPort: 32768 + (c % 28000), tsNs: ts, refused: rand() < 0.1,
      latencyNs: 20_000 + Math.floor(rand() * 100_000), bytes: 100 + Math.floor(rand() * 2000),
    });
    if (shortLived) {
      recs.push(makeRecord({ kind: K.Exit, pid: client, comm: clientComm, ts_ns: ts + recs.length * 1500 + 1000 }));
    }
    records.push(...recs);
    ts += recs.length * NS_PER_RECORD;
  }
  // Timestamps: spread evenly over the stream, in order.
  const packed = packRecords(records);
  const view = new DataView(packed.buffer);
  for (let i = 0; i < records.length; i++) setTs(view, i * RECORD_SIZE, i * NS_PER_RECORD);
  return { packed, count: records.length, spanNs: records.length * NS_PER_RECORD };
}

function setTs(view: DataView, off: number, ts: number): void {
  view.setUint32(off + Offset.ts_ns, ts % 4294967296, true);
  view.setUint32(off + Offset.ts_ns + 4, Math.floor(ts / 4294967296), true);
}

// ------------------------------------------------------------------------------ worker side

interface Job {
  ring: SharedArrayBuffer;
  ctl: SharedArrayBuffer; // Int32 [go, park]
  exitEvery: number;
}

function producer(job: Job): void {
  const ring = new SharedRing(job.ring);
  const ctl = new Int32Array(job.ctl);
  const stream = buildStream(job.exitEvery);
  const batch = new Uint8Array(BATCH * RECORD_SIZE);
  const bview = new DataView(batch.buffer);
  const sview = new DataView(stream.packed.buffer);
  parentPort!.postMessage('ready');
  while (Atomics.load(ctl, 0) === 0) Atomics.wait(ctl, 0, 0, 100);
  const base = 1000 * SEC;
  let pass = 0;
  let i = 0;
  while (!ring.stopRequested()) {
    if (ring.capacity - ring.available() < BATCH) {
      Atomics.wait(ctl, 1, 0, 0.05); // full: a short nap (the consumer is the one being measured)
      continue;
    }
    const n = Math.min(BATCH, stream.count - i);
    batch.set(stream.packed.subarray(i * RECORD_SIZE, (i + n) * RECORD_SIZE));
    const shift = base + pass * stream.spanNs;
    for (let r = 0; r < n; r++) {
      const at = r * RECORD_SIZE + Offset.ts_ns;
      const ts = sview.getUint32((i + r) * RECORD_SIZE + Offset.ts_ns, true) + sview.getUint32((i + r) * RECORD_SIZE + Offset.ts_ns + 4, true) * 4294967296 + shift;
      bview.setUint32(at, ts % 4294967296, true);
      bview.setUint32(at + 4, Math.floor(ts / 4294967296), true);
    }
    ring.pushBatch(batch, n);
    i += n;
    if (i >= stream.count) {
      i = 0;
      pass++;
    }
  }
}

// ------------------------------------------------------------------------------ main side

interface DrainResult {
  variant: 'model' | 'ring-only';
  recordsPerSec: number;
  minPerSec: number;
  maxPerSec: number;
  drained: number;
  /** Fraction of the measured time spent in drain calls that found the ring empty (waiting for
   *  the producer): when large, the producer was the limit and the figure a lower bound. */
  idleFraction: number;
  processes?: number;
  sockets?: number;
}

async function run(variant: 'model' | 'ring-only', o: { seconds: number; warmup: number; exitEvery: number }): Promise<DrainResult> {
  const ring = SharedRing.create(RING_CAPACITY, RECORD_SIZE);
  const ctl = new Int32Array(new SharedArrayBuffer(8));
  const job: Job = { ring: ring.sab, ctl: ctl.buffer as SharedArrayBuffer, exitEvery: o.exitEvery };
  const worker = new Worker(__filename, { workerData: job });
  await new Promise<void>((resolve, reject) => {
    worker.once('message', () => resolve());
    worker.once('error', reject);
  });
  const model = new SocketModel(UI_MODEL_OPTIONS); // as the TUI makes it
  // biome-ignore lint/correctness/noUnusedVariables: the sum only keeps the visitor from being optimized away
  let kinds = 0;
  const source = { ring } as unknown as DataSource;
  const pump = new Pump(source, model);
  const countOnly = (view: DataView, off: number) => { kinds += view.getUint8(off + Offset.kind); };
  const drain = variant === 'model' ? () => pump.drain() : () => ring.drain(countOnly);

  Atomics.store(ctl, 0, 1);
  Atomics.notify(ctl, 0);
  const windows: number[] = [];
  let drained = 0;
  let idleMs = 0;
  const t0 = performance.now();
  let windowStart = t0 + o.warmup * 1000;
  let windowCount = 0;
  let nextRefresh = t0 + 100;
  const end = windowStart + o.seconds * 1000;
  const measureFrom = windowStart;
  let prev = performance.now();
  for (;;) {
    const n = drain();
    const now = performance.now();
    if (now >= measureFrom) {
      windowCount += n;
      drained += n;
      if (n === 0) idleMs += now - prev;
    }
    prev = now;
    if (now >= nextRefresh) {
      if (variant === 'model') model.refresh();
      nextRefresh = now + 100;
    }
    if (now >= windowStart + 1000) {
      windows.push(windowCount / ((now - windowStart) / 1000));
      windowCount = 0;
      windowStart = now;
      if (now >= end) break;
    }
  }
  ring.requestStop();
  await worker.terminate();
  const sorted = [...windows].sort((a, b) => a - b);
  const st = model.stats();
  return {
    variant, recordsPerSec: sorted[Math.floor(sorted.length / 2)], minPerSec: sorted[0], maxPerSec: sorted[sorted.length - 1],
    drained, idleFraction: idleMs / (o.seconds * 1000),
    ...(variant === 'model' ? { processes: st.processes, sockets: st.sockets } : {}),
  };
}

function fmt(n: number): string {
  return n >= 1e6 ? `${(n / 1e6).toFixed(2)} M` : `${(n / 1e3).toFixed(0)} k`;
}

async function main(): Promise<void> {
  const o = { seconds: numArg('seconds', 5), warmup: numArg('warmup', 1), exitEvery: numArg('exit-every', 50) };
  console.log(`drain bench: worker -> SharedRing (${RING_CAPACITY} records) -> main thread Pump.drain() -> SocketModel.ingest(), `
    + `${o.seconds} s after ${o.warmup} s warm-up, 1 s windows (median); short-lived client every ${o.exitEvery || 'never'} connections; `
    + `node ${process.version}, ${os.cpus().length} CPUs, load average ${os.loadavg()[0].toFixed(2)}`);
  const variants: ('model' | 'ring-only')[] = process.argv.includes('--no-model-too') ? ['model', 'ring-only'] : ['model'];
  const results: DrainResult[] = [];
  for (const v of variants) {
    const r = await run(v, o);
    results.push(r);
    console.log(`  ${v.padEnd(9)}: ${fmt(r.recordsPerSec)}records/s (windows ${fmt(r.minPerSec)} .. ${fmt(r.maxPerSec)}), `
      + `${r.drained} records; waited for the producer ${(r.idleFraction * 100).toFixed(1)}% of the time`
      + (r.processes !== undefined ? `; model: ${r.processes} processes, ${r.sockets} sockets` : ''));
  }
  const m = results[0];
  console.log(`target >= ${fmt(TARGET)}records/s drained and aggregated: ${m.recordsPerSec >= TARGET ? 'met' : 'MISSED'} (${fmt(m.recordsPerSec)}records/s)`
    + (m.idleFraction > 0.2 ? ' (the producer was the limit: a lower bound)' : ''));
  if (process.argv.includes('--json')) console.log(JSON.stringify({ bench: 'drain', options: o, results }));
}

if (!isMainThread) {
  producer(workerData as Job);
} else if (require.main === module) {
  main().then(() => process.exit(0), (e) => {
    console.error(e);
    process.exit(1);
  });
}
