/**
 * kernel.ts: what the running kernel offers socktop, found with plain file checks (no BPF calls,
 * no root needed), so `socktop check` and backend choice (backend.ts) can explain themselves.
 */
import * as fs from 'fs';
import * as os from 'os';
import { AccessFacts, Credentials, gatherAccessFacts, parseCredentials } from './capabilities';
import { detectUnixSupport, UnixFeature } from './unix-support';

/** `'unknown'` when the answer cannot be known from here (e.g. tracefs is not mounted). */
export type Presence = boolean | 'unknown';

export interface TracepointSupport {
  name: string;        // "category/event", as under tracefs events/
  required: boolean;   // the tracepoint backend cannot work without it
  present: Presence;
}

export interface Privileges {
  capSysAdmin: boolean;
  capBpf: boolean;
  capPerfmon: boolean;
  /** Enough to load and attach tracing programs: CAP_SYS_ADMIN, or CAP_BPF and CAP_PERFMON. */
  sufficient: boolean;
}

/** What the cgroup backend needs: cgroup socket hooks (sock_release came in 5.9) and cgroup v2. */
export interface CgroupSupport {
  /** Kernel 5.9 or newer: every hook the cgroup backend attaches exists. */
  hooks: boolean;
  /** The cgroup v2 mount point, or null (socktop then mounts one at /run/socktop/cgroup2). */
  mount: string | null;
  /** [major, minor] of the running kernel. */
  kernel: [number, number];
}

export interface KernelSupport {
  btf: boolean;                      // /sys/kernel/btf/vmlinux: CO-RE needs it
  cgroup: CgroupSupport;
  kprobes: boolean;                  // CONFIG_KPROBES: kprobe PMU or kprobe_events in tracefs
  tracefs: string | null;            // mount point whose events/ is visible, null when unmounted
  /**
   * A tracefs mount point from /proc/self/mountinfo, readable or not: with `tracefs` null, it
   * tells "mounted but not readable by you" (tracefs is mode 0700) from "not mounted".
   */
  tracefsMount?: string | null;
  tracepoints: TracepointSupport[];  // the ones the tracepoint backend uses
  privileges: Privileges;
  /** uid, gids and capability sets of this process (capabilities.ts). */
  credentials?: Credentials;
  /** What the capability needs of each backend depend on (capabilities.ts: backendNeeds). */
  access?: AccessFacts;
  /** Kernel features for unix-domain sockets (cgroup and tracepoint backends; the walk on every backend). */
  unix?: UnixFeature[];
}

/**
 * Tracepoints the tracepoint backend attaches to: those of its programs in bpf/socktop.bpf.c
 * (tp_*, kt_*), optional where the program's name ends in `_opt` (a kernel without them
 * is still served; sock_send_length and sock_recv_length are not in 6.1). test/unit/contract.test.ts
 * checks this list against the BPF source.
 */
export const TRACEPOINTS: readonly { name: string; required: boolean }[] = [
  { name: 'sock/inet_sock_set_state', required: true },
  { name: 'sock/sock_send_length', required: false },
  { name: 'sock/sock_recv_length', required: false },
  { name: 'syscalls/sys_exit_accept4', required: true },
  { name: 'syscalls/sys_exit_accept', required: false },
  { name: 'syscalls/sys_enter_connect', required: true },
  { name: 'syscalls/sys_exit_connect', required: true },
  { name: 'syscalls/sys_exit_socket', required: true },
  { name: 'syscalls/sys_enter_bind', required: true },
  { name: 'syscalls/sys_exit_bind', required: true },
  { name: 'syscalls/sys_enter_close', required: true },
  { name: 'syscalls/sys_enter_sendto', required: true },
  { name: 'syscalls/sys_enter_sendmsg', required: true },
  { name: 'syscalls/sys_enter_recvfrom', required: true },
  { name: 'syscalls/sys_exit_recvfrom', required: true },
  { name: 'syscalls/sys_enter_recvmsg', required: true },
  { name: 'syscalls/sys_exit_recvmsg', required: true },
  { name: 'tcp/tcp_retransmit_skb', required: true },
  { name: 'tcp/tcp_receive_reset', required: false },
  { name: 'tcp/tcp_send_reset', required: false },
  { name: 'tcp/tcp_destroy_sock', required: false },
  { name: 'io_uring/io_uring_complete', required: false },
  { name: 'sched/sched_process_exit', required: true },
];

export const VMLINUX_BTF = '/sys/kernel/btf/vmlinux';
export const TRACEFS_MOUNTS = ['/sys/kernel/tracing', '/sys/kernel/debug/tracing'];
const KPROBE_PMU = '/sys/bus/event_source/devices/kprobe';

const CAP_SYS_ADMIN = 21;
const CAP_PERFMON = 38;
const CAP_BPF = 39;

