/**
 * bench/storm/socktop-cli.ts: the storm's socktop CLI modes (--modes json,record): the real
 * command line on the load, measured from outside the way the peers are.
 *
 *   socktop-json[P]    node dist/src/cli/main.js --json --probe P, stdout to a file in /tmp (not a
 *                      pipe). Attached: its stderr line "socktop: attached ...". Stopped with
 *                      SIGINT after the load; its summary line on stderr gives the drops per stage.
 *                      The load's events are counted from the file (not timed).
 *   socktop-record[P]  node dist/src/cli/main.js record -w FILE --probe P [--quiet], stopped with
 *                      SIGINT after the load. Attached: one of its BPF programs has run (a connect
 *                      to a closed port, as for the peers). The load's events and the DROPS records
 *                      are counted from `replay FILE --json` (not timed).
 *
 * CPU: utime+stime of the process (all threads) from just before the load to the moment its output
 * stopped growing (caught up), divided by the load's wall time (% of one core); peak RSS: VmHWM just
 * before SIGINT. The load's events: bench/storm/load-events.ts.
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { trackChild, trackTempFile, untrackTempFile } from './cleanup';
import { peakRssMB, procCpuMs, progIdsOf, waitProgramRun } from './host';
import { type LoadEvents, type LoadTruth, countLoadEvents, missingEvents, parseDrops, truthFor } from './load-events';
import { type LoadOptions, type LoadResult, runLoad } from './load';
import { log } from './log';
import { CLI_MAIN, ROOT } from './paths';
import type { ToolRun } from './socktop-run';

/** Whether this build's `record` has --quiet (it is not in every build); asked once per storm. */
export function recordHasQuiet(): boolean {
  const r = spawnSync(process.execPath, [CLI_MAIN, 'record', '--help'], { encoding: 'utf8', timeout: 20000 });
  const has = /--quiet\b/.test(`${r.stdout}${r.stderr}`);
  if (!has) log('note: this build\'s `socktop record` has no --quiet: its status line (once a second) goes to a pipe');
  return has;
}

/** What a CLI run needs besides its mode, backend and rate. */
export interface CliRunOptions {
  load: LoadOptions;
  /** recordHasQuiet(), asked once. */
  recordQuiet: boolean;
  /** Node flags before the script (socktopNodeFlags()). */
  nodeFlags: string[];
}

export interface CliResult {
  mode: 'json' | 'record' | 'exporter';
  probe: string;
  /** The backend it ran on (json: its "attached" line; record: the records' backend field). */
  backend: string | null;
  command: string;
  load: LoadResult;
  tool: ToolRun;
  /** Internal attach time the CLI printed (json), ms. */
  attachMsReported: number | null;
  exitCode: number | null;
  /** Its last lines on stderr (json: the summary line). */
  stderrTail: string[];
  /** Drops per stage, as the tool reported them (json: summary line; record: DROPS records, or its status line if more). */
  drops: Record<string, number>;
  lostReported: number;
  seen: LoadEvents;
  truth: LoadTruth;
  /** Sum over categories of max(0, truth - seen). */
  missing: number;
  /** missing - lostReported, at least 0: events gone without any drop counter saying so. */
  missingNoDrop: number;
  outputBytes: number;
  /** Time after the load until the output stopped growing (caught up), ms. */
  catchUpMs: number;
  countMs: number;
  events: { written?: number; read?: number };
  /** exporter: one GET /metrics once it had caught up (bench/storm/socktop-exporter.ts). */
  scrape?: ScrapeAtEnd;
}

/** The exporter's last scrape: its time, size and series. */
export interface ScrapeAtEnd {
  ms: number;
  bytes: number;
  series: number;
  socktopSeries: number;
  /** Scrapes made after the load to see it catch up (each one costs the exporter CPU). */
  pollScrapes: number;
}

/**
 * Wait until a file stops growing by more than `allowBytes` per 100 ms poll for `quietMs` (the
 * machine's own background events are not the load). Returns the CPU of `pid` and the time when it
 * last grew by more.
 */
