/**
 * bench/storm.ts: a loopback connection storm from bench/loadgen (its counters are the ground
 * truth), without and with socktop attached (in three modes, on the chosen probe backends), and with
 * peer tools on the same load.
 *
 *   node dist/bench/storm.js [--rates 10000,0] [--duration 5] [--reps 1] [--threads 1]
 *        [--sources 64] [--refused-every 10] [--modes tui,json,record] [--probes auto]
 *        [--peers tcplife,tcpstates,bpftrace,tcplife-bpfcc] [--no-peers] [--no-install]
 *        [--quiet-wait 60] [--out FILE]
 *   node dist/bench/storm.js --report bench/results/storm-DATE.json   (the tables again, no runs)
 *   (npm run bench -- storm ...; root needed)
 *
 * For each rate (0 = as fast as it goes), every run in a fresh network namespace (bench/netns.sh)
 * and bounded in time (--duration seconds of starting connections, then loadgen's grace):
 *   baseline        the load generator alone
 *   socktop[P]      (--modes tui) bench/headless.js --probe P (socktop's capture pipeline as the TUI
 *                   runs it, no screen) attached before the load starts
 *   socktop-json[P] (--modes json) the CLI, `socktop --json --probe P` with stdout to a file in /tmp
 *   socktop-record[P] (--modes record) the CLI, `socktop record -w FILE --probe P`; the load's events
 *                   counted afterwards from `socktop replay FILE --json` (bench/storm-cli.ts)
 *                   ... once per backend P of --probes (auto, cgroup, kprobe, tracepoint: a list)
 *   tcplife, tcpstates (libbpf-tools), bpftrace (a one-liner counting inet_sock_set_state for
 *                   the load's ports), tcplife-bpfcc (BCC; needs kernel headers: Debian's 6.1
 *                   headers through BCC_KERNEL_SOURCE, skipped with a note if it cannot attach)
 *   baseline        again at the end (the baseline figure is the mean of both; their spread
 *                   shows the machine's noise)
 * With --reps N the whole sequence (opening baseline, socktop modes, peers) runs N times per rate,
 * and the comparison table gives medians with min-max over the reps.
 * Missing peers are installed with apt-get (--no-install: skipped instead).
 *
 * Ground truth per run: loadgen's JSON (connects ok / refused, accepts). The load uses fixed ports
 * (server 5001, closed port 5002) so every tool's output can be cut to the load's own events.
 * Kernel state changes per run are exactly 10 per successful connection (client 5: CLOSE>SYN_SENT>
 * ESTABLISHED>CLOSE_WAIT>LAST_ACK>CLOSE; server 5: LISTEN>SYN_RECV>ESTABLISHED>FIN_WAIT1>FIN_WAIT2>
 * CLOSE), 2 per refused one, and 2 for the listener; the bpftrace run checks that formula.
 * socktop's modes are checked event by event: connects ok, refused, accepts, client closes, server
 * closes seen / truth; "missing with no drop reported" = what is missing beyond the drops the tool
 * itself reported (0 when its drop counters account for every missing event).
 *
 * CPU: tools' CPU (user+sys, all threads) over the load, as % of one core, divided by the load's
 * wall time; machine-wide busy time from /proc/stat over the same window, and the load generator's
 * own CPU (children times), so CPU used by anything else on the machine (other sessions) shows as
 * "other". Before each run the harness waits (up to --quiet-wait s) for the machine to be quiet
 * and for no other tracing BPF programs to be attached; a run that started noisy is flagged.
 * Peak RSS: the tool process's VmHWM (headless: its maxRSS).
 *
 * Prints tables (all runs; socktop's pipeline in detail; seen / truth per socktop mode; per rate a
 * comparison of every tool and mode) and writes the raw results to bench/results/storm-<date>.json.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { ChildProcess, execFileSync, spawn } from 'node:child_process';
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { CliResult, loadTruth, missingEvents, recordHasQuiet, removeTempFiles, runCli } from './storm-cli';

export const ROOT = path.resolve(__dirname, '../..');
const LOADGEN = path.join(ROOT, 'bench/loadgen');
const NETNS = path.join(ROOT, 'bench/netns.sh');
const HEADLESS = path.join(__dirname, 'headless.js');
export const SERVER_PORT = 5001;
export const REFUSED_PORT = 5002;
const CLK_TCK = 100;
const BCC_KSRC = '/tmp/socktop-bench-bcc-ksrc';

// ------------------------------------------------------------------------------------ options

function argValue(name: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : undefined;
}
const has = (name: string): boolean => process.argv.includes(`--${name}`);
function num(name: string, def: number): number {
  const v = argValue(name);
  const n = v === undefined ? def : Number(v);
  if (!Number.isFinite(n) || n < 0) throw new Error(`--${name}: '${v}' is not a number`);
  return n;
}

const ALL_PEERS = ['tcplife', 'tcpstates', 'bpftrace', 'tcplife-bpfcc'] as const;
type Peer = (typeof ALL_PEERS)[number];
const PROBES = ['auto', 'cgroup', 'kprobe', 'tracepoint'];
export const CLI_MODES = ['tui', 'json', 'record'] as const;
export type Mode = (typeof CLI_MODES)[number];
/** 'baseline', a peer, or a socktop mode on a backend: socktop[P], socktop-json[P], socktop-record[P]. */
type RunKind = string;

function listOption<T extends string>(name: string, def: string, allowed: readonly string[]): T[] {
  const v = (argValue(name) ?? def).split(',').filter(Boolean);
  const bad = v.filter((x) => !allowed.includes(x));
  if (bad.length) throw new Error(`--${name}: ${bad.join(', ')}: not one of ${allowed.join(', ')}`);
  return [...new Set(v)] as T[];
}

/** The run kind of a socktop mode on a backend. */
export const socktopKind = (mode: Mode, probe: string): string =>
  `${mode === 'tui' ? 'socktop' : `socktop-${mode}`}[${probe}]`;
/** The mode and backend of a socktop run kind (null: baseline or a peer). */
export function parseSocktopKind(kind: RunKind): { mode: Mode; probe: string } | null {
  const m = /^socktop(?:-(json|record))?\[([a-z]+)\]$/.exec(kind);
  return m ? { mode: (m[1] ?? 'tui') as Mode, probe: m[2] } : null;
}

export const O = {
  rates: (argValue('rates') ?? '10000,0').split(',').map(Number),
  duration: num('duration', 5),
  grace: num('grace', 2),
  reps: num('reps', 1),
  threads: num('threads', 1),
  sources: num('sources', 64),
  concurrency: num('concurrency', 64),
  refusedEvery: num('refused-every', 10),
  peers: has('no-peers') ? [] : listOption<Peer>('peers', ALL_PEERS.join(','), ALL_PEERS),
  /** socktop's modes: tui (bench/headless.js), json (the CLI's --json), record (the CLI's record). */
  modes: listOption<Mode>('modes', CLI_MODES.join(','), CLI_MODES),
  /** Probe backends each mode runs on, one run kind per backend. */
  probes: listOption<string>('probes', 'auto', PROBES),
  install: !has('no-install'),
  quietWaitSec: num('quiet-wait', 60),
  quietCores: num('quiet-cores', 0.3),
  /** A run during which something else used more than this many cores is repeated (--retries times). */
  maxOther: num('max-other', 0.25),
  retries: num('retries', 2),
  out: argValue('out'),
  headlessArgs: (argValue('headless-args') ?? '').split(' ').filter(Boolean),
};

