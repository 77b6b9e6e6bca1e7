/**
 * bench/storm/peers.ts: the peer tools on the same load (libbpf-tools tcplife and tcpstates, a
 * bpftrace one-liner, BCC's tcplife-bpfcc): how each is started, how its output is cut to the
 * load's own events and what the ground truth says it should count, and one measured run.
 */
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { trackChild } from './cleanup';
import { bpfPrograms, peakRssMB, procCpuMs, progIdsOf, waitProgramRun } from './host';
import { type GroundTruth, type LoadOptions, type LoadResult, REFUSED_PORT, SERVER_PORT, runLoad, sessions, stateChanges } from './load';
import type { Peer } from './options';
import { BCC_KSRC } from './peer-install';
import type { ToolRun } from './socktop-run';

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

const BPFTRACE_PROG =
  `tracepoint:sock:inet_sock_set_state /args->protocol == 6 && (args->sport == ${SERVER_PORT} || args->dport == ${SERVER_PORT}`
  + ` || args->sport == ${REFUSED_PORT} || args->dport == ${REFUSED_PORT})/ { @events = count(); }`
  + ' BEGIN { printf("bpftrace-ready\\n"); }';

function peerSpec(peer: Peer): PeerSpec {
  switch (peer) {
    case 'tcplife':
      return {
        cmd: 'tcplife', args: [], what: 'lines (one per TCP session end; expected 2 per connection + 1 per refused)',
        count: (lines) => countByColumns(lines, 3, 5, 1), expected: sessions,
      };
    case 'tcplife-bpfcc':
      return {
        cmd: 'tcplife-bpfcc', args: [], env: { ...process.env, BCC_KERNEL_SOURCE: BCC_KSRC },
        what: 'lines (one per TCP session end)', count: (lines) => countByColumns(lines, 3, 5, 1), expected: sessions,
      };
    case 'tcpstates':
      return {
        cmd: 'tcpstates', args: [], what: 'lines (one per state change; expected 10 per connection + 2 per refused + 2)',
        count: (lines) => countByColumns(lines, 4, 6, 2), expected: stateChanges,
      };
    case 'bpftrace':
      return {
        cmd: 'bpftrace', args: ['-e', BPFTRACE_PROG], what: 'in-kernel count of inet_sock_set_state for the load',
        count: (lines) => {
          const m = /@events:\s*(\d+)/.exec(lines.join('\n'));
          return { events: m ? Number(m[1]) : 0, byComm: {} };
        },
        expected: stateChanges,
      };
  }
}

export interface PeerResult {
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

/** Caught up: its output stops growing (it streams what the kernel gave it); its CPU then. */
async function waitOutputSettled(outFile: string, pid: number): Promise<number> {
  let size = fs.statSync(outFile).size;
  let stableSince = Date.now();
  const flushUntil = Date.now() + 10000;
  let cpu = procCpuMs(pid);
  while (Date.now() < flushUntil && Date.now() - stableSince < 500) {
    await sleep(100);
    const s = fs.statSync(outFile).size;
    if (s !== size) {
      size = s;
      stableSince = Date.now();
      cpu = procCpuMs(pid);
    }
  }
  return cpu;
}

/** libbpf-tools and BCC report perf buffer overruns on stderr (same file): "lost N events" / "Possibly lost N samples". */
function reportedLost(lines: string[]): number {
  return lines.reduce((a, l) => {
    const m = /lost (\d+) (?:events|samples)/i.exec(l);
    return a + (m ? Number(m[1]) : 0);
  }, 0);
}

/** One peer on the load: attached first, stopped once its output settled; its output counted. */
export async function runPeer(peer: Peer, rate: number, o: LoadOptions): Promise<PeerResult> {
  const spec = peerSpec(peer);
  const outFile = path.join(os.tmpdir(), `socktop-storm-${peer}-${process.pid}.out`);
  const fd = fs.openSync(outFile, 'w');
  const t0 = Date.now();
  const child = spawn(spec.cmd, spec.args, { stdio: ['ignore', fd, fd], env: spec.env });
  fs.closeSync(fd);
  trackChild(child);
  let exitCode: number | null | undefined;
  const exited = new Promise<void>((r) => child.on('exit', (code) => {
    exitCode = code;
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
  const load = await runLoad(rate, o);
  const cpu1 = await waitOutputSettled(outFile, pid);
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
  const runCount = progs.reduce((a, p) => a + (p.run_cnt ?? 0), 0);
  const runTimeNs = progs.reduce((a, p) => a + (p.run_time_ns ?? 0), 0);
  const cpuMs = cpu1 - cpu0;
  return {
    peer, load, events, expected: spec.expected(load.gt), byComm, what: spec.what, outputLines: lines.length,
    reportedLost: reportedLost(lines),
    tool: { attachWallMs, cpuMs, cpuPctOfCore: (100 * cpuMs) / load.wallMs, pid, progIds, peakRssMB: rssMB },
    bpf: { programs: progs.length, runCount, runTimeNs, nsPerRun: runCount ? +(runTimeNs / runCount).toFixed(1) : null },
  };
}
