/**
 * check.ts: `socktop check`: what this kernel offers (BTF, cgroup hooks, kprobes, fentry, tracefs, each
 * tracepoint the tracepoint backend uses), whether we have the privileges, and which backend
 * --probe (auto by default) picks and why. Exit 1 when socktop cannot run here.
 */
import * as os from 'os';
import type { ProbeChoice } from '../../capture/addon';
import type { KernelSupport, Presence } from '../../capture/kernel';
import { NEEDS_PRIVILEGES } from '../errors';

export interface CheckDeps {
  detect?: () => KernelSupport;
  choose?: (requested: ProbeChoice, support: KernelSupport) => { backend: string; reason: string };
}

function yn(p: Presence): string {
  return p === 'unknown' ? 'unknown' : p ? 'yes' : 'no';
}

function row(label: string, value: string): string {
  return `  ${label.padEnd(34)} ${value}`;
}

/** The fentry probe needs the addon and privileges; without either the answer is 'unknown'. */
function fentryProbe(): (() => boolean) | undefined {
  try {
    // eslint-disable-next-line @typescript-eslint/no-var-requires
    const { loadAddon } = require('../../capture/addon') as typeof import('../../capture/addon');
    const addon = loadAddon();
    return () => addon.probeFentry();
  } catch {
    return undefined;
  }
}

async function defaultDeps(): Promise<Required<CheckDeps>> {
  const kernel = await import('../../capture/kernel');
  const backend = await import('../../capture/backend');
  const probeFentry = fentryProbe();
  return {
    detect: () => kernel.detectKernelSupport({ probeFentry }),
    choose: backend.chooseBackend,
  };
}

/** Print the report; returns the exit code (0: socktop can run here). */
export async function runCheck(probe: ProbeChoice, out: NodeJS.WritableStream = process.stdout, deps: CheckDeps = {}): Promise<number> {
  const d = { ...(await defaultDeps()), ...deps };
  const s = d.detect();
  const lines = [`socktop check: kernel ${os.release()} (${os.arch()}) on ${os.hostname()}`];
  lines.push(row('BTF (/sys/kernel/btf/vmlinux)', s.btf ? 'yes' : 'no: CO-RE needs CONFIG_DEBUG_INFO_BTF=y'));
  lines.push(row('cgroup socket hooks (kernel 5.9+)', s.cgroup.hooks ? 'yes' : 'no'));
  lines.push(row('cgroup v2', s.cgroup.mount ?? 'not mounted (socktop mounts it at /run/socktop/cgroup2 when it starts, as root)'));
  lines.push(row('kprobes', s.kprobes ? 'yes' : 'no (CONFIG_KPROBES off)'));
  lines.push(row('fentry', s.fentry === 'unknown' ? 'unknown (probing needs privileges)' : yn(s.fentry)));
  lines.push(row('tracefs', s.tracefs ?? 'not mounted (socktop mounts it at /sys/kernel/tracing when it starts, as root)'));
  lines.push('  tracepoints (tracepoint backend):');
  for (const t of s.tracepoints) {
    const opt = t.required ? '' : ' (optional)';
    const value = t.present === 'unknown' ? 'unknown until tracefs is mounted' : yn(t.present);
    lines.push(row(`  ${t.name}${opt}`, value));
  }
  const p = s.privileges;
  const privText = p.sufficient
    ? `yes (${p.capSysAdmin ? 'CAP_SYS_ADMIN' : 'CAP_BPF+CAP_PERFMON'})`
    : 'no: needs root or CAP_BPF+CAP_PERFMON';
  lines.push(row('privileges', privText));
  const problems: string[] = [];
  try {
    const c = d.choose(probe, s);
    lines.push(`backend (--probe ${probe}): ${c.backend}: ${c.reason}`);
  } catch (e) {
    const msg = String((e as Error).message ?? e).split('\n')[0];
    lines.push(`backend (--probe ${probe}): none: ${msg}`);
    problems.push(msg);
  }
  if (!p.sufficient) problems.push(NEEDS_PRIVILEGES);
  lines.push(problems.length === 0 ? 'socktop can run here.' : `socktop cannot run here: ${problems.join('; ')}`);
  out.write(lines.join('\n') + '\n');
  return problems.length === 0 ? 0 : 1;
}
