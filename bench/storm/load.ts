/**
 * bench/storm/load.ts: the load: one bounded run of bench/loadgen (the C load generator) in a fresh
 * network namespace, its JSON (the ground truth every tool is checked against), and the figures
 * derived from it alone.
 */
import { spawn } from 'node:child_process';
import * as os from 'node:os';
import { trackChild } from './cleanup';
import { machineJiffies, tracingPrograms } from './host';
import type { StormOptions } from './options';
import { LOADGEN, NETNS } from './paths';

/** The load's fixed ports, so every tool's output can be cut to the load's own events. */
export const SERVER_PORT = 5001;
export const REFUSED_PORT = 5002;

/** The options that shape the load. */
export type LoadOptions = Pick<StormOptions, 'duration' | 'grace' | 'threads' | 'sources' | 'concurrency' | 'refusedEvery'>;

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

export function loadgenArgs(rate: number, o: LoadOptions): string[] {
  return [
    '--rate', String(rate), '--duration', String(o.duration), '--grace', String(o.grace),
    '--threads', String(o.threads), '--sources', String(o.sources), '--concurrency', String(o.concurrency),
    '--refused-every', String(o.refusedEvery), '--port', String(SERVER_PORT), '--refused-port', String(REFUSED_PORT),
  ];
}

/** The CPU of the wrapping shell's children (its `times` line on stderr), ms; NaN without one. */
function childrenCpuMs(stderr: string): number {
  const times = [...stderr.matchAll(/(\d+)m([\d.]+)s\s+(\d+)m([\d.]+)s/g)].pop();
  return times ? (Number(times[1]) * 60 + Number(times[2]) + Number(times[3]) * 60 + Number(times[4])) * 1000 : NaN;
}

/** One bounded loadgen run in a fresh network namespace. */
export function runLoad(rate: number, o: LoadOptions): Promise<LoadResult> {
  // The wrapping shell's `times` prints its children's CPU: loadgen, which waited for its two.
  const script = '"$0" "$@"; rc=$?; times >&2; exit $rc';
  const m0 = machineJiffies();
  const t0 = Date.now();
  const child = spawn(NETNS, ['sh', '-c', script, LOADGEN, ...loadgenArgs(rate, o)], { stdio: ['ignore', 'pipe', 'pipe'] });
  trackChild(child);
  let out = '';
  let err = '';
  child.stdout!.on('data', (d) => (out += d));
  child.stderr!.on('data', (d) => (err += d));
  const bound = setTimeout(() => child.kill('SIGTERM'), (o.duration + o.grace + 20) * 1000);
  return new Promise((resolve, reject) => {
    child.on('exit', (code) => {
      clearTimeout(bound);
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
      const machineBusyCores = ((m1.busy - m0.busy) / (m1.total - m0.total)) * os.cpus().length;
      resolve({ gt, wallMs, loadgenCpuMs: childrenCpuMs(err), machineBusyCores, startedAt: t0, tracingProgramsAtEnd: tracingPrograms() });
    });
  });
}

/** Connection attempts loadgen finished. */
export const finished = (gt: GroundTruth): number => gt.connects_ok + gt.connects_refused + gt.connects_failed_other;
/** loadgen's CPU per finished attempt (µs; BPF run in its context included). */
export const loadUsPerConn = (l: LoadResult): number => (l.loadgenCpuMs * 1000) / finished(l.gt);

/** Kernel state changes of the load: 10 per successful connection, 2 per refused one, 2 for the listener. */
export const stateChanges = (gt: GroundTruth): number => 10 * gt.connects_ok + 2 * gt.connects_refused + 2;
/** TCP sessions that end: 2 per successful connection, 1 per refused one. */
export const sessions = (gt: GroundTruth): number => 2 * gt.connects_ok + gt.connects_refused;

/** CPU used by anything else on the machine during the load (busy - loadgen - the tool), in cores. */
export function otherCores(l: LoadResult, toolCpuMs: number): number {
  return +(l.machineBusyCores - l.loadgenCpuMs / l.wallMs - toolCpuMs / l.wallMs).toFixed(3);
}

/** Somebody else's tracing programs attached at the end of the load. */
export function foreignAtEnd(l: LoadResult, own: number[]): string[] {
  return l.tracingProgramsAtEnd.filter((p) => !own.includes(Number(p.split(':')[0])));
}