// ------------------------------------------------------------------------------------ small utils

export { sleep };
const live = new Set<ChildProcess>();
/** A child to kill if the bench is interrupted (until it exits). */
export function trackChild(child: ChildProcess): void {
  live.add(child);
  child.once('exit', () => live.delete(child));
}
export const log = (s: string): void => void process.stderr.write(`storm: ${s}\n`);

/** Busy and total jiffies of the whole machine (/proc/stat "cpu" line). */
export function machineJiffies(): { busy: number; total: number } {
  const f = fs.readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/).slice(1).map(Number);
  const total = f.slice(0, 8).reduce((a, b) => a + b, 0); // user nice system idle iowait irq softirq steal
  return { busy: total - f[3] - f[4], total };
}

/** utime + stime of a process, all threads, in ms (0 if gone). */
export function procCpuMs(pid: number): number {
  try {
    const s = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    const f = s.slice(s.lastIndexOf(')') + 2).split(' ');
    return ((Number(f[11]) + Number(f[12])) * 1000) / CLK_TCK;
  } catch {
    return NaN;
  }
}

/** Peak resident set size of a process (VmHWM), MB; NaN if gone. */
export function peakRssMB(pid: number): number {
  try {
    const m = /^VmHWM:\s+(\d+) kB/m.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? +(Number(m[1]) / 1024).toFixed(1) : NaN;
  } catch {
    return NaN;
  }
}

interface BpfProg { id: number; type: string; name: string; run_cnt?: number; run_time_ns?: number }

function bpfPrograms(): BpfProg[] {
  try {
    return JSON.parse(execFileSync('bpftool', ['prog', 'show', '-j'], { encoding: 'utf8', maxBuffer: 64 << 20 })) as BpfProg[];
  } catch {
    return [];
  }
}

const TRACING_TYPES = new Set(['tracepoint', 'raw_tracepoint', 'kprobe', 'tracing', 'perf_event']);

/** BPF program ids a process holds open (fdinfo prog_id), e.g. a peer tool's programs. */
export function progIdsOf(pid: number): number[] {
  const ids: number[] = [];
  try {
    for (const fd of fs.readdirSync(`/proc/${pid}/fdinfo`)) {
      try {
        const m = /^prog_id:\s+(\d+)/m.exec(fs.readFileSync(`/proc/${pid}/fdinfo/${fd}`, 'utf8'));
        if (m) ids.push(Number(m[1]));
      } catch { /* closed meanwhile */ }
    }
  } catch { /* gone */ }
  return [...new Set(ids)];
}

function which(cmd: string): string | null {
  for (const dir of (process.env.PATH ?? '/usr/sbin:/usr/bin:/sbin:/bin').split(':').concat(['/usr/sbin', '/sbin'])) {
    const p = path.join(dir, cmd);
    try {
      fs.accessSync(p, fs.constants.X_OK);
      return p;
    } catch { /* next */ }
  }
  return null;
}

function readSysctl(name: string): string | null {
  try {
    return fs.readFileSync(`/proc/sys/${name.replace(/\./g, '/')}`, 'utf8').trim();
  } catch {
    return null;
  }
}
function writeSysctl(name: string, value: string): void {
  try {
    fs.writeFileSync(`/proc/sys/${name.replace(/\./g, '/')}`, value);
  } catch { /* best effort */ }
}

/** Median of a list (NaN for none). */
export function median(xs: number[]): number {
  const s = xs.filter((x) => Number.isFinite(x)).sort((a, b) => a - b);
  if (s.length === 0) return NaN;
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
}

// ------------------------------------------------------------------------------------ machine quiet

export interface Quiet { waitedMs: number; busyCores: number; foreignPrograms: string[]; quiet: boolean }

/** Foreign tracing programs (attached by someone else) and the machine's busy cores over ~1 s. */
async function sampleQuiet(): Promise<{ busyCores: number; foreign: string[] }> {
  const a = machineJiffies();
  await sleep(1000);
  const b = machineJiffies();
  const busyCores = ((b.busy - a.busy) / (b.total - a.total)) * os.cpus().length;
  const foreign = bpfPrograms().filter((p) => TRACING_TYPES.has(p.type)).map((p) => `${p.id}:${p.name}`);
  return { busyCores, foreign };
}

export async function waitQuiet(): Promise<Quiet> {
  const t0 = Date.now();
  let s = await sampleQuiet();
  let warned = false;
  while ((s.busyCores > O.quietCores || s.foreign.length > 0) && Date.now() - t0 < O.quietWaitSec * 1000) {
    if (!warned) {
      log(`waiting for a quiet machine (busy ${s.busyCores.toFixed(2)} cores, ${s.foreign.length} foreign tracing BPF programs)...`);
      warned = true;
    }
    s = await sampleQuiet();
  }
  const quiet = s.busyCores <= O.quietCores && s.foreign.length === 0;
  if (!quiet) log(`machine still busy after ${O.quietWaitSec} s (busy ${s.busyCores.toFixed(2)} cores, foreign programs: ${s.foreign.slice(0, 4).join(', ')}${s.foreign.length > 4 ? ', ...' : ''}): run flagged noisy`);
  return { waitedMs: Date.now() - t0, busyCores: +s.busyCores.toFixed(3), foreignPrograms: s.foreign, quiet };
}

// ------------------------------------------------------------------------------------ the load

export interface GroundTruth {
  connects_ok: number; connects_refused: number; connects_failed_other: number; accepts: number;
  attempts: number; rate: number; ok_rate: number; duration_s: number; pid: number; server_pid: number;
  client_pid: number; aborted_at_end: number; exchanges_failed: number; errors: Record<string, number>; ok: boolean;
  [k: string]: unknown;
}

export interface LoadResult {
  gt: GroundTruth;
  wallMs: number;
  loadgenCpuMs: number; // client + server + parent (children times of the wrapping shell)
  machineBusyCores: number;
  startedAt: number; // Date.now()
  /** Tracing BPF programs attached when the load ended (ours and anybody else's). */
  tracingProgramsAtEnd: string[];
}

function loadgenArgs(rate: number): string[] {
  return [
    '--rate', String(rate), '--duration', String(O.duration), '--grace', String(O.grace),
    '--threads', String(O.threads), '--sources', String(O.sources), '--concurrency', String(O.concurrency),
    '--refused-every', String(O.refusedEvery), '--port', String(SERVER_PORT), '--refused-port', String(REFUSED_PORT),
  ];
}

