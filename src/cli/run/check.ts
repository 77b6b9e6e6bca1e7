/**
 * check.ts: `socktop check`: what this kernel offers (BTF, cgroup hooks, kprobes, tracefs, each
 * tracepoint the tracepoint backend uses), which capabilities each backend needs and which of them
 * this process holds (and what the optional ones add), and which backend --probe (auto by default)
 * picks and why. Exit 1 when socktop cannot run here.
 */
import * as os from 'os';
import type { Backend, ProbeChoice } from '../../capture/addon';
import {
  backendProblem, CAPABILITY_NAMES, capabilityNames, Credentials, missingRequired, needsFor, NeedState, requiredSet,
} from '../../capture/capabilities';
import type { KernelSupport, Presence } from '../../capture/kernel';
import type { UnixFeature } from '../../capture/unix-support';
import { NEEDS_PRIVILEGES } from '../errors';
import { firstLine } from '../../one-line';

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

async function defaultDeps(): Promise<Required<CheckDeps>> {
  const kernel = await import('../../capture/kernel');
  const backend = await import('../../capture/backend');
  return {
    detect: () => kernel.detectKernelSupport(),
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
  // tracefs is mode 0700: as another user it looks absent, but mountinfo still lists it.
  const unreadable = s.tracefs === null && s.tracefsMount ? s.tracefsMount : null;
  lines.push(row('tracefs', s.tracefs
    ?? (unreadable
      ? `mounted at ${unreadable}, but not readable by you (root can read it)`
      : 'not mounted (socktop mounts it at /sys/kernel/tracing when it starts, as root)')));
  lines.push('  tracepoints (tracepoint backend):');
  for (const t of s.tracepoints) {
    const opt = t.required ? '' : ' (optional)';
    const unknown = unreadable ? 'unknown (tracefs not readable by you)' : 'unknown until tracefs is mounted';
    const value = t.present === 'unknown' ? unknown : yn(t.present);
    lines.push(row(`  ${t.name}${opt}`, value));
  }
  if (s.unix) lines.push(...unixLines(s.unix));
  const p = s.privileges;
  let chosen: { backend: string; reason: string } | null = null;
  let chooseError: string | null = null;
  try {
    chosen = d.choose(probe, s);
  } catch (e) {
    chooseError = firstLine(String((e as Error).message ?? e));
  }
  const backend = chosen?.backend as Backend | undefined;
  const states = backend ? needsFor(backend, s) : null;
  if (s.credentials && s.access) lines.push(...capabilityLines(s, s.credentials));
  let privilegeProblem: string | null;
  if (backend && states) {
    privilegeProblem = backendProblem(probe, backend, s) ?? null;
    lines.push(row('privileges', privilegeProblem
      ? `no: needs root or ${requiredSet(states)} for the ${backend} backend; missing ${missingRequired(states).join(', ')}`
      : `yes for the ${backend} backend`));
  } else {
    // No backend chosen, or no facts to judge by: the rule every backend shares.
    privilegeProblem = p.sufficient ? null : NEEDS_PRIVILEGES;
    lines.push(row('privileges', p.sufficient
      ? `yes (${p.capSysAdmin ? 'CAP_SYS_ADMIN' : 'CAP_BPF+CAP_PERFMON'})`
      : 'no: needs root or CAP_BPF+CAP_PERFMON'));
  }
  const problems: string[] = [];
  if (chosen) {
    lines.push(`backend (--probe ${probe}): ${chosen.backend}: ${chosen.reason}`);
  } else {
    lines.push(`backend (--probe ${probe}): none: ${chooseError}`);
    problems.push(chooseError ?? 'no backend');
  }
  if (privilegeProblem) problems.push(privilegeProblem);
  lines.push(problems.length === 0 ? 'socktop can run here.' : `socktop cannot run here: ${problems.join('; ')}`);
  out.write(lines.join('\n') + '\n');
  return problems.length === 0 ? 0 : 1;
}

/** Unix-domain sockets: each feature, and what is lost without it. The walk serves every backend;
 *  the rest needs the cgroup backend's BTF programs. */
function unixLines(features: UnixFeature[]): string[] {
  const lines = ['  unix sockets (cgroup and tracepoint backends; the walk: every backend):'];
  for (const f of features) {
    const value = f.present === 'unknown' ? 'unknown (kernel BTF not readable)' : f.present ? `yes: ${f.gives}` : `no: ${f.without}`;
    lines.push(row(`  ${f.label}`, value));
  }
  return lines;
}

/** The backends worth listing here: those this kernel could run. */
function candidateBackends(s: KernelSupport): Backend[] {
  const out: Backend[] = [];
  if (s.cgroup.hooks) out.push('cgroup');
  out.push('tracepoint');
  if (s.kprobes) out.push('kprobe');
  return out;
}

function capabilityState(n: NeedState, creds: Credentials): string {
  if (!n.present) return n.required ? 'MISSING' : 'missing';
  // Present through an alternative (CAP_SYS_ADMIN for CAP_BPF, CAP_DAC_OVERRIDE for ...): say which.
  if (n.missing.length === 0) return 'yes';
  const via = n.alternatives.find((set) => set.every((c) => capabilityNames(creds.effective).includes(c)));
  return via ? `yes (${via.join('+')})` : 'yes';
}

/**
 * Per backend, each capability it needs here with present / MISSING, then the optional ones and
 * what is lost without them. The needs depend on the host: uid 0 reads root's tracefs without
 * CAP_DAC_READ_SEARCH; an unmounted tracefs or cgroup v2 adds CAP_SYS_ADMIN to mount it.
 */
function capabilityLines(s: KernelSupport, creds: Credentials): string[] {
  const held = capabilityNames(creds.effective);
  const lacking = CAPABILITY_NAMES.filter((c) => !held.includes(c));
  const effective = held.length === 0 ? 'none'
    : lacking.length === 0 ? 'all'
      : held.length > 12 && lacking.length <= 4 ? `all but ${lacking.join(' ')}` : held.join(' ');
  const lines = [row('capabilities', `uid ${creds.uid}; effective: ${effective}`)];
  let optional: NeedState[] = [];
  for (const backend of candidateBackends(s)) {
    const states = needsFor(backend, s) ?? [];
    const missing = missingRequired(states);
    const verdict = missing.length === 0 ? 'has them all' : `missing ${missing.join(', ')}`;
    lines.push(`  ${backend} backend needs ${requiredSet(states)}: ${verdict}`);
    for (const n of states.filter((x) => x.required)) {
      lines.push(row(`  ${n.caps.join('+')}`, `${capabilityState(n, creds)}: ${n.for}`));
    }
    optional = states.filter((x) => !x.required);
  }
  lines.push('  optional (every backend):');
  for (const n of optional) {
    const state = capabilityState(n, creds);
    lines.push(row(`  ${n.caps.join('+')}`, n.present ? `${state}: ${n.for}` : `${state}: without ${n.caps.length > 1 ? 'them' : 'it'}, ${n.without}`));
  }
  return lines;
}
