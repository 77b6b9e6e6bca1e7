/**
 * bench/frame.ts: the TUI's frame time, model to screen, at 1k and 10k process rows, in every
 * view (processes, commands, tree, connections, remotes, listeners) with up to --sockets sockets.
 *
 *   node dist/bench/frame.js [--rows 1000,10000] [--frames 200] [--warmup 20] [--size 160x50]
 *        [--activity 500] [--sort conn] [--views processes,commands,...] [--sockets 100000] [--json]
 *   (npm run bench -- frame ...; no root needed)
 *
 * --sockets N: besides the history below, held-open connections (two sockets each) between
 * random clients and their servers until the model holds N open sockets (the model's socket cap
 * raised to fit). Each view is measured on the same model, one after the other (its own warm-up
 * first); --sort applies to the processes view, the others use their default sort.
 *
 * The real App (src/ui/app.ts) on a real blessed screen whose output is a stream that discards
 * what it is given (as wide and high as --size says, TERM=xterm-256color), fed through a real
 * SharedRing from a DataSource whose clock the bench moves. The model is first filled with
 * synthetic records (bench/synthetic.ts, the connection mix of a real loopback storm) for N
 * processes: one in ten a server with a listening port, the rest clients with two finished
 * connections each (one in eight refused) and, for one in five, one held open.
 *
 * Each frame: the clock moves 1 s, --activity new connections between random clients and their
 * servers are pushed into the ring and drained into the model (not timed: the app's 100 ms drain
 * timer does that between frames, and bench/drain.ts measures it), then the app's own frame() is
 * timed: drain (empty), layout, model.refresh, the header's figures, model.query (filter + sort of
 * every row), the visible rows' text, the chart's data, the footer, and screen.render(), which
 * diffs the screen and writes the escape sequences. The median and p99 over --frames frames (after
 * --warmup) are reported, with a per-part median breakdown.
 *
 * Target (issue 3): under 10 ms per frame at 10k rows.
 */
import { Readable, Writable } from 'node:stream';
import * as os from 'node:os';
import { performance } from 'node:perf_hooks';
import type * as blessed from 'blessed';
import { Offset, RECORD_SIZE } from '../src/capture/layout';
import { SharedRing } from '../src/capture/ring';
import type { SocketModel } from '../src/model/model';
import { isSortKey, SortKey } from '../src/model/query';
import { VIEW_NAMES, viewByName, ViewName } from '../src/model/views/registry';
import { App } from '../src/ui/app';
import type { Pump } from '../src/ui/pump';
import type { DataSource } from '../src/source';
import { UiState } from '../src/ui/state';
import { Theme } from '../src/ui/views/theme';
import { commFor, connectionRecords, listenerRecords, packRecords, rng, uidFor } from './synthetic';

const TARGET_MS = 10;
const SEC = 1e9;

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

/** What the bench reaches inside the App (private members, read and wrapped, never changed). */
interface AppInternals {
  frame(): void;
  drawTable(...a: unknown[]): void;
  state: UiState;
  model: SocketModel;
  pump: Pump;
  screen: blessed.Widgets.Screen;
  header: { render(...a: unknown[]): void };
  table: { render(...a: unknown[]): void };
  chart: { render(...a: unknown[]): void };
  footer: { render(...a: unknown[]): void };
}

/** A terminal that is never read and whose output goes nowhere (but is counted). */
function nullTerminal(cols: number, rows: number): { input: Readable; output: Writable & { columns: number; rows: number }; bytes: () => number } {
  let bytes = 0;
  const output = new Writable({
    write(chunk: Buffer | string, _enc, cb) {
      bytes += chunk.length;
      cb();
    },
  }) as Writable & { columns: number; rows: number; isTTY: boolean };
  output.columns = cols;
  output.rows = rows;
  output.isTTY = true;
  const input = new Readable({ read() { /* never any input */ } });
  return { input, output, bytes: () => bytes };
}

export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return NaN;
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil(p * sorted.length) - 1));
  return sorted[i];
}

interface FrameResult {
  view: ViewName;
  /** Open sockets in the model. */
  sockets: number;
  rows: number;
  shownRows: number;
  frames: number;
  medianMs: number;
  p99Ms: number;
  maxMs: number;
  /** CPU time of the process (all threads: mostly the main one) per frame: less skewed by other
   *  processes taking the core than wall time is, on a busy machine. */
  cpuMedianMs: number;
  cpuP99Ms: number;
  /** Median ms of each part of a frame. */
  parts: Record<string, number>;
  bytesPerFrame: number;
  /** Records ingested to build the model before the first frame. */
  setupRecords: number;
  setupMs: number;
}

