/**
 * capabilities.ts: which Linux capabilities each backend needs, which only add something, and which
 * of them this process holds. Pure but for gatherAccessFacts (two stat calls), so every case is
 * unit-tested; kernel.ts gathers the facts, `socktop check` prints the verdict, live.ts refuses to
 * start without the required ones and names them.
 *
 * Found by experiment on 6.18 (README "Requirements"; test/live/capabilities.test.ts keeps it true):
 *   every backend  CAP_BPF (programs, maps) and CAP_PERFMON (tracing programs, tracepoint perf
 *                  events); CAP_SYS_ADMIN stands in for both.
 *                  kprobe/tracepoint: reading tracepoint ids from tracefs (root's, mode 0700):
 *                  free for uid 0 (its owner), CAP_DAC_READ_SEARCH (or CAP_DAC_OVERRIDE) for any
 *                  other user. The cgroup backend uses tp_btf programs: no tracefs at all.
 *   cgroup         CAP_NET_ADMIN as well: the kernel loads cgroup socket programs only with it (or
 *                  CAP_SYS_ADMIN). Attaching at the cgroup v2 root needs nothing more.
 *   mounting       tracefs or cgroup v2 when not mounted: CAP_SYS_ADMIN (and, as a non-root user,
 *                  CAP_DAC_OVERRIDE to create /run/socktop/cgroup2).
 *   optional       CAP_SYS_PTRACE with CAP_DAC_READ_SEARCH: the start snapshot reads other
 *                  processes' /proc/PID/fd; CAP_SYS_ADMIN: BPF run-time stats (BPF_ENABLE_STATS);
 *                  CAP_SETUID+CAP_SETGID: as uid 0, becoming the sudo user or nobody after attach.
 *   at run time    nothing: polling the ring, program stats, BPF_PROG_TEST_RUN of the flush program
 *                  and detaching all work on the descriptors already held, with no capability.
 */
import * as fs from 'fs';
import type { Backend } from './addon';

/** capability(7) names by number (linux/capability.h, up to CAP_CHECKPOINT_RESTORE). */
export const CAPABILITY_NAMES: readonly string[] = [
  'CAP_CHOWN', 'CAP_DAC_OVERRIDE', 'CAP_DAC_READ_SEARCH', 'CAP_FOWNER', 'CAP_FSETID', 'CAP_KILL',
  'CAP_SETGID', 'CAP_SETUID', 'CAP_SETPCAP', 'CAP_LINUX_IMMUTABLE', 'CAP_NET_BIND_SERVICE',
  'CAP_NET_BROADCAST', 'CAP_NET_ADMIN', 'CAP_NET_RAW', 'CAP_IPC_LOCK', 'CAP_IPC_OWNER',
  'CAP_SYS_MODULE', 'CAP_SYS_RAWIO', 'CAP_SYS_CHROOT', 'CAP_SYS_PTRACE', 'CAP_SYS_PACCT',
  'CAP_SYS_ADMIN', 'CAP_SYS_BOOT', 'CAP_SYS_NICE', 'CAP_SYS_RESOURCE', 'CAP_SYS_TIME',
  'CAP_SYS_TTY_CONFIG', 'CAP_MKNOD', 'CAP_LEASE', 'CAP_AUDIT_WRITE', 'CAP_AUDIT_CONTROL',
  'CAP_SETFCAP', 'CAP_MAC_OVERRIDE', 'CAP_MAC_ADMIN', 'CAP_SYSLOG', 'CAP_WAKE_ALARM',
  'CAP_BLOCK_SUSPEND', 'CAP_AUDIT_READ', 'CAP_PERFMON', 'CAP_BPF', 'CAP_CHECKPOINT_RESTORE',
];

/** The capabilities socktop's needs are made of. */
export type CapName =
  | 'CAP_DAC_OVERRIDE' | 'CAP_DAC_READ_SEARCH' | 'CAP_SETGID' | 'CAP_SETUID' | 'CAP_NET_ADMIN'
  | 'CAP_SYS_PTRACE' | 'CAP_SYS_ADMIN' | 'CAP_PERFMON' | 'CAP_BPF';

