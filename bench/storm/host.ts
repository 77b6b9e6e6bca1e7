/**
 * bench/storm/host.ts: what the storm reads from the machine: CPU jiffies, a process's CPU and
 * peak RSS (/proc), the BPF programs loaded (bpftool) and held, executables on PATH, sysctls, and
 * the wait for a quiet machine before each run.
 */
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { log } from './log';
import type { StormOptions } from './options';

const CLK_TCK = 100;

/** Busy and total jiffies of the whole machine (/proc/stat "cpu" line). */
export function machineJiffies(): { busy: number; total: number } {
  const f = fs.readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/).slice(1).map(Number);
  const total = f.slice(0, 8).reduce((a, b) => a + b, 0); // user nice system idle iowait irq softirq steal
  return { busy: total - f[3] - f[4], total };
}

/** utime + stime of a process, all threads, in ms (NaN if gone). */
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

export interface BpfProg { id: number; type: string; name: string; run_cnt?: number; run_time_ns?: number }

/** Every BPF program loaded on the machine (bpftool; none if it fails). */
export function bpfPrograms(): BpfProg[] {
  try {
    return JSON.parse(execFileSync('bpftool', ['prog', 'show', '-j'], { encoding: 'utf8', maxBuffer: 64 << 20 })) as BpfProg[];
  } catch {
    return [];
  }
}

const TRACING_TYPES = new Set(['tracepoint', 'raw_tracepoint', 'kprobe', 'tracing', 'perf_event']);

/** Tracing BPF programs loaded now, as "id:name" (ours and anybody else's). */
export function tracingPrograms(): string[] {
  return bpfPrograms().filter((p) => TRACING_TYPES.has(p.type)).map((p) => `${p.id}:${p.name}`);
}

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

/** The path of an executable on PATH (and the sbin directories), or null. */
export function which(cmd: string): string | null {
  for (const dir of (process.env.PATH ?? '/usr/sbin:/usr/bin:/sbin:/bin').split(':').concat(['/usr/sbin', '/sbin'])) {
    const p = path.join(dir, cmd);
    try {
      fs.accessSync(p, fs.constants.X_OK);
      return p;
    } catch { /* next */ }
  }
  return null;
}

export function readSysctl(name: string): string | null {
  try {
    return fs.readFileSync(`/proc/sys/${name.replace(/\./g, '/')}`, 'utf8').trim();
  } catch {
    return null;
  }
}
export function writeSysctl(name: string, value: string): void {
  try {
    fs.writeFileSync(`/proc/sys/${name.replace(/\./g, '/')}`, value);
  } catch { /* best effort */ }
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

// ------------------------------------------------------------------------------------ machine quiet

export interface Quiet { waitedMs: number; busyCores: number; foreignPrograms: string[]; quiet: boolean }

/** Foreign tracing programs (attached by someone else) and the machine's busy cores over ~1 s. */
async function sampleQuiet(): Promise<{ busyCores: number; foreign: string[] }> {
  const a = machineJiffies();
  await sleep(1000);
  const b = machineJiffies();
  const busyCores = ((b.busy - a.busy) / (b.total - a.total)) * os.cpus().length;
  return { busyCores, foreign: tracingPrograms() };
}

/** Wait (up to --quiet-wait s) for the machine to be quiet; says whether it was. */
export async function waitQuiet(o: Pick<StormOptions, 'quietWaitSec' | 'quietCores'>): Promise<Quiet> {
  const t0 = Date.now();
  let s = await sampleQuiet();
  let warned = false;
  while ((s.busyCores > o.quietCores || s.foreign.length > 0) && Date.now() - t0 < o.quietWaitSec * 1000) {
    if (!warned) {
      log(`waiting for a quiet machine (busy ${s.busyCores.toFixed(2)} cores, ${s.foreign.length} foreign tracing BPF programs)...`);
      warned = true;
    }
    s = await sampleQuiet();
  }
  const quiet = s.busyCores <= o.quietCores && s.foreign.length === 0;
  if (!quiet) log(`machine still busy after ${o.quietWaitSec} s (busy ${s.busyCores.toFixed(2)} cores, foreign programs: ${s.foreign.slice(0, 4).join(', ')}${s.foreign.length > 4 ? ', ...' : ''}): run flagged noisy`);
  return { waitedMs: Date.now() - t0, busyCores: +s.busyCores.toFixed(3), foreignPrograms: s.foreign, quiet };
}