export class Population {
  private readonly rand = rng(12345);
  private sockSeq = 1;
  private portSeq = 20000;
  readonly servers: number[] = [];
  readonly clients: number[] = [];

  constructor(readonly n: number, readonly pidBase = 200000) {
    for (let i = 0; i < n; i++) (i % 10 === 0 ? this.servers : this.clients).push(i);
    if (this.servers.length === 0) this.servers.push(0);
  }

  pid(i: number): number {
    return this.pidBase + i;
  }

  serverOf(i: number): number {
    return i - (i % 10);
  }

  listeners(tsNs: number): Uint8Array[] {
    return this.servers.flatMap((i) => listenerRecords(this.pid(i), commFor(i), uidFor(i), this.sockSeq++, 10000 + i / 10, tsNs));
  }

  connection(client: number, tsNs: number, opts: { refused?: boolean; keepOpen?: boolean } = {}): Uint8Array[] {
    const server = this.serverOf(client);
    const r = this.rand();
    return connectionRecords({
      clientPid: this.pid(client), clientComm: commFor(client), clientUid: uidFor(client),
      serverPid: this.pid(server), serverComm: commFor(server), serverUid: uidFor(server),
      clientSock: this.sockSeq++, serverSock: this.sockSeq++,
      port: 10000 + server / 10, clientPort: 32768 + (this.portSeq++ % 28000),
      tsNs, refused: opts.refused ?? r < 0.125, keepOpen: opts.keepOpen,
      latencyNs: 20_000 + Math.floor(r * 200_000), bytes: 64 + Math.floor(r * 4000),
    });
  }

  /** Initial history: every client's two connections over the 10 s before `nowNs`. */
  history(nowNs: number): Uint8Array[][] {
    const out: Uint8Array[][] = [this.listeners(nowNs - 10 * SEC)];
    for (const c of this.clients) {
      const recs: Uint8Array[] = [];
      for (let k = 0; k < 2; k++) recs.push(...this.connection(c, nowNs - Math.floor(this.rand() * 9.5 * SEC) - SEC / 2));
      if (c % 5 === 1) recs.push(...this.connection(c, nowNs - SEC, { refused: false, keepOpen: true }));
      out.push(recs);
    }
    return out;
  }

  /** `count` connections from random clients during the second before `nowNs`. */
  activity(count: number, nowNs: number): Uint8Array[] {
    const out: Uint8Array[] = [];
    for (let k = 0; k < count; k++) {
      const c = this.clients[Math.floor(this.rand() * this.clients.length)];
      out.push(...this.connection(c, nowNs - SEC + Math.floor((k / count) * SEC * 0.98)));
    }
    return out;
  }
}

/** Push packed records through the ring into the app's model, in ring-sized chunks. */
export function feed(ring: SharedRing, pump: Pump, packed: Uint8Array, count: number): number {
  const chunk = ring.capacity / 2;
  let n = 0;
  for (let i = 0; i < count; i += chunk) {
    const m = Math.min(chunk, count - i);
    ring.pushBatch(packed.subarray(i * RECORD_SIZE, (i + m) * RECORD_SIZE), m);
    n += pump.drain();
  }
  return n;
}

/**
 * Per-frame activity, generated once (ts relative to the frame's start) and re-stamped each frame,
 * so building records (and their garbage) is not what the frames' timings measure.
 */
export class Activity {
  private readonly templates: Uint8Array[] = [];
  private readonly scratch: Uint8Array;
  private readonly view: DataView;
  private next = 0;

  constructor(pop: Population, perFrame: number, variants = 16) {
    for (let v = 0; v < variants; v++) this.templates.push(packRecords(pop.activity(perFrame, SEC)));
    this.scratch = new Uint8Array(Math.max(...this.templates.map((t) => t.length)));
    this.view = new DataView(this.scratch.buffer);
  }

  /** The next variant's records with timestamps in the second before `nowNs`; returns the count. */
  stamp(nowNs: number): { packed: Uint8Array; count: number } {
    const t = this.templates[this.next++ % this.templates.length];
    this.scratch.set(t);
    const count = t.length / RECORD_SIZE;
    const base = nowNs - SEC;
    for (let i = 0; i < count; i++) {
      const at = i * RECORD_SIZE + Offset.ts_ns;
      const ts = this.view.getUint32(at + 4, true) * 4294967296 + this.view.getUint32(at, true) + base;
      this.view.setUint32(at, ts % 4294967296, true);
      this.view.setUint32(at + 4, Math.floor(ts / 4294967296), true);
    }
    return { packed: this.scratch, count };
  }
}

