/**
 * bench/headless.ts: socktop's live capture pipeline without the screen, run exactly as the TUI
 * runs it: startLiveCapture() (src/cli/live.ts: privileges, backend choice, the CLI's shared-ring
 * capacity, the capture worker with its attribution hook), a 50 ms timer (the UI's DRAIN_INTERVAL_MS) draining the shared ring
 * into a SocketModel through the UI's Pump (src/ui/pump.ts), and the model's refresh() once per
 * frame (-d, 1 s). Nothing is drawn. At the end it prints ONE JSON line on stdout (see Result).
 *
 *   node dist/bench/headless.js [--duration S] [--probe auto|kprobe|tracepoint] [--ring N]
 *        [--drain-ms 50] [--delay 1] [--comm lg-client,lg-server,loadgen] [--no-model]
 *        [--ports P,Q] [--object FILE.bpf.o] [--bpf-ring-bytes N]
 *
 * Control (for bench/storm.ts): once attached it writes `headless: ready {...}` on stderr. Lines on
 * stdin: `start` marks the start of the load, `end` its end, `stop` ends the capture (so do EOF on
 * stdin when no --duration was given, SIGINT and SIGTERM). CPU "load" figures are measured from
 * `start` to the moment after `end` when the pipeline has caught up (every record the kernel
 * produced during the load has been drained into the model), divided by the wall time from
 * `start` to `end`: the cost of processing that load, catch-up included.
 *
 * --no-model: drain the ring with a visitor that only counts (what the model costs, by difference).
 * --ports: also count the records whose local or remote port is one of these, by kind (the load's
 *   own events, apart from the rest of the machine's). --object / --bpf-ring-bytes: the same
 *   pipeline on another BPF object file (an experiment) or BPF ring size, started through
 *   startCapture() with the backend chooseBackend() picks, as the CLI does.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import * as fs from 'node:fs';
import { performance } from 'node:perf_hooks';
import * as readline from 'node:readline';
import { startLiveCapture, DEFAULT_RING_CAPACITY } from '../src/cli/live';
import { chooseBackend } from '../src/capture/backend';
import { detectKernelSupport } from '../src/capture/kernel';
import { startCapture } from '../src/capture/session';
import type { ProbeChoice } from '../src/capture/addon';
import type { CaptureSession } from '../src/capture/session';
import { EventKind, Flag, KIND_MAX, KIND_NAMES, Offset, TcpState } from '../src/capture/layout';
import type { WorkerStats } from '../src/capture/messages';
import { SocketModel } from '../src/model/model';
import { DRAIN_INTERVAL_MS, Pump } from '../src/ui/pump';
import { monotonicNs } from '../src/source';
import type { DataSource } from '../src/source';

const ECONNREFUSED = 111;
const CLK_TCK = 100; // USER_HZ: /proc/<pid>/task/<tid>/stat times are in these

/**
 * How many TCP state changes a record tells. The BPF side sends no STATE record for a change that
 * another record tells (CLOSE>SYN_SENT: CONNECT_START; SYN_SENT>x: CONNECT; x>LISTEN: LISTEN;
 * x>CLOSE: CLOSE); a refused connect's SYN_SENT>CLOSE is told by both CONNECT and CLOSE, counted once.
 * A passive child's birth (LISTEN>SYN_RECV) is told by the next record of that socket, whose
 * old_state is SYN_RECV: that record tells two.
 */
function tellsTransition(view: DataView, off: number, kind: number): number {
  const flags = view.getUint8(off + Offset.flags);
  if (flags & Flag.Snapshot) return 0;
  const born = view.getUint8(off + Offset.old_state) === TcpState.SynRecv ? 1 : 0;
  switch (kind) {
    case EventKind.State:
      return 1 + born;
    case EventKind.ConnectStart:
    case EventKind.Listen:
      return 1;
    case EventKind.Connect:
      return (flags & Flag.LocalError) === 0 && view.getUint8(off + Offset.new_state) !== TcpState.Close ? 1 : 0;
    case EventKind.Close:
      return (flags & (Flag.ByClose | Flag.ByDestroy)) === 0 ? 1 + born : 0;
    default:
      return 0;
  }
}

// ------------------------------------------------------------------------------------- options

