/**
 * bench/storm/summary.ts: the figures of each run (rate, CPU, RSS, what it saw and lost, against
 * the ground truth) and, per rate, their medians with min-max over the reps.
 */
import { type GroundTruth, finished, loadUsPerConn, stateChanges } from './load';
import { type LoadTruth, extraEvents, missingEvents, processTruth, truthFor } from './load-events';
import type { RunRecord } from './measured-run';
import { parseSocktopKind } from './options';
import type { ScrapeAtEnd } from './socktop-cli';
import type { HeadlessResult } from './socktop-run';
import { type Stat, stat } from './stats';

/** Per-run figures the comparison table is made of (one unit per tool, see the table's legend). */
interface RunFigures {
  genRate: number;
  pctOfBase: number;
  cpuPct: number;
  rssMB: number;
  /** Events the tool itself said it lost (drop counters, "lost N events"). */
  lost: number;
  /** Truth - seen (per category, never below 0 per category), and what drops do not explain. */
  missing: number;
  missingNoDrop: number;
  /** socktop modes: seen - truth (per category, never below 0 per category): counted but did not happen. */
  extra: number;
  attachMs: number;
  /** socktop modes: the load's events seen, truth, and drops per stage. */
  seen?: Partial<LoadTruth>;
  truth?: LoadTruth;
  drops?: Record<string, number>;
  backend?: string | null;
}


/** The headless run's drops per stage (its counters and the model's DROPS markers, the larger). */
function headlessDrops(h: HeadlessResult): Record<string, number> {
  const m = (h.drops as { markers?: number[] | null }).markers ?? []; // by stage 1..4: bpf_ring, shared_ring, recording, kernel_miss
  return {
    kernel_miss: m[3] ?? 0,
    bpf_ring: Math.max(h.drops.bpfRing || 0, m[0] ?? 0),
    shared_ring: Math.max(h.drops.sharedRing || 0, m[1] ?? 0),
    recording: m[2] ?? 0,
  };
}

/** What the headless pipeline's model counted for loadgen's client and server processes. */
function headlessSeen(h: HeadlessResult, gt: GroundTruth): Partial<LoadTruth> {
  const client = h.procs.find((p) => p.pid === gt.client_pid);
  const server = h.procs.find((p) => p.pid === gt.server_pid);
  return {
    connectsOk: client?.connectsOk, refused: client?.connectsRefused, accepts: server?.accepts,
    clientCloses: client?.closes, serverCloses: server?.closes,
  };
}

function figures(r: RunRecord, baselineRate: number): RunFigures | null {
  if (!r.load || r.error) return null;
  const gt = r.load.gt;
  const f: RunFigures = {
    genRate: gt.rate, pctOfBase: (100 * gt.rate) / baselineRate, cpuPct: r.tool?.cpuPctOfCore ?? NaN,
    rssMB: r.tool?.peakRssMB ?? NaN, lost: NaN, missing: NaN, missingNoDrop: NaN, extra: NaN, attachMs: r.tool?.attachWallMs ?? NaN,
  };
  let missing = NaN;
  if (r.headless) {
    f.truth = processTruth(gt);
    f.seen = headlessSeen(r.headless, gt);
    f.drops = headlessDrops(r.headless);
    f.backend = r.headless.attach.backend;
    f.lost = Object.values(f.drops).reduce((a, n) => a + n, 0);
    missing = missingEvents(f.seen, f.truth);
  } else if (r.cli) {
    // The truth again from the ground truth, not the run's: saved runs (--report) get today's.
    f.truth = truthFor(r.cli.mode, gt);
    f.seen = r.cli.seen;
    f.drops = r.cli.drops;
    f.backend = r.cli.backend;
    f.lost = r.cli.lostReported;
    missing = missingEvents(f.seen, f.truth);
  } else if (r.peer) {
    f.lost = r.peer.reportedLost;
    missing = Math.max(0, r.peer.expected - r.peer.events);
  }
  f.missing = missing;
  if (f.seen && f.truth) f.extra = extraEvents(f.seen, f.truth);
  f.missingNoDrop = Number.isFinite(missing) ? Math.max(0, missing - (Number.isFinite(f.lost) ? f.lost : 0)) : NaN;
  return f;
}

