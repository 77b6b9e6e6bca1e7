/**
 * unix-support.ts: which of the kernel features socktop uses for unix-domain sockets this kernel
 * has, for `socktop check`. Found by name in the kernel's BTF (/sys/kernel/btf/vmlinux, readable by
 * every user): a BTF tracepoint's typedef (btf_trace_NAME), an attach type's enum value, the
 * iterator's context struct. A name in the string table is taken as the feature being there; the
 * loader (native/src/targets.cc) checks the same names before it loads the programs.
 */
import * as fs from 'fs';
import type { Presence } from './kernel';

export interface UnixFeature {
  /** The kernel feature, as `socktop check` names it. */
  label: string;
  /** What socktop shows with it. */
  gives: string;
  /** What is lost without it. */
  without: string;
  present: Presence;
}

/** The features, each with the BTF names it needs (all of them). */
const FEATURES: readonly { label: string; gives: string; without: string; names: string[] }[] = [
  {
    label: 'iter/unix (walk, every backend)',
    gives: 'listeners, bound datagram sockets, closes (inferred, 1 s)',
    without: 'no unix socket is shown',
    names: ['bpf_iter__unix'],
  },
  {
    label: 'tp_btf sock_send/recv_length',
    gives: 'bytes, peer pids, paths',
    without: 'no unix bytes; sockets only as the walk finds them',
    names: ['btf_trace_sock_send_length', 'btf_trace_sock_recv_length'],
  },
  {
    label: 'tp_btf sk_data_ready',
    gives: 'connects naming both pids (tracepoint backend: with sys_enter_connect)',
    without: 'no unix connect records (kernel 6.3+)',
    names: ['btf_trace_sk_data_ready'],
  },
  {
    label: 'cgroup connect_unix',
    gives: 'the connecting socket, for the cgroup backend',
    without: 'no unix connect records on the cgroup backend (kernel 6.7+)',
    names: ['BPF_CGROUP_UNIX_CONNECT'],
  },
  {
    label: 'cgroup sendmsg_unix',
    gives: 'unconnected datagram destinations (tracepoint backend: sys_enter_sendto/sendmsg)',
    without: 'an unconnected datagram sender names no address on the cgroup backend (kernel 6.7+)',
    names: ['BPF_CGROUP_UNIX_SENDMSG'],
  },
];

/** Whether `btf` (a BTF file's bytes) names `name` (a NUL-terminated string in its string table). */
function named(btf: Buffer, name: string): boolean {
  return btf.indexOf(Buffer.from(`\0${name}\0`, 'latin1')) >= 0;
}

/** The features of this kernel ('unknown' each when its BTF cannot be read). */
export function detectUnixSupport(btfPath = '/sys/kernel/btf/vmlinux'): UnixFeature[] {
  let btf: Buffer | null = null;
  try {
    btf = fs.readFileSync(btfPath);
  } catch {
    btf = null;
  }
  return FEATURES.map(({ label, gives, without, names }) => ({
    label,
    gives,
    without,
    present: btf === null ? 'unknown' : names.every((n) => named(btf!, n)),
  }));
}