function argValue(argv: readonly string[], name: string): string | undefined {
  const i = argv.indexOf(`--${name}`);
  return i >= 0 ? argv[i + 1] : undefined;
}
function numArg(argv: readonly string[], name: string, def: number): number {
  const v = argValue(argv, name);
  if (v === undefined) return def;
  const n = Number(v);
  if (!Number.isFinite(n) || n < 0) throw new Error(`--${name}: '${v}' is not a non-negative number`);
  return n;
}

type HeadlessOptions = ReturnType<typeof parseHeadlessOptions>;

/** The options from a command line (read in main, not at import). */
function parseHeadlessOptions(argv: readonly string[]) {
  return {
    durationSec: numArg(argv, 'duration', 0), // 0: until `stop`, EOF on stdin, SIGINT or SIGTERM
    probe: (argValue(argv, 'probe') ?? 'auto') as ProbeChoice,
    ringCapacity: numArg(argv, 'ring', DEFAULT_RING_CAPACITY),
    drainMs: numArg(argv, 'drain-ms', DRAIN_INTERVAL_MS),
    delaySec: numArg(argv, 'delay', 1),
    /** Also count, per kind, the records whose local or remote port is one of these (the load's). */
    ports: (argValue(argv, 'ports') ?? '').split(',').filter(Boolean).map(Number),
    comms: (argValue(argv, 'comm') ?? 'lg-client,lg-server,loadgen').split(',').filter(Boolean),
    model: !argv.includes('--no-model'),
    bpfRingBytes: argValue(argv, 'bpf-ring-bytes') !== undefined ? numArg(argv, 'bpf-ring-bytes', 0) : undefined,
    /** Another BPF object (an experiment built elsewhere); the CLI's start path otherwise. */
    object: argValue(argv, 'object'),
  };
}

// ------------------------------------------------------------------------------------- helpers

interface ThreadCpu { tid: number; role: string; userMs: number; sysMs: number }

/** Per-thread CPU from /proc/self/task (10 ms resolution). */
function threadCpu(roles: Map<number, string>): ThreadCpu[] {
  const out: ThreadCpu[] = [];
  for (const t of fs.readdirSync('/proc/self/task')) {
    try {
      const stat = fs.readFileSync(`/proc/self/task/${t}/stat`, 'utf8');
      const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      // after "pid (comm) ": state is f[0]; utime = field 14 -> f[11], stime = field 15 -> f[12]
      const tid = Number(t);
      out.push({ tid, role: roles.get(tid) ?? 'other', userMs: (Number(f[11]) * 1000) / CLK_TCK, sysMs: (Number(f[12]) * 1000) / CLK_TCK });
    } catch {
      // thread ended
    }
  }
  return out;
}

function cpuMs(): { userMs: number; sysMs: number } {
  const u = process.cpuUsage();
  return { userMs: u.user / 1000, sysMs: u.system / 1000 };
}

/** The CLI's start (src/cli/live.ts), or the same with another object file / BPF ring size. */
async function start(opts: HeadlessOptions): Promise<{ session: CaptureSession; backend: string; reason: string }> {
  if (opts.object === undefined && opts.bpfRingBytes === undefined) {
    return startLiveCapture(opts.probe, { ringCapacity: opts.ringCapacity });
  }
  const choice = chooseBackend(opts.probe, detectKernelSupport());
  const session = await startCapture({
    backend: choice.backend, ringCapacity: opts.ringCapacity, objectPath: opts.object, bpfRingBytes: opts.bpfRingBytes,
  });
  return { session, ...choice };
}

interface Memory { rssMB: number; heapUsedMB: number; heapTotalMB: number; externalMB: number; arrayBuffersMB: number;
  rssAnonMB: number; rssFileMB: number; rssShmemMB: number }