/** Who this process is, from /proc/self/status. */
export interface Credentials {
  /** The filesystem uid (what permission checks use; the effective uid in practice). */
  uid: number;
  gid: number;
  groups: number[];
  effective: bigint;
  permitted: bigint;
}

export function parseCredentials(status: string): Credentials {
  const ids = (key: string): number[] => {
    const m = new RegExp(`^${key}:[ \\t]*(.*)$`, 'm').exec(status);
    return m ? m[1].trim().split(/\s+/).filter((s) => s !== '').map(Number) : [];
  };
  const mask = (key: string): bigint => {
    const m = new RegExp(`^${key}:\\s*([0-9a-fA-F]+)`, 'm').exec(status);
    return m ? BigInt(`0x${m[1]}`) : 0n;
  };
  const uids = ids('Uid');
  const gids = ids('Gid');
  return {
    uid: uids[3] ?? uids[1] ?? -1,
    gid: gids[3] ?? gids[1] ?? -1,
    groups: ids('Groups'),
    effective: mask('CapEff'),
    permitted: mask('CapPrm'),
  };
}

export function hasCap(creds: Credentials, name: CapName): boolean {
  const bit = CAPABILITY_NAMES.indexOf(name);
  return bit >= 0 && ((creds.effective >> BigInt(bit)) & 1n) === 1n;
}

/** Names of the capabilities in a mask ("CAP_40+" style for unknown bits). */
export function capabilityNames(mask: bigint): string[] {
  const names: string[] = [];
  for (let bit = 0; mask >> BigInt(bit) !== 0n; bit++) {
    if (((mask >> BigInt(bit)) & 1n) === 1n) names.push(CAPABILITY_NAMES[bit] ?? `CAP_${bit}`);
  }
  return names;
}

/** What the host looks like, as far as the needs depend on it (kernel.ts fills it in). */
export interface AccessFacts {
  /** Where tracefs is mounted (/proc/self/mountinfo), or null. */
  tracefsMount: string | null;
  /** Its permissions let this uid read tracepoint ids without a DAC capability (uid 0 owns it). */
  tracefsOpenToUid: boolean;
  /** "/sys/kernel/tracing is mode 0700, owner root", for messages. */
  tracefsMode: string;
  /** A cgroup v2 hierarchy is mounted (else the cgroup backend mounts one). */
  cgroup2Mounted: boolean;
}

interface Owned {
  mode: number;
  uid: number;
  gid: number;
}

/** Whether plain file permissions (no capability) grant `want` (4 read, 1 search) to `creds`. */
export function dacAllows(file: Owned, creds: Credentials, want: number): boolean {
  let bits: number;
  if (creds.uid === file.uid) bits = (file.mode >> 6) & 7;
  else if (creds.gid === file.gid || creds.groups.includes(file.gid)) bits = (file.mode >> 3) & 7;
  else bits = file.mode & 7;
  return (bits & want) === want;
}

/** "/sys/kernel/tracing is mode 0700, owner root". */
export function describeMode(path: string, file: Owned): string {
  const owner = file.uid === 0 ? 'root' : `uid ${file.uid}`;
  return `${path} is mode ${(file.mode & 0o7777).toString(8).padStart(4, '0')}, owner ${owner}`;
}

function statOwned(p: string): Owned | null {
  try {
    const st = fs.statSync(p);
    return { mode: st.mode, uid: st.uid, gid: st.gid };
  } catch {
    return null;
  }
}

/**
 * The facts from the mounts kernel.ts found: whether tracefs's own modes let this uid read a
 * tracepoint id (its root directory searchable, the id file readable). What cannot be stat'ed is
 * taken as tracefs makes it: the directory 0700 and the id files 0440, owned by root.
 */
export function gatherAccessFacts(tracefsMount: string | null, cgroup2Mount: string | null, creds: Credentials): AccessFacts {
  const cgroup2Mounted = cgroup2Mount !== null;
  if (tracefsMount === null) return { tracefsMount, tracefsOpenToUid: creds.uid === 0, tracefsMode: '', cgroup2Mounted };
  const root = statOwned(tracefsMount) ?? { mode: 0o40700, uid: 0, gid: 0 };
  const id = statOwned(`${tracefsMount}/events/sched/sched_process_exit/id`) ?? { mode: 0o100440, uid: 0, gid: 0 };
  return {
    tracefsMount,
    tracefsOpenToUid: dacAllows(root, creds, 1) && dacAllows(id, creds, 4),
    tracefsMode: describeMode(tracefsMount, root),
    cgroup2Mounted,
  };
}