export interface CompareRow {
  kind: string;
  /** The kind, with the backend auto chose: socktop-json[auto:cgroup]. */
  label: string;
  runs: number;
  failed: number;
  /** Runs that started on a busy machine or stayed disturbed through every try. */
  noisy: number;
  genRate: Stat; pctOfBase: Stat; cpuPct: Stat; rssMB: Stat; lost: Stat; missing: Stat; missingNoDrop: Stat; attachMs: Stat;
}

export interface SeenRun {
  rep: number; seen: Partial<LoadTruth>; truth: LoadTruth; drops: Record<string, number>; missing: number; missingNoDrop: number;
  /** Counted but did not happen (seen above the truth). */
  extra: number;
  /** exporter: its last GET /metrics (time, size, series). */
  scrape?: ScrapeAtEnd;
}

/** The headless (tui) pipeline's median run, in detail (socktop's own table). */
export interface HeadlessDetail {
  backend: string;
  genRate: number;
  genRatePct: number;
  gt: { connectsOk: number; refused: number; accepts: number; attempts: number };
  /** What loadgen's processes did, per process (lg-server's closes: its accepted sockets and its listener). */
  truth: LoadTruth;
  seen: Partial<LoadTruth>;
  /** STATE records on the load's ports (null: this headless build does not count them). */
  stateEventsOnPorts: number | null | undefined;
  stateChangesExpected: number;
  emitted: number;
  delivered: number;
  deliveredRatio: number | null;
  drops: HeadlessResult['drops'];
  cpuPctOfCore: number | undefined;
  cpuThreads: Record<string, { userMs: number; sysMs: number }> | undefined;
  cpuWallMs: number | undefined;
  bpfNsPerRun: number | null;
  bpfNsPerEvent: number | null;
  bpfNsPerConnection: number;
  loadUsPerConn: number;
  baselineUsPerConn: number;
  socktopUsPerConn: number;
  maxRssMB: number;
  attachMs: number;
  readyMs: number;
  attachWallMs: number;
  otherCores: number | undefined;
  quiet: boolean;
  rep: number;
}

/** A peer's run, for the peers' table. */
export interface PeerRow {
  peer: string;
  rep: number;
  genRate: number;
  genRatePct: number;
  cpuPctOfCore: number;
  attachWallMs: number;
  peakRssMB: number | undefined;
  events: number;
  expected: number;
  reportedLost: number;
  byComm: Record<string, number>;
  bpfNsPerRun: number | null;
  otherCores: number | undefined;
  quiet: boolean;
}

export interface Summary {
  rate: number;
  baselineRates: number[];
  baselineRate: number;
  /** Per rate, every tool and mode: medians with min-max over the reps. */
  compare: CompareRow[];
  /** The headless (tui) pipeline in detail, per run kind: its median run by workload rate. */
  socktop: Record<string, HeadlessDetail>;
  /** Every socktop mode's seen / truth, per run. */
  socktopSeen: Record<string, SeenRun[]>;
  peers: PeerRow[];
}