/** process.memoryUsage() (main isolate's heap) and /proc/self/status's split of the RSS. */
function memory(): Memory {
  const m = process.memoryUsage();
  const status = fs.readFileSync('/proc/self/status', 'utf8');
  const kb = (k: string): number => Number(new RegExp(`^${k}:\\s+(\\d+)`, 'm').exec(status)?.[1] ?? NaN);
  const mb = (b: number): number => +(b / 1048576).toFixed(1);
  return {
    rssMB: mb(m.rss), heapUsedMB: mb(m.heapUsed), heapTotalMB: mb(m.heapTotal), externalMB: mb(m.external),
    arrayBuffersMB: mb(m.arrayBuffers), rssAnonMB: +(kb('RssAnon') / 1024).toFixed(1),
    rssFileMB: +(kb('RssFile') / 1024).toFixed(1), rssShmemMB: +(kb('RssShmem') / 1024).toFixed(1),
  };
}


interface Mark { wallMs: number; userMs: number; sysMs: number; threads: ThreadCpu[]; drained: number }

// ------------------------------------------------------------------------------------- main

async function main(): Promise<void> {
  const opts = parseHeadlessOptions(process.argv);
  const t0Ms = performance.now(); // ms since the process started (performance.timeOrigin)
  const tidsBefore = new Set(fs.readdirSync('/proc/self/task').map(Number));
  const { session, backend, reason } = await start(opts);
  const readyMs = performance.now();
  const roles = new Map<number, string>([[process.pid, 'main']]);
  // The capture worker is the thread that appeared during start (Node names every thread "node").
  for (const t of fs.readdirSync('/proc/self/task').map(Number)) if (!tidsBefore.has(t)) roles.set(t, 'worker');

  const attach = {
    processStartToReadyMs: +readyMs.toFixed(1),
    scriptStartToReadyMs: +(readyMs - t0Ms).toFixed(1),
    attachMs: session.info.attachMs,
    backend,
    reason,
    programs: session.info.programs.length,
    skipped: session.info.skipped,
    mountedTracefs: session.info.mountedTracefs,
    programIds: session.info.programIds,
  };
  const memBefore = memory();
  process.stderr.write(`headless: ready ${JSON.stringify(attach)}\n`);

  // The UI's pipeline: Pump.drain() every drainMs, model.refresh() every frame.
  const model = new SocketModel();
  const kinds = new Float64Array(KIND_MAX + 1);
  let snapshots = 0;
  let dropMarkers = 0;
  const portKinds = new Float64Array(KIND_MAX + 1);
  let portTransitions = 0;
  const portSet = new Uint8Array(65536);
  for (const p of opts.ports) portSet[p] = 1;
  const byPort = opts.ports.length > 0;
  const count = (view: DataView, off: number): void => {
    const kind = view.getUint8(off + Offset.kind);
    kinds[kind]++;
    if (byPort && (portSet[view.getUint16(off + Offset.lport, true)] || portSet[view.getUint16(off + Offset.rport, true)])) {
      portKinds[kind]++;
      portTransitions += tellsTransition(view, off, kind);
    }
    if (view.getUint8(off + Offset.flags) & Flag.Snapshot) snapshots++;
    if (kind === EventKind.Drops) dropMarkers++;
  };
  const sink = opts.model
    ? { ingest(view: DataView, off: number) { count(view, off); model.ingest(view, off); } }
    : { ingest: count };
  const source: DataSource = { ring: session.ring } as unknown as DataSource;
  const pump = new Pump(source, sink as unknown as SocketModel);
  let maxFill = 0;
  const drain = (): void => {
    const fill = session.ring.available();
    if (fill > maxFill) maxFill = fill;
    pump.drain();
  };
  const timers = [
    setInterval(drain, opts.drainMs),
    setInterval(() => {
      drain();
      if (opts.model) model.refresh(monotonicNs());
    }, Math.max(50, opts.delaySec * 1000)),
  ];
  drain();

  const mark = (): Mark => ({ wallMs: performance.now(), ...cpuMs(), threads: threadCpu(roles), drained: pump.drained });
  const marks: { ready: Mark; start?: Mark; end?: Mark; settled?: Mark; final?: Mark } = { ready: mark() };

  // ---------------------------------------------------------------- control
  let stopRequested!: () => void;
  const stopped = new Promise<void>((r) => (stopRequested = r));
  let endRequested!: () => void;
  const ended = new Promise<void>((r) => (endRequested = r));
  const rl = readline.createInterface({ input: process.stdin });
  rl.on('line', (line) => {
    const cmd = line.trim();
    if (cmd === 'start' && !marks.start) marks.start = mark();
    else if (cmd === 'end' && !marks.end) {
      marks.end = mark();
      endRequested();
    } else if (cmd === 'stop') stopRequested();
  });
  if (opts.durationSec > 0) setTimeout(() => stopRequested(), opts.durationSec * 1000);
  else rl.on('close', () => stopRequested());
  process.on('SIGINT', () => stopRequested());
  process.on('SIGTERM', () => stopRequested());

  // After `end`: wait until the pipeline has caught up with the load (records stop arriving
  // and the ring is empty), then take the "settled" CPU mark.
  void ended.then(async () => {
    marks.settled = await settle(session, mark, () => pump.drained);
  });

  await stopped;
  if (marks.end && !marks.settled) await ended.then(() => waitFor(() => marks.settled !== undefined, 5000));
  if (!marks.settled) marks.settled = await settle(session, mark, () => pump.drained);
  // Counters as of after the load: the worker reports once a second.
  const stats = await freshStats(session, 2500);
  drain();
  const finalMark = mark();
  marks.final = finalMark;
  for (const t of timers) clearInterval(t);
  rl.close();
  const memEnd = memory();
  const sharedRingDrops = Math.max(session.ring.drops(), stats?.sharedRingDrops ?? 0);
  const published = session.ring.published();
  const leftInRing = session.ring.available();
  await session.stop();

  // ---------------------------------------------------------------- result
  const s = stats?.session;
  const polled = s?.polled ?? NaN;
  const bpfRingDrops = s?.bpfRingDrops ?? NaN;
  const programs = (s?.programs ?? []).map((p) => ({
    name: p.name, runCount: p.runCount, runTimeNs: p.runTimeNs,
    nsPerRun: p.runCount > 0 ? +(p.runTimeNs / p.runCount).toFixed(1) : null,
  }));
  const runCount = programs.reduce((a, p) => a + p.runCount, 0);
  const runTimeNs = programs.reduce((a, p) => a + p.runTimeNs, 0);
  const emitted = polled + bpfRingDrops;
  const live = pump.drained - snapshots - dropMarkers; // records that came from the BPF ring

  const procs = opts.model
    ? model.frozenRows()
      .filter((r) => opts.comms.includes(r.comm))
      .map((r) => ({
        pid: r.pid, comm: r.comm, accepts: r.accepts, connectsOk: r.connectsOk,
        connectsFailed: r.connectsFailed, connectsRefused: r.errnos?.get(ECONNREFUSED) ?? 0,
        closes: r.closes, errors: r.errors, open: r.open,
        errnos: r.errnos ? Object.fromEntries(r.errnos) : {},
        exited: r.exited, listen: r.listenPorts(),
      }))
    : [];

  const m = marks;
  const window = m.start && m.end && m.settled
    ? {
      wallMs: +(m.end.wallMs - m.start.wallMs).toFixed(1),
      settleMs: +(m.settled.wallMs - m.end.wallMs).toFixed(1),
      userMs: +(m.settled.userMs - m.start.userMs).toFixed(1),
      sysMs: +(m.settled.sysMs - m.start.sysMs).toFixed(1),
      threads: diffThreads(m.start.threads, m.settled.threads),
      drained: m.settled.drained - m.start.drained,
    }
    : null;
  const loadCpu = window
    ? { ...window, pctOfCore: +((100 * (window.userMs + window.sysMs)) / window.wallMs).toFixed(2) }
    : null;
  const total = cpuMs();
  const ms = opts.model ? model.stats() : null;
  const result = {
    tool: 'socktop-headless',
    options: opts,
    attach,
    records: {
      drained: pump.drained,
      fromBpf: live,
      snapshots,
      dropMarkers,
      published,
      leftInRing,
      maxRingFill: maxFill,
      byKind: byKindJson(kinds),
      /** Records whose lport or rport is one of --ports, by kind. */
      byKindOnPorts: byPort ? byKindJson(portKinds) : null,
      /** TCP state changes told by the records on --ports (STATE records and the records that stand
       *  for one: connect start and result, listen, close by the state machine). */
      transitionsOnPorts: byPort ? portTransitions : null,
    },
    kernel: { polled, emitted, badSize: s?.badSize ?? NaN, kernelMisses: s?.kernelMisses ?? NaN },
    /** The worker's longest time away from the BPF ring and its largest poll: why a ring overflows. */
    worker: { maxPollGapMs: stats?.maxPollGapMs ?? NaN, maxPollRecords: stats?.maxPollRecords ?? NaN },
    delivered: { ratio: emitted > 0 ? live / emitted : null, lost: emitted - live },
    drops: { bpfRing: bpfRingDrops, sharedRing: sharedRingDrops, markers: ms ? ms.drops.slice(1) : null },
    model: ms && {
      events: ms.events, unattributed: ms.unattributed, processes: ms.processes, sockets: ms.sockets,
      evictedProcesses: ms.evictedProcesses, evictedSockets: ms.evictedSockets,
    },
    procs,
    cpu: {
      total: { userMs: +total.userMs.toFixed(1), sysMs: +total.sysMs.toFixed(1) },
      sinceReady: { userMs: +(total.userMs - m.ready.userMs).toFixed(1), sysMs: +(total.sysMs - m.ready.sysMs).toFixed(1),
        wallMs: +(finalMark.wallMs - m.ready.wallMs).toFixed(1) },
      load: loadCpu,
    },
    maxRssMB: +(process.resourceUsage().maxRSS / 1024).toFixed(1),
    memory: { atReady: memBefore, atEnd: memEnd },
    bpf: {
      programs,
      runCount, runTimeNs,
      nsPerRun: runCount > 0 ? +(runTimeNs / runCount).toFixed(1) : null,
      nsPerEmittedEvent: emitted > 0 ? +(runTimeNs / emitted).toFixed(1) : null,
    },
  };
  process.stdout.write(`${JSON.stringify(result)}\n`);
}