function exists(p: string): boolean {
  try {
    fs.statSync(p);
    return true;
  } catch {
    return false;
  }
}

/** The tracefs mount point whose events/ directory is visible, or null. */
export function findTracefs(): string | null {
  return TRACEFS_MOUNTS.find((m) => exists(`${m}/events`)) ?? null;
}

/** Privileges from the CapEff line of a /proc/<pid>/status text. */
export function parsePrivileges(status: string): Privileges {
  const m = /^CapEff:\s*([0-9a-fA-F]+)/m.exec(status);
  const caps = m ? BigInt(`0x${m[1]}`) : 0n;
  const has = (bit: number): boolean => ((caps >> BigInt(bit)) & 1n) === 1n;
  const capSysAdmin = has(CAP_SYS_ADMIN);
  const capBpf = has(CAP_BPF);
  const capPerfmon = has(CAP_PERFMON);
  return { capSysAdmin, capBpf, capPerfmon, sufficient: capSysAdmin || (capBpf && capPerfmon) };
}

function readCredentials(): Credentials {
  try {
    return parseCredentials(fs.readFileSync('/proc/self/status', 'utf8'));
  } catch {
    return parseCredentials('');
  }
}

function readPrivileges(): Privileges {
  try {
    return parsePrivileges(fs.readFileSync('/proc/self/status', 'utf8'));
  } catch {
    return parsePrivileges('');
  }
}

function detectTracepoints(tracefs: string | null): TracepointSupport[] {
  return TRACEPOINTS.map(({ name, required }) => ({
    name,
    required,
    present: tracefs === null ? 'unknown' : exists(`${tracefs}/events/${name}`),
  }));
}

/** [major, minor] of a kernel release string ("6.18.44-foo" -> [6, 18]); [0, 0] when unreadable. */
export function kernelVersion(release: string): [number, number] {
  const m = /^(\d+)\.(\d+)/.exec(release);
  return m ? [Number(m[1]), Number(m[2])] : [0, 0];
}

interface Mount { root: string; point: string; fstype: string }

/** The mounts of /proc/self/mountinfo text; mountinfo writes space, tab, newline and backslash in
 *  paths as \ooo. */
export function parseMountinfo(mountinfo: string): Mount[] {
  const mounts: Mount[] = [];
  const unescapePath = (p: string): string => p.replace(/\\([0-7]{3})/g, (_, o: string) => String.fromCharCode(parseInt(o, 8)));
  for (const line of mountinfo.split('\n')) {
    const [head, tail] = line.split(' - ');
    if (!tail) continue;
    const f = head.split(' ');
    mounts.push({ root: unescapePath(f[3]), point: unescapePath(f[4]), fstype: tail.split(' ')[0] });
  }
  return mounts;
}

/** The mount point of the first tracefs mount, from /proc/self/mountinfo text (null: none). */
export function findTracefsMount(mountinfo: string): string | null {
  const points = parseMountinfo(mountinfo).filter((m) => m.fstype === 'tracefs').map((m) => m.point);
  return points.find((p) => TRACEFS_MOUNTS.includes(p)) ?? points[0] ?? null; // where socktop looks first
}

/** The mount point of the first cgroup2 mount of a hierarchy's root, from /proc/self/mountinfo text. */
export function findCgroup2Mount(mountinfo: string): string | null {
  return parseMountinfo(mountinfo).find((m) => m.fstype === 'cgroup2' && m.root === '/')?.point ?? null;
}

function readMountinfo(): string {
  try {
    return fs.readFileSync('/proc/self/mountinfo', 'utf8');
  } catch {
    return ''; // no /proc: mounts unknown ("not mounted" is the best guess; socktop mounts its own)
  }
}

function detectCgroup(release: string, mountinfo: string): CgroupSupport {
  const [major, minor] = kernelVersion(release);
  return { hooks: major > 5 || (major === 5 && minor >= 9), mount: findCgroup2Mount(mountinfo), kernel: [major, minor] };
}

export function detectKernelSupport(): KernelSupport {
  const tracefs = findTracefs();
  const mountinfo = readMountinfo();
  const tracefsMount = tracefs ?? findTracefsMount(mountinfo);
  const privileges = readPrivileges();
  // Without the kprobe PMU, libbpf falls back to tracefs kprobe_events (legacy kprobes).
  const kprobes = exists(KPROBE_PMU) || (tracefs !== null && exists(`${tracefs}/kprobe_events`));
  const cgroup = detectCgroup(os.release(), mountinfo);
  const credentials = readCredentials();
  return {
    btf: exists(VMLINUX_BTF),
    cgroup,
    kprobes,
    tracefs,
    tracefsMount,
    tracepoints: detectTracepoints(tracefs),
    privileges,
    credentials,
    access: gatherAccessFacts(tracefsMount, cgroup.mount, credentials),
    unix: detectUnixSupport(VMLINUX_BTF),
  };
}