function wrap(obj: Record<string, unknown>, method: string, acc: Map<string, number>, name: string): void {
  const orig = obj[method] as (...a: unknown[]) => unknown;
  obj[method] = function timed(this: unknown, ...args: unknown[]) {
    const t0 = performance.now();
    try {
      return orig.apply(this, args);
    } finally {
      acc.set(name, (acc.get(name) ?? 0) + performance.now() - t0);
    }
  };
}

interface BenchOptions {
  frames: number; warmup: number; cols: number; rows: number; activity: number; sort: SortKey;
  views?: readonly ViewName[]; sockets?: number;
}

export function benchFrames(n: number, o: BenchOptions): FrameResult {
  return benchViews(n, { ...o, views: ['processes'] })[0];
}

/** Held-open connections between random clients and their servers, `count` of them. */
function heldConnections(pop: Population, count: number, nowNs: number): Uint8Array[][] {
  const out: Uint8Array[][] = [];
  let batch: Uint8Array[] = [];
  for (let k = 0; k < count; k++) {
    const c = pop.clients[k % pop.clients.length];
    batch.push(...pop.connection(c, nowNs - SEC + k, { refused: false, keepOpen: true }));
    if (batch.length > 20000) {
      out.push(batch);
      batch = [];
    }
  }
  out.push(batch);
  return out;
}

export function benchViews(n: number, o: BenchOptions): FrameResult[] {
  process.env.TERM = 'xterm-256color';
  const t0 = performance.now();
  const term = nullTerminal(o.cols, o.rows);
  const ring = SharedRing.create(1 << 16, RECORD_SIZE);
  let nowNs = 1000 * SEC;
  const source: DataSource = {
    ring,
    describe: () => ({ mode: 'live', backend: 'tracepoint', host: 'bench', kernel: os.release() }),
    stats: () => ({ bpfRingDrops: 0, programs: [{ name: 'bench', runCount: 0, runTimeNs: 0 }] }),
    clockNs: () => nowNs,
    stop: async () => undefined,
  };
  const sockets = o.sockets ?? 0;
  const app = new App(source, {
    delaySec: 1, state: new UiState({ sortKey: o.sort }), theme: new Theme(true),
    input: term.input, output: term.output,
    model: { maxSockets: Math.max(65536, Math.ceil(sockets * 1.25) + 8192) },
  });
  const inner = app as unknown as AppInternals;
  const pop = new Population(n);
  let ingested = 0;
  for (const batch of pop.history(nowNs)) ingested += feed(ring, inner.pump, packRecords(batch), batch.length);
  const more = Math.max(0, Math.ceil((sockets - inner.model.stats().openSockets) / 2));
  for (const batch of heldConnections(pop, more, nowNs)) ingested += feed(ring, inner.pump, packRecords(batch), batch.length);
  const activity = new Activity(pop, o.activity);
  inner.frame();
  const setupMs = performance.now() - t0;

  const program = (inner.screen as unknown as { program: { flush(): void } }).program;
  program.flush();
  const setupRecords = ingested;
  const acc = new Map<string, number>();
  wrap(inner as unknown as Record<string, unknown>, 'drawTable', acc, 'view');
  wrap(inner.model as unknown as Record<string, unknown>, 'refresh', acc, 'refresh');
  wrap(inner.model as unknown as Record<string, unknown>, 'query', acc, 'query');
  wrap(inner.header, 'render', acc, 'header');
  wrap(inner.table, 'render', acc, 'table');
  wrap(inner.chart, 'render', acc, 'chart');
  wrap(inner.footer, 'render', acc, 'footer');
  wrap(inner.screen as unknown as Record<string, unknown>, 'render', acc, 'screen.render');

  const results: FrameResult[] = [];
  for (const view of o.views ?? ['processes']) {
    inner.state.showView(view);
    const r = measure(view);
    results.push({ ...r, setupRecords, setupMs });
  }
  app.restoreTerminal();
  term.input.destroy();
  return results;

  function measure(view: ViewName): Omit<FrameResult, 'setupRecords' | 'setupMs'> {
  const times: number[] = [];
  const cpuTimes: number[] = [];
  const parts = new Map<string, number[]>();
  let bytes = 0;
  for (let f = 0; f < o.warmup + o.frames; f++) {
    nowNs += SEC;
    const a = activity.stamp(nowNs);
    ingested += feed(ring, inner.pump, a.packed, a.count);
    acc.clear();
    const b0 = term.bytes();
    const c0 = process.cpuUsage();
    const s = performance.now();
    inner.frame();
    // blessed buffers what render() writes and flushes it on the next tick: flush it here, so
    // the writes are part of the frame (the loop never yields).
    program.flush();
    const dt = performance.now() - s;
    const cpu = process.cpuUsage(c0);
    if (f < o.warmup) continue;
    times.push(dt);
    cpuTimes.push((cpu.user + cpu.system) / 1000);
    bytes += term.bytes() - b0;
    for (const [k, v] of acc) {
      if (!parts.has(k)) parts.set(k, []);
      parts.get(k)!.push(v);
    }
  }
  const shownRows = inner.state.rowCount;
  const sorted = [...times].sort((a, b) => a - b);
  const cpuSorted = [...cpuTimes].sort((a, b) => a - b);
  const med: Record<string, number> = {};
  for (const [k, v] of parts) med[k] = percentile([...v].sort((a, b) => a - b), 0.5);
  return {
    view, sockets: inner.model.stats().openSockets,
    rows: n, shownRows, frames: times.length, medianMs: percentile(sorted, 0.5), p99Ms: percentile(sorted, 0.99),
    cpuMedianMs: percentile(cpuSorted, 0.5), cpuP99Ms: percentile(cpuSorted, 0.99),
    maxMs: sorted[sorted.length - 1], parts: med, bytesPerFrame: Math.round(bytes / times.length),
  };
  }
}

