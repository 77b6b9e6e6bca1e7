/**
 * bench/storm/measured-run.ts: one run of the storm (the load alone, with socktop in a mode on a
 * backend, or with a peer) after a wait for a quiet machine, repeated while other load on the
 * machine spoiled it; the least disturbed try is kept.
 */
import { type Quiet, waitQuiet } from './host';
import { type LoadResult, foreignAtEnd, otherCores, runLoad } from './load';
import { log } from './log';
import { type Peer, type RunKind, type StormOptions, parseSocktopKind } from './options';
import { socktopNodeFlags } from './paths';
import { type PeerResult, runPeer } from './peers';
import { type CliResult, runCli } from './socktop-cli';
import { runExporterCli } from './socktop-exporter';
import { type HeadlessResult, type ToolRun, runSocktop } from './socktop-run';

/** What a run needs: the storm's options, and whether `socktop record` has --quiet (asked once). */
export interface RunContext {
  o: StormOptions;
  recordQuiet: boolean;
}

/** One run as the raw results hold it. */
export interface RunRecord {
  rate: number;
  kind: RunKind;
  rep: number;
  quiet: Quiet;
  load?: LoadResult;
  otherCores?: number; // machine busy minus loadgen minus the tool, in cores
  /** Tracing BPF programs of someone else attached at the end of the load (they slow it down). */
  foreignPrograms?: string[];
  headless?: HeadlessResult;
  tool?: ToolRun;
  peer?: Omit<PeerResult, 'load' | 'tool'>;
  /** socktop --json / record / exporter runs (bench/storm/socktop-cli.ts, socktop-exporter.ts). */
  cli?: Omit<CliResult, 'load' | 'tool'>;
  error?: string;
  /** Other load above --max-other even in the best of the tries. */
  noisy?: boolean;
  /** Earlier tries of this run, dropped because other load disturbed them more. */
  discarded?: { otherCores?: number; foreignPrograms?: number; rate?: number; toolCpuPct?: number }[];
}

/** How much a run was disturbed: other cores, plus a whole core's worth for foreign programs. */
const disturbance = (r: RunRecord): number => (r.otherCores ?? Infinity) + (r.foreignPrograms?.length ? 1 : 0);

/** A run, repeated (--retries) while other load on the machine spoiled it; the least disturbed one is kept. */
export async function measuredRun(ctx: RunContext, rate: number, kind: RunKind, rep: number): Promise<RunRecord> {
  const { o } = ctx;
  let best: RunRecord | null = null;
  const discarded: RunRecord[] = [];
  for (let attempt = 0; attempt <= o.retries; attempt++) {
    const r = await oneRun(ctx, rate, kind, rep);
    if (best === null || disturbance(r) < disturbance(best)) {
      if (best) discarded.push(best);
      best = r;
    } else {
      discarded.push(r);
    }
    if (r.error || disturbance(r) <= o.maxOther) break;
    if (attempt < o.retries) {
      log(`  disturbed: other load ${r.otherCores} cores (max ${o.maxOther}), ${r.foreignPrograms?.length ?? 0} foreign tracing programs: again`);
    }
  }
  best!.noisy = disturbance(best!) > o.maxOther;
  if (discarded.length) {
    best!.discarded = discarded.map((d) => ({
      otherCores: d.otherCores, foreignPrograms: d.foreignPrograms?.length, rate: d.load?.gt.rate, toolCpuPct: d.tool?.cpuPctOfCore,
    }));
  }
  return best!;
}

/** The load with whatever the run kind attaches, filled into `rec`. */
async function runKind(ctx: RunContext, rate: number, kind: RunKind, rec: RunRecord): Promise<void> {
  const { o } = ctx;
  const st = parseSocktopKind(kind);
  if (kind === 'baseline') {
    rec.load = await runLoad(rate, o);
  } else if (st?.mode === 'tui') {
    const r = await runSocktop(rate, o, o.headlessArgs, st.probe, socktopNodeFlags(o.nodeDefaults));
    rec.load = r.load;
    rec.headless = r.headless;
    rec.tool = r.tool;
  } else if (st) {
    const cliOptions = { load: o, recordQuiet: ctx.recordQuiet, nodeFlags: socktopNodeFlags(o.nodeDefaults) };
    const { load, tool, ...cli } = st.mode === 'exporter'
      ? await runExporterCli(st.probe, rate, cliOptions)
      : await runCli(st.mode, st.probe, rate, cliOptions);
    rec.load = load;
    rec.tool = tool;
    rec.cli = cli;
  } else {
    const { load, tool, ...peer } = await runPeer(kind as Peer, rate, o);
    rec.load = load;
    rec.tool = tool;
    rec.peer = peer;
  }
}

async function oneRun(ctx: RunContext, rate: number, kind: RunKind, rep: number): Promise<RunRecord> {
  log(`rate ${rate || 'max'}: ${kind}${ctx.o.reps > 1 ? ` (rep ${rep + 1})` : ''}`);
  const quiet = await waitQuiet(ctx.o);
  const rec: RunRecord = { rate, kind, rep, quiet };
  try {
    await runKind(ctx, rate, kind, rec);
    const l = rec.load!;
    rec.otherCores = otherCores(l, rec.tool ? rec.tool.cpuMs : 0);
    rec.foreignPrograms = foreignAtEnd(l, rec.tool?.progIds ?? []);
    if (!l.gt.ok) log(`  loadgen reported ok=false`);
    log(`  ${l.gt.rate.toFixed(0)} conn/s (ok ${l.gt.connects_ok}, refused ${l.gt.connects_refused}, accepts ${l.gt.accepts})`
      + (rec.tool ? `, tool CPU ${rec.tool.cpuPctOfCore.toFixed(1)}%` : '')
      + (rec.cli ? `, missing ${rec.cli.missing} (drops reported ${rec.cli.lostReported}), counted in ${rec.cli.countMs} ms` : '')
      + (rec.cli?.scrape ? `, last scrape ${rec.cli.scrape.ms.toFixed(1)} ms (${rec.cli.scrape.bytes} bytes, ${rec.cli.scrape.series} series)` : ''));
  } catch (e) {
    rec.error = (e as Error).message;
    log(`  FAILED: ${rec.error}`);
  }
  return rec;
}
