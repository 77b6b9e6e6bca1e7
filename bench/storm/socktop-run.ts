/**
 * bench/storm/socktop-run.ts: socktop's pipeline as the TUI runs it, without a screen
 * (bench/headless.js), attached before the load starts; what it reports and what it cost.
 */
import { spawn } from 'node:child_process';
import { setTimeout as sleep } from 'node:timers/promises';
import { trackChild } from './cleanup';
import { type LoadOptions, type LoadResult, REFUSED_PORT, SERVER_PORT, runLoad } from './load';
import { HEADLESS, socktopNodeFlags } from './paths';

/** bench/headless.js's JSON line (the fields the storm reads). */
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

/** A tool on the load, seen from outside (socktop in any mode, or a peer). */
export interface ToolRun {
  attachWallMs: number; // spawn -> attached, seen from outside
  cpuMs: number; // over the load (start -> caught up)
  cpuPctOfCore: number;
  pid: number;
  progIds: number[]; // its BPF programs
  peakRssMB?: number; // VmHWM just before it was stopped (headless: its maxRSS)
}

/**
 * bench/headless.js with `headlessArgs` on the load; `probe` (a backend for --probe) unless null;
 * under `nodeFlags` (default: the executable's, as the TUI runs).
 */
export async function runSocktop(
  rate: number, load: LoadOptions, headlessArgs: string[], probe: string | null = null, nodeFlags = socktopNodeFlags(),
): Promise<{ load: LoadResult; headless: HeadlessResult; tool: ToolRun }> {
  const t0 = Date.now();
  const probeArgs = probe === null ? [] : ['--probe', probe];
  const child = spawn(process.execPath, [...nodeFlags, HEADLESS, '--ports', `${SERVER_PORT},${REFUSED_PORT}`, ...probeArgs, ...headlessArgs], {
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  trackChild(child);
  let out = '';
  let err = '';
  child.stdout!.on('data', (d) => (out += d));
  const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
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
  const loadResult = await runLoad(rate, load);
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
    load: loadResult, headless,
    tool: {
      attachWallMs, cpuMs, cpuPctOfCore: lc ? lc.pctOfCore : NaN, pid: child.pid ?? 0, progIds: headless.attach.programIds ?? [],
      peakRssMB: headless.maxRssMB,
    },
  };
}