function main(): void {
  const rowCounts = (argValue('rows') ?? '1000,10000').split(',').map(Number);
  const [cols, rows] = (argValue('size') ?? '160x50').split('x').map(Number);
  const sort = argValue('sort') ?? 'conn';
  if (!isSortKey(sort)) throw new Error(`--sort: unknown column '${sort}'`);
  const views = (argValue('views') ?? VIEW_NAMES.join(',')).split(',').map((v) => {
    const view = viewByName(v);
    if (!view) throw new Error(`--views: unknown view '${v}' (${VIEW_NAMES.join(', ')})`);
    return view;
  });
  const o = {
    frames: numArg('frames', 200), warmup: numArg('warmup', 20), cols, rows, activity: numArg('activity', 500), sort,
    views, sockets: numArg('sockets', 100000),
  };
  console.log(`frame bench: App.frame() on a ${cols}x${rows} blessed screen (output discarded), sort ${sort}, `
    + `${o.activity} new connections per frame, ${o.frames} frames after ${o.warmup} warm-up per view, `
    + `${o.sockets} open sockets; `
    + `node ${process.version}, ${os.cpus().length} CPUs, load average ${os.loadavg()[0].toFixed(2)}`);
  const results: FrameResult[] = [];
  for (const n of rowCounts) {
   for (const r of benchViews(n, o)) {
    results.push(r);
    const parts = Object.entries(r.parts).map(([k, v]) => `${k} ${v.toFixed(2)}`).join(', ');
    console.log(`  ${String(n).padStart(6)} processes, ${r.sockets} open sockets, view ${r.view} (${r.shownRows} rows): median ${r.medianMs.toFixed(2)} ms, `
      + `p99 ${r.p99Ms.toFixed(2)} ms, max ${r.maxMs.toFixed(2)} ms (CPU time: median ${r.cpuMedianMs.toFixed(2)} ms, `
      + `p99 ${r.cpuP99Ms.toFixed(2)} ms); ${r.bytesPerFrame} bytes/frame to the terminal`);
    console.log(`         median per part (ms): ${parts}`);
    console.log(`         (setup: ${r.setupRecords} records ingested in ${(r.setupMs / 1000).toFixed(1)} s)`);
   }
  }
  const verdict = (ms: number) => `${ms.toFixed(2)} ms ${ms < TARGET_MS ? 'met' : 'MISSED'}`;
  for (const big of results.filter((r) => r.rows >= 10000)) {
    console.log(`target < ${TARGET_MS} ms per frame at ${big.rows} rows, view ${big.view}: median ${verdict(big.medianMs)}, p99 ${verdict(big.p99Ms)}`);
  }
  if (process.argv.includes('--json')) console.log(JSON.stringify({ bench: 'frame', options: o, results }));
}

if (require.main === module) {
  try {
    main();
    process.exit(0);
  } catch (e) {
    console.error(e);
    process.exit(1);
  }
}