export interface Need {
  /** All of these... */
  caps: CapName[];
  /** ...or all of one of these sets. */
  alternatives: CapName[][];
  /** What needs it (one line). */
  for: string;
  /** False: the capture runs without it, and `without` says what is lost. */
  required: boolean;
  without?: string;
}

export interface NeedState extends Need {
  present: boolean;
  /** Of `caps`, the ones this process lacks. */
  missing: CapName[];
}

const BPF: Need = { caps: ['CAP_BPF'], alternatives: [['CAP_SYS_ADMIN']], for: 'loading BPF programs and maps', required: true };
const PERFMON: Need = {
  caps: ['CAP_PERFMON'], alternatives: [['CAP_SYS_ADMIN']], for: 'tracing programs, tracepoint perf events', required: true,
};
const NET_ADMIN: Need = {
  caps: ['CAP_NET_ADMIN'], alternatives: [['CAP_SYS_ADMIN']], for: 'cgroup socket programs', required: true,
};

/** The snapshot of existing sockets reads /proc/PID/fd of every process (ptrace access + DAC). */
export const SNAPSHOT_NEED: Need = {
  caps: ['CAP_SYS_PTRACE', 'CAP_DAC_READ_SEARCH'],
  alternatives: [['CAP_SYS_PTRACE', 'CAP_DAC_OVERRIDE']],
  for: "owners of the sockets that existed at start (other processes' /proc/PID/fd)",
  required: false,
  without: "the sockets that existed at start are not shown for other users' processes (nor for processes holding capabilities socktop lacks)",
};

/** Classic tracepoints: tracefs must be mounted (or mountable) and readable for their ids. */
function tracefsNeeds(uid: number, facts: AccessFacts): Need[] {
  const needs: Need[] = [];
  const tracefs = facts.tracefsMount ?? '/sys/kernel/tracing';
  if (facts.tracefsMount === null) {
    needs.push({ caps: ['CAP_SYS_ADMIN'], alternatives: [], for: `mounting tracefs at ${tracefs}, not mounted`, required: true });
  }
  // A tracefs socktop mounts itself is root's, mode 0700, like the usual one.
  const tracefsOpen = facts.tracefsMount === null ? uid === 0 : facts.tracefsOpenToUid;
  if (!tracefsOpen) {
    const mode = facts.tracefsMount === null ? `${tracefs} will be mode 0700, owner root` : facts.tracefsMode;
    needs.push({
      caps: ['CAP_DAC_READ_SEARCH'], alternatives: [['CAP_DAC_OVERRIDE']],
      for: `reading tracepoint ids in tracefs: ${mode}`, required: true,
    });
  }
  return needs;
}

/** Everything `backend` needs here, required first, then the optional ones. */
export function backendNeeds(backend: Backend, uid: number, facts: AccessFacts): Need[] {
  const needs: Need[] = [BPF, PERFMON];
  if (backend === 'cgroup') needs.push(NET_ADMIN);
  // The cgroup backend's tracepoint programs are tp_btf ones: attached through BTF, no tracefs.
  if (backend !== 'cgroup') needs.push(...tracefsNeeds(uid, facts));
  if (backend === 'cgroup' && !facts.cgroup2Mounted) {
    const caps: CapName[] = uid === 0 ? ['CAP_SYS_ADMIN'] : ['CAP_SYS_ADMIN', 'CAP_DAC_OVERRIDE'];
    needs.push({ caps, alternatives: [], for: 'mounting cgroup v2 at /run/socktop/cgroup2, none mounted', required: true });
  }
  needs.push(SNAPSHOT_NEED);
  needs.push({
    caps: ['CAP_SYS_ADMIN'], alternatives: [], for: 'BPF run-time stats (BPF_ENABLE_STATS)', required: false,
    without: "no bpf cost in the header ('bpf stats off') unless sysctl kernel.bpf_stats_enabled=1",
  });
  if (uid === 0) {
    needs.push({
      caps: ['CAP_SETUID', 'CAP_SETGID'], alternatives: [], for: 'giving up uid 0 after attaching (to the sudo user or nobody)',
      required: false, without: 'socktop stays uid 0 after attaching (it still drops every capability)',
    });
  }
  return needs;
}