/** One bounded loadgen run in a fresh network namespace. */
export function runLoad(rate: number): Promise<LoadResult> {
  // The wrapping shell's `times` prints its children's CPU: loadgen, which waited for its two.
  const script = '"$0" "$@"; rc=$?; times >&2; exit $rc';
  const m0 = machineJiffies();
  const t0 = Date.now();
  const child = spawn(NETNS, ['sh', '-c', script, LOADGEN, ...loadgenArgs(rate)], { stdio: ['ignore', 'pipe', 'pipe'] });
  live.add(child);
  let out = '';
  let err = '';
  child.stdout!.on('data', (d) => (out += d));
  child.stderr!.on('data', (d) => (err += d));
  const bound = setTimeout(() => child.kill('SIGTERM'), (O.duration + O.grace + 20) * 1000);
  return new Promise((resolve, reject) => {
    child.on('exit', (code) => {
      clearTimeout(bound);
      live.delete(child);
      const wallMs = Date.now() - t0;
      const m1 = machineJiffies();
      const line = out.trim().split('\n').pop() ?? '';
      let gt: GroundTruth;
      try {
        gt = JSON.parse(line) as GroundTruth;
      } catch {
        reject(new Error(`loadgen (exit ${code}) printed no JSON: ${err.trim().split('\n').slice(-3).join(' | ')}`));
        return;
      }
      const times = [...err.matchAll(/(\d+)m([\d.]+)s\s+(\d+)m([\d.]+)s/g)].pop();
      const loadgenCpuMs = times
        ? (Number(times[1]) * 60 + Number(times[2]) + Number(times[3]) * 60 + Number(times[4])) * 1000
        : NaN;
      const machineBusyCores = ((m1.busy - m0.busy) / (m1.total - m0.total)) * os.cpus().length;
      const tracingProgramsAtEnd = bpfPrograms().filter((p) => TRACING_TYPES.has(p.type)).map((p) => `${p.id}:${p.name}`);
      resolve({ gt, wallMs, loadgenCpuMs, machineBusyCores, startedAt: t0, tracingProgramsAtEnd });
    });
  });
}

// ------------------------------------------------------------------------------------ socktop

export interface HeadlessResult {
  attach: { processStartToReadyMs: number; attachMs: number; backend: string; programs: number; programIds: number[] };
  records: { drained: number; fromBpf: number; byKindOnPorts: Record<string, number> | null; transitionsOnPorts?: number | null; maxRingFill: number; byKind: Record<string, number> };
  kernel: { polled: number; emitted: number };
  delivered: { ratio: number | null; lost: number };
  drops: { bpfRing: number; sharedRing: number };
  procs: { pid: number; comm: string; accepts: number; connectsOk: number; connectsRefused: number; connectsFailed: number; closes: number }[];
  cpu: { load: { pctOfCore: number; wallMs: number; userMs: number; sysMs: number; settleMs: number; threads: Record<string, { userMs: number; sysMs: number }> } | null };
  maxRssMB: number;
  bpf: { nsPerRun: number | null; nsPerEmittedEvent: number | null; runCount: number; runTimeNs: number; programs: { name: string; runCount: number; runTimeNs: number }[] };
  model: { unattributed: number } | null;
  [k: string]: unknown;
}

export interface ToolRun {
  attachWallMs: number; // spawn -> attached, seen from outside
  cpuMs: number; // over the load (start -> caught up)
  cpuPctOfCore: number;
  pid: number;
  progIds: number[]; // its BPF programs
  peakRssMB?: number; // VmHWM just before it was stopped (headless: its maxRSS)
}

/** bench/headless.js on the load; `probe` (a backend for --probe) unless null. */
export async function runSocktop(rate: number, headlessArgs = O.headlessArgs, probe: string | null = null): Promise<{ load: LoadResult; headless: HeadlessResult; tool: ToolRun }> {
  const t0 = Date.now();
  const probeArgs = probe === null ? [] : ['--probe', probe];
  const child = spawn(process.execPath, [HEADLESS, '--ports', `${SERVER_PORT},${REFUSED_PORT}`, ...probeArgs, ...headlessArgs], {
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  live.add(child);
  let out = '';
  let err = '';
  child.stdout!.on('data', (d) => (out += d));
  const exited = new Promise<number | null>((r) => child.on('exit', (code) => {
    live.delete(child);
    r(code);
  }));
  const ready = new Promise<void>((resolve, reject) => {
    child.stderr!.on('data', (d) => {
      err += d;
      if (err.includes('headless: ready')) resolve();
    });
    void exited.then((code) => reject(new Error(`headless exited (${code}) before attaching: ${err.trim()}`)));
  });
  await ready;
  const attachWallMs = Date.now() - t0;
  await sleep(500); // let the start settle (snapshot records, first polls)
  child.stdin!.write('start\n');
  const load = await runLoad(rate);
  child.stdin!.write('end\n');
  child.stdin!.write('stop\n');
  child.stdin!.end();
  const code = await Promise.race([exited, sleep(20000).then(() => 'timeout' as const)]);
  if (code === 'timeout') {
    child.kill('SIGKILL');
    throw new Error('headless did not finish');
  }
  const line = out.trim().split('\n').pop() ?? '';
  let headless: HeadlessResult;
  try {
    headless = JSON.parse(line) as HeadlessResult;
  } catch {
    throw new Error(`headless (exit ${code}) printed no JSON: ${err.trim().split('\n').slice(-3).join(' | ')}`);
  }
  const lc = headless.cpu.load;
  const cpuMs = lc ? lc.userMs + lc.sysMs : NaN;
  return {
    load, headless,
    tool: {
      attachWallMs, cpuMs, cpuPctOfCore: lc ? lc.pctOfCore : NaN, pid: child.pid ?? 0, progIds: headless.attach.programIds ?? [],
      peakRssMB: headless.maxRssMB,
    },
  };
}

// ------------------------------------------------------------------------------------ peers

interface PeerSpec {
  cmd: string;
  args: string[];
  env?: NodeJS.ProcessEnv;
  /** Count the output lines that belong to the load (by port columns). */
  count(lines: string[]): { events: number; byComm: Record<string, number> };
  /** Expected count from the ground truth. */
  expected(gt: GroundTruth): number;
  what: string;
}

const portOf = (s: string | undefined): boolean => s === String(SERVER_PORT) || s === String(REFUSED_PORT);

function countByColumns(lines: string[], lportCol: number, rportCol: number, commCol: number): { events: number; byComm: Record<string, number> } {
  let events = 0;
  const byComm: Record<string, number> = {};
  for (const l of lines) {
    const t = l.trim().split(/\s+/);
    if (!portOf(t[lportCol]) && !portOf(t[rportCol])) continue;
    events++;
    byComm[t[commCol]] = (byComm[t[commCol]] ?? 0) + 1;
  }
  return { events, byComm };
}

/** Connection attempts loadgen finished, and its CPU per attempt (µs; BPF run in its context included). */
const finished = (gt: GroundTruth): number => gt.connects_ok + gt.connects_refused + gt.connects_failed_other;
const loadUsPerConn = (l: LoadResult): number => (l.loadgenCpuMs * 1000) / finished(l.gt);

const STATE_CHANGES = (gt: GroundTruth): number => 10 * gt.connects_ok + 2 * gt.connects_refused + 2;
const SESSIONS = (gt: GroundTruth): number => 2 * gt.connects_ok + gt.connects_refused;

const BPFTRACE_PROG =
  `tracepoint:sock:inet_sock_set_state /args->protocol == 6 && (args->sport == ${SERVER_PORT} || args->dport == ${SERVER_PORT}`
  + ` || args->sport == ${REFUSED_PORT} || args->dport == ${REFUSED_PORT})/ { @events = count(); }`
  + ' BEGIN { printf("bpftrace-ready\\n"); }';

function peerSpec(peer: Peer): PeerSpec {
  switch (peer) {
    case 'tcplife':
      return {
        cmd: 'tcplife', args: [], what: 'lines (one per TCP session end; expected 2 per connection + 1 per refused)',
        count: (lines) => countByColumns(lines, 3, 5, 1), expected: SESSIONS,
      };
    case 'tcplife-bpfcc':
      return {
        cmd: 'tcplife-bpfcc', args: [], env: { ...process.env, BCC_KERNEL_SOURCE: BCC_KSRC },
        what: 'lines (one per TCP session end)', count: (lines) => countByColumns(lines, 3, 5, 1), expected: SESSIONS,
      };
    case 'tcpstates':
      return {
        cmd: 'tcpstates', args: [], what: 'lines (one per state change; expected 10 per connection + 2 per refused + 2)',
        count: (lines) => countByColumns(lines, 4, 6, 2), expected: STATE_CHANGES,
      };
    case 'bpftrace':
      return {
        cmd: 'bpftrace', args: ['-e', BPFTRACE_PROG], what: 'in-kernel count of inet_sock_set_state for the load',
        count: (lines) => {
          const m = /@events:\s*(\d+)/.exec(lines.join('\n'));
          return { events: m ? Number(m[1]) : 0, byComm: {} };
        },
        expected: STATE_CHANGES,
      };
  }
}

/** One TCP connect to 127.0.0.1:1 (closed): two state changes, on no port the load uses. */
export function poke(): Promise<void> {
  return new Promise((resolve) => {
    const sock = net.connect({ host: '127.0.0.1', port: 1 });
    const done = (): void => {
      sock.destroy();
      resolve();
    };
    sock.once('error', done);
    sock.once('connect', done);
    setTimeout(done, 200);
  });
}

interface PeerResult {
  peer: Peer;
  load: LoadResult;
  tool: ToolRun;
  events: number;
  expected: number;
  byComm: Record<string, number>;
  bpf: { programs: number; runCount: number; runTimeNs: number; nsPerRun: number | null };
  outputLines: number;
  /** Events the tool itself said it lost (perf buffer overruns). */
  reportedLost: number;
  what: string;
}

/**
 * Wait until one of the BPF programs process `pid` holds has run: every tool here hooks socket
 * creation or inet_sock_set_state, so poke it with a connect to a closed port (not one of the
 * load's) meanwhile. Needs BPF run stats (kernel.bpf_stats_enabled, or the tool's own). False when
 * `alive()` turns false or after timeoutMs.
 */
export async function waitProgramRun(pid: number, alive: () => boolean, timeoutMs: number): Promise<boolean> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const ids = progIdsOf(pid);
    if (ids.length > 0) {
      await poke();
      if (bpfPrograms().some((p) => ids.includes(p.id) && (p.run_cnt ?? 0) > 0)) return true;
    }
    if (!alive() || Date.now() > until) return false;
    await sleep(20);
  }
}

