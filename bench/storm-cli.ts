/**
 * bench/storm-cli.ts: the storm's socktop CLI modes (bench/storm.ts --modes json,record): the real
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
 * before SIGINT.
 *
 * The load's events are the records whose lport or rport is the load's server port (5001) or its
 * refused port (5002): connects ok (connect, no error, rport 5001), refused (connect, ECONNREFUSED,
 * rport 5002), accepts (accept, no error, lport 5001), client closes (close with rport 5001/5002),
 * server closes (close with lport 5001 and a remote port: not the listener's); closes counted once
 * per socket (a second end-of-socket report is not a second close).
 *
 * This module and bench/storm.ts import each other: only inside functions, never at load time.
 */
import { spawn, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { Readable } from 'node:stream';
import {
  GroundTruth, LoadResult, REFUSED_PORT, ROOT, SERVER_PORT, ToolRun, log, peakRssMB, procCpuMs, progIdsOf, runLoad, sleep,
  trackChild, waitProgramRun,
} from './storm';

const CLI_MAIN = (): string => path.join(ROOT, 'dist/src/cli/main.js');

/** The load's own events, counted from socktop's JSON lines. */
export interface LoadEvents {
  connectsOk: number;
  refused: number;
  accepts: number;
  clientCloses: number;
  serverCloses: number;
  /** Close records for a socket already closed (not counted above). */
  duplicateCloses: number;
  /** DROPS records, summed per stage (kernel_miss, bpf_ring, shared_ring, recording). */
  dropRecords: Record<string, number>;
  /** Lines read, and how many of them concern the load's ports. */
  lines: number;
  loadLines: number;
  /** Backends named by the records (`backend` field), by count. */
  backends: Record<string, number>;
}

/** What loadgen says happened, in the categories of LoadEvents. */
export interface LoadTruth { connectsOk: number; refused: number; accepts: number; clientCloses: number; serverCloses: number }

export function loadTruth(gt: GroundTruth): LoadTruth {
  // Every attempt's socket closes (client side); every accepted one too (server side).
  return { connectsOk: gt.connects_ok, refused: gt.connects_refused, accepts: gt.accepts, clientCloses: gt.attempts, serverCloses: gt.accepts };
}

export const CATEGORIES = ['connectsOk', 'refused', 'accepts', 'clientCloses', 'serverCloses'] as const;

/** Sum over the categories of max(0, truth - seen): events the tool did not show. */
export function missingEvents(seen: Partial<LoadTruth>, truth: LoadTruth): number {
  let n = 0;
  for (const c of CATEGORIES) {
    const s = seen[c];
    if (s === undefined || !Number.isFinite(s)) return NaN;
    n += Math.max(0, truth[c] - s);
  }
  return n;
}

/** Count the load's events in a stream of socktop JSON lines (live --json or replay --json). */
export function countLoadEvents(input: Readable): Promise<LoadEvents> {
  const ev: LoadEvents = {
    connectsOk: 0, refused: 0, accepts: 0, clientCloses: 0, serverCloses: 0, duplicateCloses: 0,
    dropRecords: {}, lines: 0, loadLines: 0, backends: {},
  };
  const closed = new Set<string>();
  const ports = [`"lport":${SERVER_PORT},`, `"rport":${SERVER_PORT},`, `"lport":${REFUSED_PORT},`, `"rport":${REFUSED_PORT},`];
  const line = (l: string): void => {
    if (l.length === 0) return;
    ev.lines++;
    // Cheap tests first: most lines are STATE records, not counted.
    if (l.includes('"kind":"drops"')) {
      const e = JSON.parse(l) as { stage?: string; dropped?: number };
      const st = e.stage ?? 'unknown';
      ev.dropRecords[st] = (ev.dropRecords[st] ?? 0) + (e.dropped ?? 0);
      return;
    }
    if (!ports.some((p) => l.includes(p))) return;
    ev.loadLines++;
    const counted = l.includes('"kind":"connect",') || l.includes('"kind":"accept",') || l.includes('"kind":"close",');
    if (!counted && !l.includes('"backend"')) return;
    const e = JSON.parse(l) as {
      kind: string; lport?: number; rport?: number; error?: string | null; sock?: string; backend?: string;
    };
    if (e.backend) ev.backends[e.backend] = (ev.backends[e.backend] ?? 0) + 1;
    if (!counted) return;
    if (e.kind === 'connect') {
      if (e.error === null && e.rport === SERVER_PORT) ev.connectsOk++;
      else if (e.error === 'ECONNREFUSED' && e.rport === REFUSED_PORT) ev.refused++;
    } else if (e.kind === 'accept') {
      if (!e.error && e.lport === SERVER_PORT) ev.accepts++;
    } else {
      const client = e.rport === SERVER_PORT || e.rport === REFUSED_PORT;
      const server = e.lport === SERVER_PORT && !!e.rport;
      if (!client && !server) return;
      const key = `${e.sock}|${e.lport}|${e.rport}`;
      if (closed.has(key)) {
        ev.duplicateCloses++;
        return;
      }
      closed.add(key);
      if (client) ev.clientCloses++;
      else ev.serverCloses++;
    }
  };
  return new Promise((resolve, reject) => {
    let rest = '';
    input.setEncoding('utf8');
    input.on('data', (chunk: string) => {
      const parts = (rest + chunk).split('\n');
      rest = parts.pop() ?? '';
      for (const l of parts) line(l);
    });
    input.on('end', () => {
      line(rest);
      resolve(ev);
    });
    input.on('error', reject);
  });
}

/** Drops per stage from a "drops: kernel_miss A, bpf_ring B, ..." text. */
export function parseDrops(text: string): Record<string, number> | null {
  const m = /drops: ([a-z_]+ \d+(?:, [a-z_]+ \d+)*)/.exec(text);
  if (!m) return null;
  const out: Record<string, number> = {};
  for (const [, st, n] of m[1].matchAll(/([a-z_]+) (\d+)/g)) out[st] = Number(n);
  return out;
}

let quietFlag: boolean | undefined;
/** Whether this build's `record` has --quiet (it is not in every build). */
export function recordHasQuiet(): boolean {
  if (quietFlag === undefined) {
    const r = spawnSync(process.execPath, [CLI_MAIN(), 'record', '--help'], { encoding: 'utf8', timeout: 20000 });
    quietFlag = /--quiet\b/.test(`${r.stdout}${r.stderr}`);
    if (!quietFlag) log('note: this build\'s `socktop record` has no --quiet: its status line (once a second) goes to a pipe');
  }
  return quietFlag;
}

export interface CliResult {
  mode: 'json' | 'record';
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

/** Output files of runs in progress (removed if the bench is interrupted). */
const tempFiles = new Set<string>();
export function removeTempFiles(): void {
  for (const f of tempFiles) fs.rmSync(f, { force: true });
}

/** One run of the socktop CLI (--json or record) on the load. */
export async function runCli(mode: 'json' | 'record', probe: string, rate: number): Promise<CliResult> {
  const base = path.join(os.tmpdir(), `socktop-storm-${mode}-${process.pid}`);
  const outFile = `${base}.${mode === 'json' ? 'ndjson' : 'socktop'}`;
  fs.rmSync(outFile, { force: true });
  tempFiles.add(outFile);
  const args = mode === 'json'
    ? [CLI_MAIN(), '--json', '--probe', probe]
    : [CLI_MAIN(), 'record', '-w', outFile, '--probe', probe, ...(recordHasQuiet() ? ['--quiet'] : [])];
  const command = `node ${path.relative(ROOT, args[0])} ${args.slice(1).join(' ')}${mode === 'json' ? ` > ${outFile}` : ''}`;
  const fd = mode === 'json' ? fs.openSync(outFile, 'w') : 'ignore';
  const t0 = Date.now();
  const child = spawn(process.execPath, args, { stdio: ['ignore', fd, 'pipe'] });
  if (typeof fd === 'number') fs.closeSync(fd);
  trackChild(child);
  let err = '';
  child.stderr!.on('data', (d) => {
    err += d;
    if (err.length > 1 << 20) err = err.slice(-(1 << 16)); // record's status lines: keep the tail
  });
  let exitCode: number | null | undefined;
  const exited = new Promise<void>((r) => child.on('exit', (code) => {
    exitCode = code;
    r();
  }));
  const pid = child.pid ?? 0;
  const cleanup = async (): Promise<void> => {
    if (exitCode === undefined) {
      child.kill('SIGKILL');
      await exited;
    }
    fs.rmSync(outFile, { force: true });
    tempFiles.delete(outFile);
  };
  try {
    // ------------------------------------------------------------ attach
    let attachMsReported: number | null = null;
    let backend: string | null = null;
    if (mode === 'json') {
      const until = Date.now() + 60000;
      while (!err.includes('attached') && exitCode === undefined && Date.now() < until) await sleep(10);
      if (!err.includes('attached')) throw new Error(`socktop --json did not attach: ${err.trim().split('\n').slice(-2).join(' | ').slice(0, 300)}`);
      const m = /attached (\S+) (\S+) programs(?: in (\d+) ms)?/.exec(err);
      backend = m?.[2] ?? null;
      attachMsReported = m?.[3] !== undefined ? Number(m[3]) : null;
    } else {
      const ok = await waitProgramRun(pid, () => exitCode === undefined, 60000);
      if (!ok) throw new Error(`socktop record did not attach: ${err.trim().split('\n').slice(-2).join(' | ').slice(0, 300)}`);
    }
    const attachWallMs = Date.now() - t0;
    await sleep(500); // as for the others: let the start settle
    const progIds = progIdsOf(pid);

    // ------------------------------------------------------------ load
    const cpu0 = procCpuMs(pid);
    const load = await runLoad(rate);
    const loadEnd = Date.now();
    // json writes as it goes (a file: synchronous writes); record flushes at least once a second.
    const caught = mode === 'json'
      ? await waitCaughtUp(outFile, pid, 500, 8 << 10)
      : await waitCaughtUp(outFile, pid, 1500, 48 << 10);
    const rssMB = peakRssMB(pid);
    child.kill('SIGINT');
    await Promise.race([exited, sleep(60000)]);
    if (exitCode === undefined) throw new Error(`socktop ${mode} did not stop within 60 s of SIGINT`);
    const stderrTail = err.trim().split('\n').slice(-3);
    const outputBytes = fs.statSync(outFile).size;
    const cpuMs = caught.cpuMs - cpu0;
    const tool: ToolRun = {
      attachWallMs, cpuMs, cpuPctOfCore: (100 * cpuMs) / load.wallMs, pid, progIds, peakRssMB: rssMB,
    };

    // ------------------------------------------------------------ count (not timed)
    const c0 = Date.now();
    let seen: LoadEvents;
    if (mode === 'json') {
      seen = await countLoadEvents(fs.createReadStream(outFile, { highWaterMark: 1 << 20 }));
    } else {
      const replay = spawn(process.execPath, [CLI_MAIN(), 'replay', outFile, '--json'], { stdio: ['ignore', 'pipe', 'pipe'] });
      trackChild(replay);
      let rerr = '';
      replay.stderr!.on('data', (d) => (rerr += d));
      const rexit = new Promise<number | null>((r) => replay.on('exit', (code) => r(code)));
      seen = await countLoadEvents(replay.stdout!);
      const rc = await rexit;
      if (rc !== 0) throw new Error(`replay --json exited ${rc}: ${rerr.trim().slice(0, 300)}`);
      if (rerr.trim()) log(`  replay: ${rerr.trim().split('\n').slice(0, 2).join(' | ')}`);
    }
    const countMs = Date.now() - c0;

    let drops: Record<string, number>;
    let events: { written?: number; read?: number } = {};
    if (mode === 'json') {
      const d = parseDrops(err);
      if (!d) throw new Error(`socktop --json (exit ${exitCode}) printed no summary line: ${stderrTail.join(' | ').slice(0, 300)}`);
      drops = d;
      const m = /(\d+) events written \((\d+) read\)/.exec(err);
      if (m) events = { written: Number(m[1]), read: Number(m[2]) };
    } else {
      drops = { ...seen.dropRecords };
      // The status line (without --quiet): "N drops (bpf ring X, write Y)".
      const m = [...err.matchAll(/(\d+) events, .*?(\d+) drops(?: \(bpf ring (\d+), write (\d+)\))?/g)].pop();
      if (m) {
        events = { written: Number(m[1]) };
        if (m[3] !== undefined) {
          drops.bpf_ring = Math.max(drops.bpf_ring ?? 0, Number(m[3]));
          drops.recording = Math.max(drops.recording ?? 0, Number(m[4]));
        }
      }
      const b = Object.entries(seen.backends).sort((x, y) => y[1] - x[1])[0];
      backend = b ? b[0] : null;
    }
    const lostReported = Object.values(drops).reduce((a, n) => a + n, 0);
    const truth = loadTruth(load.gt);
    const missing = missingEvents(seen, truth);
    return {
      mode, probe, backend, command, load, tool, attachMsReported, exitCode, stderrTail, drops, lostReported,
      seen, truth, missing, missingNoDrop: Math.max(0, missing - lostReported), outputBytes,
      catchUpMs: caught.at - loadEnd, countMs, events,
    };
  } finally {
    await cleanup();
  }
}