export function summarize(rate: number, runs: RunRecord[]): Summary {
  const base = runs.filter((r) => r.kind === 'baseline' && r.load).map((r) => r.load!.gt.rate);
  const baselineRate = base.length ? base.reduce((a, b) => a + b, 0) / base.length : NaN;
  const baseUs = runs.filter((r) => r.kind === 'baseline' && r.load).map((r) => loadUsPerConn(r.load!));
  const baselineUsPerConn = baseUs.length ? baseUs.reduce((a, b) => a + b, 0) / baseUs.length : NaN;
  const s: Summary = { rate, baselineRates: base, baselineRate, compare: [], socktop: {}, socktopSeen: {}, peers: [] };
  const kinds = [...new Set(['baseline', ...runs.map((r) => r.kind)])];
  for (const kind of kinds) {
    const rs = runs.filter((r) => r.kind === kind);
    const figs = rs.map((r) => figures(r, baselineRate)).filter((f): f is RunFigures => f !== null);
    const backends = [...new Set(figs.map((f) => f.backend).filter((b): b is string => !!b))];
    const st = parseSocktopKind(kind);
    const label = st && st.probe === 'auto' && backends.length ? kind.replace('[auto]', `[auto:${backends.join('/')}]`) : kind;
    const col = (k: keyof RunFigures): Stat => stat(figs.map((f) => f[k] as number));
    s.compare.push({
      kind, label, runs: rs.length, failed: rs.length - figs.length, noisy: rs.filter((r) => r.noisy || !r.quiet.quiet).length,
      genRate: col('genRate'), pctOfBase: col('pctOfBase'), cpuPct: col('cpuPct'), rssMB: col('rssMB'), lost: col('lost'),
      missing: col('missing'), missingNoDrop: col('missingNoDrop'), attachMs: col('attachMs'),
    });
    if (st) {
      s.socktopSeen[label] = rs.map((r) => ({ r, f: figures(r, baselineRate) })).filter((x) => x.f?.truth).map(({ r, f }) => ({
        rep: r.rep, seen: f!.seen!, truth: f!.truth!, drops: f!.drops ?? {}, missing: f!.missing, missingNoDrop: f!.missingNoDrop,
        extra: f!.extra,
        scrape: r.cli?.scrape,
      }));
    }
  }
  for (const kind of kinds.filter((k) => parseSocktopKind(k)?.mode === 'tui')) {
    const st = runs.filter((r) => r.kind === kind && r.headless);
    if (!st.length) continue;
    // With reps, the median run by workload rate.
    const r = st.sort((a, b) => a.load!.gt.rate - b.load!.gt.rate)[Math.floor((st.length - 1) / 2)];
    const h = r.headless!;
    const gt = r.load!.gt;
    const portStates = h.records.transitionsOnPorts ?? h.records.byKindOnPorts?.state;
    s.socktop[kind] = {
      backend: h.attach.backend,
      genRate: gt.rate, genRatePct: (100 * gt.rate) / baselineRate,
      gt: { connectsOk: gt.connects_ok, refused: gt.connects_refused, accepts: gt.accepts, attempts: gt.attempts },
      truth: processTruth(gt),
      seen: headlessSeen(h, gt),
      stateEventsOnPorts: portStates, stateChangesExpected: stateChanges(gt),
      emitted: h.kernel.emitted, delivered: h.records.fromBpf, deliveredRatio: h.delivered.ratio,
      drops: h.drops, cpuPctOfCore: h.cpu.load?.pctOfCore, cpuThreads: h.cpu.load?.threads, cpuWallMs: h.cpu.load?.wallMs,
      bpfNsPerRun: h.bpf.nsPerRun, bpfNsPerEvent: h.bpf.nsPerEmittedEvent,
      bpfNsPerConnection: h.bpf.runTimeNs / gt.attempts,
      loadUsPerConn: loadUsPerConn(r.load!), baselineUsPerConn,
      socktopUsPerConn: h.cpu.load ? ((h.cpu.load.userMs + h.cpu.load.sysMs) * 1000) / finished(gt) : NaN,
      maxRssMB: h.maxRssMB, attachMs: h.attach.attachMs, readyMs: h.attach.processStartToReadyMs,
      attachWallMs: r.tool!.attachWallMs, otherCores: r.otherCores, quiet: r.quiet.quiet, rep: r.rep,
    };
  }
  for (const r of runs.filter((x) => x.peer)) {
    s.peers.push({
      peer: r.kind, rep: r.rep, genRate: r.load!.gt.rate, genRatePct: (100 * r.load!.gt.rate) / baselineRate,
      cpuPctOfCore: r.tool!.cpuPctOfCore, attachWallMs: r.tool!.attachWallMs, peakRssMB: r.tool!.peakRssMB,
      events: r.peer!.events, expected: r.peer!.expected, reportedLost: r.peer!.reportedLost, byComm: r.peer!.byComm, bpfNsPerRun: r.peer!.bpf.nsPerRun,
      otherCores: r.otherCores, quiet: r.quiet.quiet,
    });
  }
  return s;
}