async function runPeer(peer: Peer, rate: number): Promise<PeerResult> {
  const spec = peerSpec(peer);
  const outFile = path.join(os.tmpdir(), `socktop-storm-${peer}-${process.pid}.out`);
  const fd = fs.openSync(outFile, 'w');
  const t0 = Date.now();
  const child = spawn(spec.cmd, spec.args, { stdio: ['ignore', fd, fd], env: spec.env });
  fs.closeSync(fd);
  live.add(child);
  let exitCode: number | null | undefined;
  const exited = new Promise<void>((r) => child.on('exit', (code) => {
    exitCode = code;
    live.delete(child);
    r();
  }));
  // Attached: its programs run. Its own output cannot tell (stdout to a file is block-buffered, so
  // libbpf-tools' header shows up only with the first 4 KiB of events). BCC compiles first.
  if (!(await waitProgramRun(child.pid ?? 0, () => exitCode === undefined, 60000))) {
    const text = fs.readFileSync(outFile, 'utf8');
    child.kill('SIGKILL');
    await exited;
    throw new Error(`${peer} did not attach: ${text.trim().split('\n').slice(-2).join(' | ').slice(0, 300)}`);
  }
  const attachWallMs = Date.now() - t0;
  const pid = child.pid ?? 0;
  await sleep(500);
  const progIds = progIdsOf(pid);
  const cpu0 = procCpuMs(pid);
  const load = await runLoad(rate);
  // Caught up: its output stops growing (it streams what the kernel gave it).
  let size = fs.statSync(outFile).size;
  let stableSince = Date.now();
  const flushUntil = Date.now() + 10000;
  let cpu1 = procCpuMs(pid);
  while (Date.now() < flushUntil && Date.now() - stableSince < 500) {
    await sleep(100);
    const s = fs.statSync(outFile).size;
    if (s !== size) {
      size = s;
      stableSince = Date.now();
      cpu1 = procCpuMs(pid);
    }
  }
  const progs = bpfPrograms().filter((p) => progIds.includes(p.id));
  const rssMB = peakRssMB(pid);
  child.kill('SIGINT');
  await Promise.race([exited, sleep(5000)]);
  if (exitCode === undefined) {
    child.kill('SIGKILL');
    await exited;
  }
  const lines = fs.readFileSync(outFile, 'utf8').split('\n');
  fs.rmSync(outFile, { force: true });
  const { events, byComm } = spec.count(lines);
  // libbpf-tools and BCC report perf buffer overruns on stderr (same file): "lost N events" / "Possibly lost N samples".
  const reportedLost = lines.reduce((a, l) => {
    const m = /lost (\d+) (?:events|samples)/i.exec(l);
    return a + (m ? Number(m[1]) : 0);
  }, 0);
  const runCount = progs.reduce((a, p) => a + (p.run_cnt ?? 0), 0);
  const runTimeNs = progs.reduce((a, p) => a + (p.run_time_ns ?? 0), 0);
  const cpuMs = cpu1 - cpu0;
  return {
    peer, load, events, expected: spec.expected(load.gt), byComm, what: spec.what, outputLines: lines.length, reportedLost,
    tool: { attachWallMs, cpuMs, cpuPctOfCore: (100 * cpuMs) / load.wallMs, pid, progIds, peakRssMB: rssMB },
    bpf: { programs: progs.length, runCount, runTimeNs, nsPerRun: runCount ? +(runTimeNs / runCount).toFixed(1) : null },
  };
}

// ------------------------------------------------------------------------------------ peer setup

const PEER_PACKAGES: Record<Peer, { bin: string; pkg: string }> = {
  tcplife: { bin: 'tcplife', pkg: 'libbpf-tools' },
  tcpstates: { bin: 'tcpstates', pkg: 'libbpf-tools' },
  bpftrace: { bin: 'bpftrace', pkg: 'bpftrace' },
  'tcplife-bpfcc': { bin: 'tcplife-bpfcc', pkg: 'bpfcc-tools' },
};