function byKindJson(counts: Float64Array): Record<string, number> {
  const out: Record<string, number> = {};
  counts.forEach((n, k) => {
    if (n) out[KIND_NAMES[k] ?? `kind${k}`] = n;
  });
  return out;
}

function diffThreads(a: ThreadCpu[], b: ThreadCpu[]): Record<string, { userMs: number; sysMs: number }> {
  const before = new Map(a.map((t) => [t.tid, t]));
  const out: Record<string, { userMs: number; sysMs: number }> = {};
  for (const t of b) {
    const p = before.get(t.tid);
    out[t.role] ??= { userMs: 0, sysMs: 0 };
    const o = out[t.role];
    o.userMs += t.userMs - (p?.userMs ?? 0);
    o.sysMs += t.sysMs - (p?.sysMs ?? 0);
  }
  return out;
}

async function waitFor(cond: () => boolean, timeoutMs: number): Promise<void> {
  const until = performance.now() + timeoutMs;
  while (!cond() && performance.now() < until) await sleep(20);
}

/**
 * Wait (<= 3 s) until the load's records have stopped arriving (at most QUIET_RECORDS per 50 ms:
 * the machine's background) for 300 ms and the ring is empty. Returns the CPU mark taken when the
 * last burst arrived, so the quiet tail is not charged to the load.
 */
const QUIET_RECORDS = 20;
async function settle(session: CaptureSession, mark: () => Mark, drained: () => number): Promise<Mark> {
  const until = performance.now() + 3000;
  let last = drained() + session.ring.available();
  let lastChange = mark();
  while (performance.now() < until) {
    await sleep(50);
    const n = drained() + session.ring.available();
    if (n - last > QUIET_RECORDS) lastChange = mark();
    else if (performance.now() - lastChange.wallMs >= 300 && session.ring.available() === 0) break;
    last = n;
  }
  return lastChange;
}

/** The worker's next once-a-second report (counters as of now), or the last one after timeoutMs. */
async function freshStats(session: CaptureSession, timeoutMs: number): Promise<WorkerStats | null> {
  const old = session.latestStats();
  await waitFor(() => session.latestStats() !== old, timeoutMs);
  return session.latestStats();
}

main().catch((e: unknown) => {
  const err = e as { message?: string; code?: string };
  process.stderr.write(`headless: ${err?.code ? `${err.code}: ` : ''}${err?.message ?? String(e)}\n`);
  process.exit(1);
});