async function waitCaughtUp(file: string, pid: number, quietMs: number, allowBytes: number, maxMs = 5000): Promise<{ cpuMs: number; at: number }> {
  const size = (): number => {
    try {
      return fs.statSync(file).size;
    } catch {
      return 0;
    }
  };
  let last = size();
  let mark = { cpuMs: procCpuMs(pid), at: Date.now() };
  const until = Date.now() + maxMs;
  while (Date.now() < until && Date.now() - mark.at < quietMs) {
    await sleep(100);
    const s = size();
    if (s - last > allowBytes) mark = { cpuMs: procCpuMs(pid), at: Date.now() };
    last = s;
  }
  return mark;
}

/** The CLI process: its stderr (the tail, past 1 MiB) and its exit. */
export class CliProcess {
  stderr = '';
  exitCode: number | null | undefined;
  readonly exited: Promise<void>;
  readonly pid: number;

  constructor(readonly child: ChildProcess) {
    this.pid = child.pid ?? 0;
    child.stderr!.on('data', (d) => {
      this.stderr += d;
      if (this.stderr.length > 1 << 20) this.stderr = this.stderr.slice(-(1 << 16)); // record's status lines: keep the tail
    });
    this.exited = new Promise<void>((r) => child.on('exit', (code) => {
      this.exitCode = code;
      r();
    }));
  }

  get running(): boolean {
    return this.exitCode === undefined;
  }

  lastLines(n: number): string {
    return this.stderr.trim().split('\n').slice(-n).join(' | ');
  }
}

/** Wait until the CLI is attached; json: the backend and attach time from its "attached" line. */
export async function waitAttached(mode: 'json' | 'record' | 'exporter', p: CliProcess): Promise<{ backend: string | null; attachMsReported: number | null }> {
  if (mode === 'record') {
    const ok = await waitProgramRun(p.pid, () => p.running, 60000);
    if (!ok) throw new Error(`socktop record did not attach: ${p.lastLines(2).slice(0, 300)}`);
    return { backend: null, attachMsReported: null };
  }
  const until = Date.now() + 60000;
  while (!p.stderr.includes('attached') && p.running && Date.now() < until) await sleep(10);
  if (!p.stderr.includes('attached')) throw new Error(`socktop ${mode === 'json' ? '--json' : mode} did not attach: ${p.lastLines(2).slice(0, 300)}`);
  const m = /attached (\S+) (\S+) programs(?: in (\d+) ms)?/.exec(p.stderr);
  return { backend: m?.[2] ?? null, attachMsReported: m?.[3] !== undefined ? Number(m[3]) : null };
}

/** The load's events in a recording, through `socktop replay FILE --json`. */
async function countReplayed(file: string): Promise<LoadEvents> {
  const replay = spawn(process.execPath, [CLI_MAIN, 'replay', file, '--json'], { stdio: ['ignore', 'pipe', 'pipe'] });
  trackChild(replay);
  let rerr = '';
  replay.stderr!.on('data', (d) => (rerr += d));
  const rexit = new Promise<number | null>((r) => replay.on('exit', (code) => r(code)));
  const seen = await countLoadEvents(replay.stdout!);
  const rc = await rexit;
  if (rc !== 0) throw new Error(`replay --json exited ${rc}: ${rerr.trim().slice(0, 300)}`);
  if (rerr.trim()) log(`  replay: ${rerr.trim().split('\n').slice(0, 2).join(' | ')}`);
  return seen;
}

type Reported = { drops: Record<string, number>; events: { written?: number; read?: number } };

/** json: drops per stage and events from its summary line on stderr. */
function jsonReported(p: CliProcess): Reported {
  const drops = parseDrops(p.stderr);
  if (!drops) throw new Error(`socktop --json (exit ${p.exitCode}) printed no summary line: ${p.lastLines(3).slice(0, 300)}`);
  const m = /(\d+) events written \((\d+) read\)/.exec(p.stderr);
  return { drops, events: m ? { written: Number(m[1]), read: Number(m[2]) } : {} };
}

/** record: the DROPS records, raised to its status line's counts (without --quiet) where larger. */
function recordReported(p: CliProcess, seen: LoadEvents): Reported {
  const drops = { ...seen.dropRecords };
  // The status line (without --quiet): "N drops (bpf ring X, write Y)".
  const m = [...p.stderr.matchAll(/(\d+) events, .*?(\d+) drops(?: \(bpf ring (\d+), write (\d+)\))?/g)].pop();
  if (!m) return { drops, events: {} };
  if (m[3] !== undefined) {
    drops.bpf_ring = Math.max(drops.bpf_ring ?? 0, Number(m[3]));
    drops.recording = Math.max(drops.recording ?? 0, Number(m[4]));
  }
  return { drops, events: { written: Number(m[1]) } };
}