function aptInstall(pkgs: string[]): boolean {
  log(`apt-get install -y ${pkgs.join(' ')}`);
  try {
    execFileSync('apt-get', ['install', '-y', '--no-install-recommends', ...pkgs], {
      stdio: ['ignore', 'ignore', 'inherit'], env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' }, timeout: 600000,
    });
    return true;
  } catch {
    return false;
  }
}

/**
 * BCC compiles its programs against kernel headers; this kernel ships none. Debian's headers are
 * split in two trees (-common and -amd64); BCC wants one: merge them as symlinks.
 */
function prepareBccHeaders(): string | null {
  if (fs.existsSync(`/lib/modules/${os.release()}/build`)) return null; // real headers: nothing to do
  const find = (): { common: string; arch: string } | null => {
    const dirs = fs.existsSync('/usr/src') ? fs.readdirSync('/usr/src') : [];
    const arch = dirs.filter((d) => /^linux-headers-.*-amd64$/.test(d)).sort().pop();
    if (!arch) return null;
    const common = arch.replace(/-amd64$/, '-common');
    return dirs.includes(common) ? { common: `/usr/src/${common}`, arch: `/usr/src/${arch}` } : null;
  };
  let h = find();
  if (!h && O.install) {
    aptInstall(['linux-headers-amd64']);
    h = find();
  }
  if (!h) return 'no kernel headers (linux-headers-amd64) to point BCC_KERNEL_SOURCE at';
  if (!fs.existsSync(path.join(BCC_KSRC, 'include/generated'))) {
    fs.rmSync(BCC_KSRC, { recursive: true, force: true });
    fs.mkdirSync(BCC_KSRC, { recursive: true });
    execFileSync('cp', ['-rs', `${h.common}/.`, `${BCC_KSRC}/`]);
    execFileSync('cp', ['-rsf', `${h.arch}/.`, `${BCC_KSRC}/`]);
  }
  return null;
}

/** Install what is missing; returns the peers to run and notes on those skipped. */
function preparePeers(): { peers: Peer[]; notes: Record<string, string> } {
  const notes: Record<string, string> = {};
  const missing = O.peers.filter((p) => !which(PEER_PACKAGES[p].bin));
  if (missing.length > 0 && O.install) {
    aptInstall([...new Set(missing.map((p) => PEER_PACKAGES[p].pkg))]);
  }
  const peers: Peer[] = [];
  for (const p of O.peers) {
    if (!which(PEER_PACKAGES[p].bin)) {
      notes[p] = `skipped: ${PEER_PACKAGES[p].bin} not installed (package ${PEER_PACKAGES[p].pkg})`;
      continue;
    }
    if (p === 'tcplife-bpfcc') {
      const why = prepareBccHeaders();
      if (why) {
        notes[p] = `skipped: ${why}`;
        continue;
      }
      notes[p] = `BCC_KERNEL_SOURCE=${BCC_KSRC} (Debian's ${fs.readdirSync('/usr/src').filter((d) => d.endsWith('-common')).join(', ')} merged, not the running kernel's): counts are right, its TX_KB/RX_KB columns are not`;
    }
    peers.push(p);
  }
  return { peers, notes };
}

// ------------------------------------------------------------------------------------ one rate

interface RunRecord {
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
  /** socktop --json / socktop record runs (bench/storm-cli.ts). */
  cli?: Omit<CliResult, 'load' | 'tool'>;
  error?: string;
  /** Other load above --max-other even in the best of the tries. */
  noisy?: boolean;
  /** Earlier tries of this run, dropped because other load disturbed them more. */
  discarded?: { otherCores?: number; foreignPrograms?: number; rate?: number; toolCpuPct?: number }[];
}

/** Somebody else's tracing programs attached at the end of the load. */
export function foreignAtEnd(l: LoadResult, own: number[]): string[] {
  return l.tracingProgramsAtEnd.filter((p) => !own.includes(Number(p.split(':')[0])));
}

/** How much a run was disturbed: other cores, plus a whole core's worth for foreign programs. */
const disturbance = (r: RunRecord): number => (r.otherCores ?? Infinity) + (r.foreignPrograms?.length ? 1 : 0);

/** A run, repeated while other load on the machine spoiled it; the least disturbed one is kept. */
async function measuredRun(rate: number, kind: RunKind, rep: number): Promise<RunRecord> {
  let best: RunRecord | null = null;
  const discarded: RunRecord[] = [];
  for (let attempt = 0; attempt <= O.retries; attempt++) {
    const r = await oneRun(rate, kind, rep);
    if (best === null || disturbance(r) < disturbance(best)) {
      if (best) discarded.push(best);
      best = r;
    } else {
      discarded.push(r);
    }
    if (r.error || disturbance(r) <= O.maxOther) break;
    if (attempt < O.retries) {
      log(`  disturbed: other load ${r.otherCores} cores (max ${O.maxOther}), ${r.foreignPrograms?.length ?? 0} foreign tracing programs: again`);
    }
  }
  best!.noisy = disturbance(best!) > O.maxOther;
  if (discarded.length) {
    best!.discarded = discarded.map((d) => ({
      otherCores: d.otherCores, foreignPrograms: d.foreignPrograms?.length, rate: d.load?.gt.rate, toolCpuPct: d.tool?.cpuPctOfCore,
    }));
  }
  return best!;
}

async function oneRun(rate: number, kind: RunKind, rep: number): Promise<RunRecord> {
  log(`rate ${rate || 'max'}: ${kind}${O.reps > 1 ? ` (rep ${rep + 1})` : ''}`);
  const quiet = await waitQuiet();
  const rec: RunRecord = { rate, kind, rep, quiet };
  try {
    const st = parseSocktopKind(kind);
    if (kind === 'baseline') {
      rec.load = await runLoad(rate);
    } else if (st?.mode === 'tui') {
      const r = await runSocktop(rate, O.headlessArgs, st.probe);
      rec.load = r.load;
      rec.headless = r.headless;
      rec.tool = r.tool;
    } else if (st) {
      const { load, tool, ...cli } = await runCli(st.mode, st.probe, rate);
      rec.load = load;
      rec.tool = tool;
      rec.cli = cli;
    } else {
      const r = await runPeer(kind as Peer, rate);
      const { load, tool, ...peer } = r;
      rec.load = load;
      rec.tool = tool;
      rec.peer = peer;
    }
    const l = rec.load;
    const toolCores = rec.tool ? (rec.tool.cpuMs / l.wallMs) : 0;
    rec.otherCores = +(l.machineBusyCores - l.loadgenCpuMs / l.wallMs - toolCores).toFixed(3);
    rec.foreignPrograms = foreignAtEnd(l, rec.tool?.progIds ?? []);
    if (!l.gt.ok) log(`  loadgen reported ok=false`);
    log(`  ${l.gt.rate.toFixed(0)} conn/s (ok ${l.gt.connects_ok}, refused ${l.gt.connects_refused}, accepts ${l.gt.accepts})`
      + (rec.tool ? `, tool CPU ${rec.tool.cpuPctOfCore.toFixed(1)}%` : '')
      + (rec.cli ? `, missing ${rec.cli.missing} (drops reported ${rec.cli.lostReported}), counted in ${rec.cli.countMs} ms` : ''));
  } catch (e) {
    rec.error = (e as Error).message;
    log(`  FAILED: ${rec.error}`);
  }
  return rec;
}