export function assess(needs: Need[], creds: Credentials): NeedState[] {
  return needs.map((n) => ({
    ...n,
    present: [n.caps, ...n.alternatives].some((set) => set.every((c) => hasCap(creds, c))),
    missing: n.caps.filter((c) => !hasCap(creds, c)),
  }));
}

/** The capabilities the missing required needs lack, each once. */
export function missingRequired(states: NeedState[]): CapName[] {
  return [...new Set(states.filter((s) => s.required && !s.present).flatMap((s) => s.missing))];
}

/** The required capabilities of a backend, as one "CAP_A+CAP_B" string. */
export function requiredSet(states: NeedState[]): string {
  return [...new Set(states.filter((s) => s.required).flatMap((s) => s.caps))].join('+');
}

/**
 * One line when a required need is missing, else null: "capturing with the cgroup backend needs
 * root or CAP_BPF+CAP_PERFMON+CAP_NET_ADMIN+CAP_DAC_READ_SEARCH; missing: CAP_NET_ADMIN (...)".
 */
export function privilegeProblem(backend: Backend, states: NeedState[]): string | null {
  const missing = states.filter((s) => s.required && !s.present);
  if (missing.length === 0) return null;
  const what = missing.map((s) => `${s.missing.join('+')} (${s.for})`).join(', ');
  return `capturing with the ${backend} backend needs root or ${requiredSet(states)}; missing: ${what}`;
}

/**
 * What `backend` (chosen for `probe`) lacks here, one line, or null when nothing required is
 * missing; undefined when `support` carries no facts (a hand-made one). Where auto chose the
 * cgroup backend and only its CAP_NET_ADMIN is missing, it says the tracepoint backend would run.
 */
export function backendProblem(
  probe: string,
  backend: Backend,
  support: { credentials?: Credentials; access?: AccessFacts },
): string | null | undefined {
  const states = needsFor(backend, support);
  if (!states) return undefined;
  const problem = privilegeProblem(backend, states);
  if (!problem) return null;
  if (probe === 'auto' && backend === 'cgroup') {
    const tracepoint = needsFor('tracepoint', support);
    if (tracepoint && !privilegeProblem('tracepoint', tracepoint)) {
      return `${problem}; --probe tracepoint would run with these capabilities (but slows every syscall on the host)`;
    }
  }
  return problem;
}

/** The facts of a KernelSupport (kernel.ts), or null when it carries none (a hand-made one). */
export function needsFor(
  backend: Backend,
  support: { credentials?: Credentials; access?: AccessFacts },
): NeedState[] | null {
  if (!support.credentials || !support.access) return null;
  return assess(backendNeeds(backend, support.credentials.uid, support.access), support.credentials);
}

/**
 * A short note for the header and the --json status line when the start snapshot left out sockets
 * of other processes for want of a capability root has, else null: "snapshot: 3 sockets hidden (no
 * CAP_SYS_PTRACE)". With both capabilities, what is still hidden (a process even root may not
 * inspect) is hidden from a root run too: nothing to say.
 */
export function snapshotLimit(summary: { hiddenSockets: number } | undefined, creds: Credentials | undefined): string | null {
  if (!summary || summary.hiddenSockets <= 0 || !creds) return null;
  const lacking: string[] = [];
  if (!hasCap(creds, 'CAP_SYS_PTRACE')) lacking.push('CAP_SYS_PTRACE');
  if (!hasCap(creds, 'CAP_DAC_READ_SEARCH') && !hasCap(creds, 'CAP_DAC_OVERRIDE')) lacking.push('CAP_DAC_READ_SEARCH');
  if (lacking.length === 0) return null;
  const n = summary.hiddenSockets;
  return `snapshot: ${n} socket${n === 1 ? '' : 's'} hidden (no ${lacking.join('+')})`;
}