/** The backend most of the records name. */
function mostNamed(backends: Record<string, number>): string | null {
  const b = Object.entries(backends).sort((x, y) => y[1] - x[1])[0];
  return b ? b[0] : null;
}

/** One run of the socktop CLI (--json or record) on the load. */
export async function runCli(mode: 'json' | 'record', probe: string, rate: number, o: CliRunOptions): Promise<CliResult> {
  const outFile = path.join(os.tmpdir(), `socktop-storm-${mode}-${process.pid}.${mode === 'json' ? 'ndjson' : 'socktop'}`);
  fs.rmSync(outFile, { force: true });
  trackTempFile(outFile);
  const args = mode === 'json'
    ? [CLI_MAIN, '--json', '--probe', probe]
    : [CLI_MAIN, 'record', '-w', outFile, '--probe', probe, ...(o.recordQuiet ? ['--quiet'] : [])];
  const command = `node ${[...o.nodeFlags, path.relative(ROOT, args[0])].join(' ')} ${args.slice(1).join(' ')}${mode === 'json' ? ` > ${outFile}` : ''}`;
  const fd = mode === 'json' ? fs.openSync(outFile, 'w') : 'ignore';
  const t0 = Date.now();
  const child = spawn(process.execPath, [...o.nodeFlags, ...args], { stdio: ['ignore', fd, 'pipe'] });
  if (typeof fd === 'number') fs.closeSync(fd);
  trackChild(child);
  const p = new CliProcess(child);
  try {
    const attached = await waitAttached(mode, p);
    const attachWallMs = Date.now() - t0;
    await sleep(500); // as for the others: let the start settle
    const progIds = progIdsOf(p.pid);

    const cpu0 = procCpuMs(p.pid);
    const load = await runLoad(rate, o.load);
    const loadEnd = Date.now();
    // json writes as it goes (a file: synchronous writes); record flushes at least once a second.
    const caught = mode === 'json'
      ? await waitCaughtUp(outFile, p.pid, 500, 8 << 10)
      : await waitCaughtUp(outFile, p.pid, 1500, 48 << 10);
    const rssMB = peakRssMB(p.pid);
    child.kill('SIGINT');
    await Promise.race([p.exited, sleep(60000)]);
    if (p.running) throw new Error(`socktop ${mode} did not stop within 60 s of SIGINT`);
    const stderrTail = p.stderr.trim().split('\n').slice(-3);
    const outputBytes = fs.statSync(outFile).size;
    const cpuMs = caught.cpuMs - cpu0;
    const tool: ToolRun = { attachWallMs, cpuMs, cpuPctOfCore: (100 * cpuMs) / load.wallMs, pid: p.pid, progIds, peakRssMB: rssMB };

    const c0 = Date.now(); // counting is not timed
    const seen = mode === 'json'
      ? await countLoadEvents(fs.createReadStream(outFile, { highWaterMark: 1 << 20 }))
      : await countReplayed(outFile);
    const countMs = Date.now() - c0;
    const { drops, events } = mode === 'json' ? jsonReported(p) : recordReported(p, seen);
    const lostReported = Object.values(drops).reduce((a, n) => a + n, 0);
    const truth = truthFor(mode, load.gt);
    const missing = missingEvents(seen, truth);
    return {
      mode, probe, backend: mode === 'json' ? attached.backend : mostNamed(seen.backends), command, load, tool,
      attachMsReported: attached.attachMsReported, exitCode: p.exitCode ?? null, stderrTail, drops, lostReported,
      seen, truth, missing, missingNoDrop: Math.max(0, missing - lostReported), outputBytes,
      catchUpMs: caught.at - loadEnd, countMs, events,
    };
  } finally {
    if (p.running) {
      child.kill('SIGKILL');
      await p.exited;
    }
    fs.rmSync(outFile, { force: true });
    untrackTempFile(outFile);
  }
}