// ------------------------------------------------------------------------------------ report

const f0 = (x: number | null | undefined): string => (x === null || x === undefined || !Number.isFinite(x) ? '-' : x.toFixed(0));
const f1 = (x: number | null | undefined): string => (x === null || x === undefined || !Number.isFinite(x) ? '-' : x.toFixed(1));

export function table(rows: string[][]): string {
  const w = rows[0].map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length)));
  return rows.map((r) => r.map((c, i) => (i === 0 ? c.padEnd(w[i]) : c.padStart(w[i]))).join('  ')).join('\n');
}

function seenVsTruth(seen: number | undefined, truth: number): string {
  if (seen === undefined) return '-';
  return seen === truth ? `${seen}/${truth} ✓` : `${seen}/${truth} ✗`;
}

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
  attachMs: number;
  /** socktop modes: the load's events seen, truth, and drops per stage. */
  seen?: Partial<LoadTruth>;
  truth?: LoadTruth;
  drops?: Record<string, number>;
  backend?: string | null;
}

type LoadTruth = ReturnType<typeof loadTruth>;

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
    rssMB: r.tool?.peakRssMB ?? NaN, lost: NaN, missing: NaN, missingNoDrop: NaN, attachMs: r.tool?.attachWallMs ?? NaN,
  };
  let missing = NaN;
  if (r.headless) {
    f.truth = loadTruth(gt);
    f.seen = headlessSeen(r.headless, gt);
    f.drops = headlessDrops(r.headless);
    f.backend = r.headless.attach.backend;
    f.lost = Object.values(f.drops).reduce((a, n) => a + n, 0);
    missing = missingEvents(f.seen, f.truth);
  } else if (r.cli) {
    f.truth = r.cli.truth;
    f.seen = r.cli.seen;
    f.drops = r.cli.drops;
    f.backend = r.cli.backend;
    f.lost = r.cli.lostReported;
    missing = r.cli.missing;
  } else if (r.peer) {
    f.lost = r.peer.reportedLost;
    missing = Math.max(0, r.peer.expected - r.peer.events);
  }
  f.missing = missing;
  f.missingNoDrop = Number.isFinite(missing) ? Math.max(0, missing - (Number.isFinite(f.lost) ? f.lost : 0)) : NaN;
  return f;
}

interface Stat { n: number; med: number; min: number; max: number }
function stat(xs: number[]): Stat {
  const v = xs.filter((x) => Number.isFinite(x));
  return { n: v.length, med: median(v), min: v.length ? Math.min(...v) : NaN, max: v.length ? Math.max(...v) : NaN };
}

interface CompareRow {
  kind: string;
  /** The kind, with the backend auto chose: socktop-json[auto:cgroup]. */
  label: string;
  runs: number;
  failed: number;
  /** Runs that started on a busy machine or stayed disturbed through every try. */
  noisy: number;
  genRate: Stat; pctOfBase: Stat; cpuPct: Stat; rssMB: Stat; lost: Stat; missing: Stat; missingNoDrop: Stat; attachMs: Stat;
}

interface SeenRun { rep: number; seen: Partial<LoadTruth>; truth: LoadTruth; drops: Record<string, number>; missing: number; missingNoDrop: number }

interface Summary {
  rate: number;
  baselineRates: number[];
  baselineRate: number;
  /** Per rate, every tool and mode: medians with min-max over the reps. */
  compare: CompareRow[];
  /** The headless (tui) pipeline in detail, per run kind: its median run by workload rate. */
  socktop: Record<string, Record<string, unknown>>;
  /** Every socktop mode's seen / truth, per run. */
  socktopSeen: Record<string, SeenRun[]>;
  peers: Record<string, unknown>[];
}

