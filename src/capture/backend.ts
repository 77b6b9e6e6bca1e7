/**
 * backend.ts: which probe backend to use, from what was asked (--probe) and what the kernel
 * offers (kernel.ts). Pure: no I/O, so every case is unit-tested.
 *
 * `auto` picks the cheapest complete backend, by measurement (bench/storm.ts, issue 9's note):
 *   cgroup      cgroup socket hooks + non-syscall tracepoints. No syscall tracepoint, so the rest
 *               of the machine pays nothing; the hooks run only on socket operations.
 *   kprobe      no syscall tracepoint for socket/bind/connect/close, but kretprobes and the accept
 *               syscall tracepoints (which put every syscall of every process on the slow path).
 *   tracepoint  syscalls:* tracepoints: works everywhere, taxes every syscall on the host.
 */
import type { Backend, ProbeChoice } from './addon';
import type { KernelSupport } from './kernel';

/** An impossible choice: its message is one line for the user. */
export class BackendError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'BackendError';
  }
}

export interface BackendChoice {
  backend: Backend;
  reason: string;
}

export const NO_KPROBES =
  'kprobes are not available on this kernel (CONFIG_KPROBES is off); use --probe tracepoint or auto';

export const NO_CGROUP_HOOKS =
  'the cgroup backend needs kernel 5.9 or newer (cgroup/sock_release); use --probe tracepoint or auto';

function cgroupNote(support: KernelSupport): string {
  return support.cgroup.mount
    ? `attached at the cgroup v2 root ${support.cgroup.mount}`
    : 'no cgroup v2 mount: socktop mounts one at /run/socktop/cgroup2';
}

/** sock:sock_{send,recv}_length (6.3+): the cgroup backend's per-use hooks (bytes, first touch). */
const USE_TRACEPOINTS = ['sock/sock_send_length', 'sock/sock_recv_length'];

/**
 * The cgroup backend is complete where the send/receive tracepoints exist: without them an
 * accepted socket is claimed only when its owner closes it, and UDP bytes are not seen.
 * Unknown (tracefs not mounted yet): judged by the kernel version they came in.
 */
export function cgroupComplete(support: KernelSupport): boolean {
  if (!support.cgroup.hooks) return false;
  const present = USE_TRACEPOINTS.map((n) => support.tracepoints.find((t) => t.name === n)?.present ?? false);
  if (present.every((p) => p === true)) return true;
  if (present.some((p) => p === false)) return false;
  const [major, minor] = support.cgroup.kernel;
  return major > 6 || (major === 6 && minor >= 3);
}

function useCgroup(support: KernelSupport, why: string): BackendChoice {
  return { backend: 'cgroup', reason: `${why} (${cgroupNote(support)})` };
}

/** Required tracepoints known to be absent (unknown ones are not counted: tracefs gets mounted). */
export function missingTracepoints(support: KernelSupport, required = true): string[] {
  return support.tracepoints
    .filter((t) => t.required === required && t.present === false)
    .map((t) => t.name);
}

function tracepointNotes(support: KernelSupport): string {
  const notes: string[] = [];
  if (support.tracefs === null) {
    notes.push(support.tracefsMount
      ? `tracefs at ${support.tracefsMount} is not readable by this user`
      : 'tracefs is not mounted: it will be mounted at /sys/kernel/tracing');
  }
  const optional = missingTracepoints(support, false);
  if (optional.length > 0) notes.push(`without ${optional.join(', ')}`);
  return notes.length > 0 ? ` (${notes.join('; ')})` : '';
}

function useTracepoints(support: KernelSupport, why: string): BackendChoice {
  const missing = missingTracepoints(support);
  if (missing.length > 0) {
    throw new BackendError(`the tracepoint backend needs tracepoints this kernel lacks: ${missing.join(', ')}`);
  }
  return { backend: 'tracepoint', reason: why + tracepointNotes(support) };
}

export function chooseBackend(requested: ProbeChoice, support: KernelSupport): BackendChoice {
  if (!support.btf) {
    throw new BackendError(
      'kernel BTF is missing (/sys/kernel/btf/vmlinux): socktop needs a kernel built with CONFIG_DEBUG_INFO_BTF=y',
    );
  }
  switch (requested) {
    case 'cgroup':
      if (!support.cgroup.hooks) throw new BackendError(NO_CGROUP_HOOKS);
      return useCgroup(support, 'requested with --probe cgroup');
    case 'kprobe':
      if (!support.kprobes) throw new BackendError(NO_KPROBES);
      return { backend: 'kprobe', reason: 'requested with --probe kprobe' };
    case 'tracepoint':
      return useTracepoints(support, 'requested with --probe tracepoint');
    case 'auto':
      if (cgroupComplete(support)) {
        return useCgroup(support, 'cgroup socket hooks are available: the cheapest backend, no syscall tracepoint');
      }
      if (support.kprobes) {
        return { backend: 'kprobe', reason: `kprobes are available (${support.cgroup.hooks
          ? 'the cgroup backend would see accepts only at close here: no sock_send_length/sock_recv_length tracepoints before 6.3'
          : 'no cgroup socket hooks before kernel 5.9'})` };
      }
      if (support.cgroup.hooks && missingTracepoints(support).length > 0) {
        return useCgroup(support, 'the syscall tracepoints are missing: cgroup socket hooks, accepts seen at their first use');
      }
      if (missingTracepoints(support).length > 0) {
        throw new BackendError(
          `neither kprobes (CONFIG_KPROBES is off) nor the needed tracepoints are available (missing: ${missingTracepoints(support).join(', ')})`,
        );
      }
      return useTracepoints(support, 'kprobes are not available on this kernel (CONFIG_KPROBES is off), using tracepoints');
    default:
      throw new BackendError(`unknown probe backend '${String(requested)}': use auto, cgroup, kprobe or tracepoint`);
  }
}