function summarize(rate: number, runs: RunRecord[]): Summary {
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
      seen: headlessSeen(h, gt),
      stateEventsOnPorts: portStates, stateChangesExpected: STATE_CHANGES(gt),
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

const rateName = (r: number): string => (r === 0 ? 'max' : `${r / 1000}k/s`);

/** "median [min-max]" (just the value for one run or no spread). */
function fStat(st: Stat, fmt: (x: number) => string): string {
  if (st.n === 0) return '-';
  const m = fmt(st.med);
  if (st.n === 1 || fmt(st.min) === fmt(st.max)) return m;
  return `${m} [${fmt(st.min)}-${fmt(st.max)}]`;
}

/** Seen / truth of one category over the reps: one run as "seen/truth ✓", several as the shortfall. */
function seenCell(rs: SeenRun[], c: keyof LoadTruth): string {
  if (rs.length === 0) return '-';
  if (rs.some((r) => r.seen[c] === undefined)) return '-';
  if (rs.length === 1) return seenVsTruth(rs[0].seen[c], rs[0].truth[c]);
  const short = rs.map((r) => r.truth[c] - (r.seen[c] as number));
  const truth = median(rs.map((r) => r.truth[c]));
  if (short.every((d) => d === 0)) return `all equal ✓ (${f0(truth)})`;
  return `short ${fStat(stat(short), f0)} of ${f0(truth)} ✗`;
}

function printReport(runs: RunRecord[], summaries: Summary[], notes: Record<string, string>): void {
  console.log('\nAll runs (loadgen ground truth; "other" = CPU used by anything else on the machine during the load, in cores;');
  console.log(`"foreign" = tracing BPF programs of somebody else attached during the load; a run with other > ${O.maxOther}`);
  console.log(`or foreign programs is tried again, up to ${O.retries} times, and the least disturbed try is kept)`);
  const rows = [['rate', 'run', 'conn/s', 'ok', 'refused', 'accepts', 'failed', 'load µs/conn', 'tool CPU%', 'RSS MB', 'attach ms', 'other', 'foreign', 'tries', 'clean']];
  for (const r of runs) {
    const g = r.load?.gt;
    rows.push([
      rateName(r.rate), r.kind + (O.reps > 1 ? `#${r.rep + 1}` : ''), g ? f0(g.rate) : 'FAILED',
      g ? String(g.connects_ok) : '-', g ? String(g.connects_refused) : '-', g ? String(g.accepts) : '-',
      g ? String(g.connects_failed_other + g.exchanges_failed + g.aborted_at_end) : '-',
      r.load ? f1(loadUsPerConn(r.load)) : '-',
      r.tool ? f1(r.tool.cpuPctOfCore) : '-', r.tool ? f1(r.tool.peakRssMB) : '-', r.tool ? f0(r.tool.attachWallMs) : '-',
      r.otherCores !== undefined ? r.otherCores.toFixed(2) : '-', String(r.foreignPrograms?.length ?? '-'),
      String(1 + (r.discarded?.length ?? 0)),
      r.noisy || !r.quiet.quiet ? 'NO' : 'yes',
    ]);
    if (r.error) rows[rows.length - 1].push(r.error.slice(0, 60));
  }
  console.log(table(rows));

  // ---------------------------------------------------------------- headless pipeline in detail
  const tuiCols = summaries.flatMap((s) => Object.keys(s.socktop).map((kind) => ({ s, kind })));
  if (tuiCols.length) {
    console.log(`\nsocktop (bench/headless: the TUI's capture + model pipeline, no screen${O.reps > 1 ? '; the median run by workload rate' : ''})`);
    const srows: string[][] = [['', ...tuiCols.map((c) => `${rateName(c.s.rate)} ${c.kind}`), 'target']];
    const add = (label: string, f: (x: Record<string, any>, s: Summary) => string, target = ''): void => { // eslint-disable-line @typescript-eslint/no-explicit-any
      srows.push([label, ...tuiCols.map((c) => f(c.s.socktop[c.kind], c.s)), target]);
    };
    add('backend', (x) => String(x.backend));
    add('workload conn/s without socktop', (_x, s) => `${f0(s.baselineRate)} (${s.baselineRates.map(f0).join(', ')})`);
    add('workload conn/s with socktop', (x) => f0(x.genRate));
    add('  with / without', (x) => `${f1(x.genRatePct)}%`, '>= 85%');
    add('connects ok seen / truth', (x) => seenVsTruth(x.seen.connectsOk, x.gt.connectsOk), 'equal');
    add('refused seen / truth', (x) => seenVsTruth(x.seen.refused, x.gt.refused), 'equal');
    add('accepts seen / truth', (x) => seenVsTruth(x.seen.accepts, x.gt.accepts), 'equal');
    add('client closes seen / attempts', (x) => seenVsTruth(x.seen.clientCloses, x.gt.attempts), 'equal');
    add('server closes seen / accepts', (x) => seenVsTruth(x.seen.serverCloses, x.gt.accepts), 'equal');
    add('state changes told (load) / kernel', (x) => seenVsTruth(x.stateEventsOnPorts, x.stateChangesExpected), 'equal');
    add('events delivered / emitted', (x) => `${x.delivered}/${x.emitted} (${x.deliveredRatio === null ? '-' : (100 * x.deliveredRatio).toFixed(3)}%)`, '100%');
    add('drops: BPF ring / shared ring', (x) => `${x.drops.bpfRing} / ${x.drops.sharedRing}`, '0 / 0');
    add('load CPU µs/conn without / with', (x) => `${f1(x.baselineUsPerConn)} / ${f1(x.loadUsPerConn)}`);
    add('socktop CPU µs per connection', (x) => f1(x.socktopUsPerConn));
    add('socktop CPU, % of one core', (x) => f1(x.cpuPctOfCore), '< 10% at 10k/s');
    add('  main / worker / other threads, %', (x) => ['main', 'worker', 'other'].map((k) => f1(pctOfLoad(x, k))).join(' / '));
    add('BPF ns per program run', (x) => f0(x.bpfNsPerRun), '< 1000');
    add('BPF ns per event emitted', (x) => f0(x.bpfNsPerEvent));
    add('BPF ns per connection attempt', (x) => f0(x.bpfNsPerConnection));
    add('peak RSS MB', (x) => f1(x.maxRssMB), '< 100');
    add('attach: addon open() ms', (x) => f1(x.attachMs));
    add('attach: process start -> ready ms', (x) => f1(x.readyMs), '< 500');
    add('attach: spawn -> ready ms (outside)', (x) => f0(x.attachWallMs));
    console.log(table(srows));
  }

  // ---------------------------------------------------------------- every socktop mode: seen / truth
  const seenCols = summaries.flatMap((s) => Object.keys(s.socktopSeen).map((label) => ({ s, label, rs: s.socktopSeen[label] })));
  if (seenCols.length) {
    console.log(`\nsocktop's modes: the load's events seen / loadgen's truth${O.reps > 1 ? ` (over ${O.reps} reps: "all equal", or how many short, median [min-max])` : ''}`);
    console.log('(tui: the model\'s counters for loadgen\'s processes; json and record: the lines on the load\'s ports, closes once per socket)');
    const rows2: string[][] = [['', ...seenCols.map((c) => `${rateName(c.s.rate)} ${c.label}`)]];
    const add = (label: string, f: (rs: SeenRun[]) => string): void => void rows2.push([label, ...seenCols.map((c) => f(c.rs))]);
    add('connects ok seen / truth', (rs) => seenCell(rs, 'connectsOk'));
    add('refused seen / truth', (rs) => seenCell(rs, 'refused'));
    add('accepts seen / truth', (rs) => seenCell(rs, 'accepts'));
    add('client closes seen / attempts', (rs) => seenCell(rs, 'clientCloses'));
    add('server closes seen / accepts', (rs) => seenCell(rs, 'serverCloses'));
    add('drops kernel_miss / bpf_ring / shared_ring / recording', (rs) => (rs.length
      ? ['kernel_miss', 'bpf_ring', 'shared_ring', 'recording'].map((k) => fStat(stat(rs.map((r) => r.drops[k] ?? 0)), f0)).join(' / ')
      : '-'));
    add('missing (truth - seen)', (rs) => fStat(stat(rs.map((r) => r.missing)), f0));
    add('missing with no drop reported', (rs) => fStat(stat(rs.map((r) => r.missingNoDrop)), f0));
    console.log(table(rows2));
  }

  // ---------------------------------------------------------------- side by side
  for (const s of summaries) {
    console.log(`\nrate ${rateName(s.rate)}: every tool on the same load${O.reps > 1 ? ` (median [min-max] over ${O.reps} reps)` : ''}; baseline ${f0(s.baselineRate)} conn/s (mean of ${s.baselineRates.length})`);
    const crows = [['tool', 'runs', 'conn/s', '% of base', 'CPU % core', 'peak RSS MB', 'lost (reported)', 'missing, no drop rep.', 'attach ms']];
    for (const c of s.compare) {
      crows.push([
        c.label, `${c.runs - c.failed}${c.failed ? ` (${c.failed} failed)` : ''}${c.noisy ? ` (${c.noisy} noisy)` : ''}`, fStat(c.genRate, f0), fStat(c.pctOfBase, f1),
        fStat(c.cpuPct, f1), fStat(c.rssMB, f0), fStat(c.lost, f0), fStat(c.missingNoDrop, f0), fStat(c.attachMs, f0),
      ]);
    }
    console.log(table(crows));
  }
  console.log('(lost / missing: socktop modes count connects ok, refused, accepts, client and server closes; tcplife and tcplife-bpfcc');
  console.log(' lines, one per session; tcpstates lines and bpftrace its in-kernel count, one per state change. "lost (reported)":');
  console.log(' what the tool itself said it dropped (socktop: drops per stage; libbpf-tools/BCC: "lost N events"); "missing, no drop');
  console.log(' rep.": truth - seen - reported, at least 0: events gone without the tool saying so)');

  if (summaries.some((s) => s.peers.length)) {
    console.log('\nPeers on the same load, per run (conn/s % = workload rate with the tool / mean baseline)');
    const prows = [['rate', 'tool', 'conn/s', '% of base', 'CPU %', 'attach ms', 'BPF ns/run', 'events seen / expected', 'lost', 'attributed to']];
    for (const s of summaries) {
      for (const [kind, x] of Object.entries(s.socktop) as [string, Record<string, any>][]) { // eslint-disable-line @typescript-eslint/no-explicit-any
        prows.push([rateName(s.rate), kind, f0(x.genRate), `${f1(x.genRatePct)}%`, f1(x.cpuPctOfCore), f0(x.attachWallMs),
          f0(x.bpfNsPerRun), `${x.stateEventsOnPorts}/${x.stateChangesExpected} state`, String(x.stateChangesExpected - x.stateEventsOnPorts), 'by socket owner']);
      }
      for (const p of s.peers as Record<string, any>[]) { // eslint-disable-line @typescript-eslint/no-explicit-any
        const lost = p.expected - p.events;
        const comms = Object.entries(p.byComm as Record<string, number>).map(([c, n]) => `${c} ${n}`).join(', ');
        prows.push([rateName(s.rate), p.peer + (O.reps > 1 ? `#${p.rep + 1}` : ''), f0(p.genRate), `${f1(p.genRatePct)}%`, f1(p.cpuPctOfCore), f0(p.attachWallMs),
          f0(p.bpfNsPerRun), `${p.events}/${p.expected}`, `${lost} (${f1((100 * lost) / p.expected)}%)${p.reportedLost ? ` [says ${p.reportedLost}]` : ''}`,
          comms || '-']);
      }
    }
    console.log(table(prows));
  }
  for (const [k, v] of Object.entries(notes)) console.log(`note: ${k}: ${v}`);
}

/** A thread role's CPU over the load as % of one core. */
function pctOfLoad(x: Record<string, any>, role: string): number { // eslint-disable-line @typescript-eslint/no-explicit-any
  const t = x.cpuThreads?.[role];
  return t && x.cpuWallMs ? (100 * (t.userMs + t.sysMs)) / x.cpuWallMs : NaN;
}

// ------------------------------------------------------------------------------------ main

/** What was measured: the commit, uncommitted changes in the capture path, the BPF object's hash. */
export function provenance(): Record<string, unknown> {
  const git = (...args: string[]): string => {
    try {
      return execFileSync('git', ['-C', ROOT, ...args], { encoding: 'utf8' }).trim();
    } catch {
      return '';
    }
  };
  const sha = (f: string): string | null => {
    try {
      return crypto.createHash('sha256').update(fs.readFileSync(path.join(ROOT, f))).digest('hex').slice(0, 16);
    } catch {
      return null;
    }
  };
  return {
    commit: git('rev-parse', '--short', 'HEAD'),
    dirty: git('status', '--porcelain', '--', 'bpf', 'native/src', 'src/capture', 'src/model', 'src/ui/pump.ts', 'src/cli/live.ts', 'bench')
      .split('\n').filter(Boolean),
    bpfObjectSha256: sha('bpf/socktop.bpf.o'),
    addonSha256: sha('native/build/Release/socktop.node'),
  };
}

/** --report FILE: the tables again from a raw results file (no runs, no root). */
function reprint(file: string): number {
  const r = JSON.parse(fs.readFileSync(file, 'utf8')) as { options: typeof O; notes: Record<string, string>; runs: RunRecord[] };
  O.reps = r.options.reps;
  O.maxOther = r.options.maxOther;
  O.retries = r.options.retries;
  const rates = [...new Set(r.runs.map((x) => x.rate))];
  printReport(r.runs, rates.map((rate) => summarize(rate, r.runs.filter((x) => x.rate === rate))), r.notes ?? {});
  return 0;
}

async function main(): Promise<number> {
  const reportFile = argValue('report');
  if (reportFile) return reprint(reportFile);
  if (process.getuid?.() !== 0) {
    console.error('storm: needs root (BPF, network namespaces)');
    return 1;
  }
  if (!fs.existsSync(LOADGEN)) execFileSync('sh', [path.join(ROOT, 'bench/build-loadgen.sh')], { stdio: 'inherit' });
  const { peers, notes } = preparePeers();
  if (O.modes.includes('record') && !recordHasQuiet()) {
    notes['socktop-record'] = 'this build\'s `socktop record` has no --quiet: run without it (a status line a second on stderr, to a pipe)';
  }
  const statsWas = readSysctl('kernel.bpf_stats_enabled');
  const restore = (): void => {
    if (statsWas !== null) writeSysctl('kernel.bpf_stats_enabled', statsWas);
  };
  const onSignal = (): void => {
    for (const c of live) c.kill('SIGTERM');
    removeTempFiles();
    restore();
    process.exit(130);
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);

  const started = new Date();
  const runs: RunRecord[] = [];
  try {
    // socktop's modes, backend by backend, then the peers.
    const socktopKinds = O.probes.flatMap((probe) => O.modes.map((mode) => socktopKind(mode, probe)));
    log(`runs per rate and rep: baseline, ${[...socktopKinds, ...peers].join(', ')} (and a closing baseline)`);
    for (const rate of O.rates) {
      const order: RunKind[] = ['baseline', ...socktopKinds, ...peers, 'baseline'];
      for (let rep = 0; rep < O.reps; rep++) {
        for (let i = 0; i < order.length; i++) {
          const kind = order[i];
          if (kind === 'baseline' && i > 0 && rep < O.reps - 1) continue; // one closing baseline per rate
          // Peers' BPF run times: kernel.bpf_stats_enabled while they run (socktop holds its own;
          // for socktop record, whose attach is seen by its programs running, it is on as well).
          const st = parseSocktopKind(kind);
          const peer = kind !== 'baseline' && (!st || st.mode === 'record');
          if (peer) writeSysctl('kernel.bpf_stats_enabled', '1');
          try {
            runs.push(await measuredRun(rate, kind, rep));
          } finally {
            if (peer) restore();
          }
        }
      }
    }
  } finally {
    restore();
  }

  const summaries = O.rates.map((rate) => summarize(rate, runs.filter((r) => r.rate === rate)));
  printReport(runs, summaries, notes);

  const result = {
    bench: 'storm',
    provenance: provenance(),
    date: started.toISOString(),
    host: os.hostname(), kernel: os.release(), cpus: os.cpus().length, node: process.version,
    options: O,
    loadgenArgs: loadgenArgs(-1).join(' ').replace('--rate -1', '--rate R'),
    notes,
    summaries,
    runs,
  };
  const outFile = O.out ?? path.join(ROOT, 'bench/results', `storm-${started.toISOString().replace(/[:]/g, '-').replace(/\..*/, '')}.json`);
  fs.mkdirSync(path.dirname(outFile), { recursive: true });
  fs.writeFileSync(outFile, `${JSON.stringify(result, null, 2)}\n`);
  console.log(`\nraw results: ${path.relative(process.cwd(), outFile)}`);
  return runs.some((r) => r.error && (r.kind === 'baseline' || parseSocktopKind(r.kind))) ? 1 : 0;
}

if (require.main === module) {
  main().then((code) => { process.exitCode = code; }, (e) => {
    console.error(e);
    process.exitCode = 1;
  });
}
