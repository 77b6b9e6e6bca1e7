/**
 * help-topics.ts: `socktop help <topic>`: the README's user-facing sections, short, in the terminal
 * (an installed package has no checkout to read). Event kinds and drop stages come from
 * capture/layout.ts, the mirror of bpf/socktop.h, so the list cannot go stale.
 */
import { KIND_NAMES, STAGE_NAMES } from '../capture/layout';

const TOPICS: Record<string, () => string[]> = {
  keys: () => [
    'Keys in the TUI (they follow top and htop):',
    '  q quit, ? help overlay',
    '  arrows, j k, PgUp PgDn, Home End   move; the mouse selects rows and scrolls',
    '  Enter    details of the selected process: its sockets and recent events',
    '  p        PID filter: 123,456  ranges 100-200  !123 excludes  empty clears',
    '  /        command-name filter;  F follow the selected process;  Esc clear filters',
    '  u        socket families shown: all -> inet -> unix -> all (records from then on)',
    '  s < >    sort column;  r reverse;  space pause the display (capture goes on)',
    '  replay:  + - speed, left/right seek 10 s, g G start/end',
  ],
  privileges: () => [
    'Live capture needs root, or these capabilities (kernel 5.8+):',
    '  cgroup backend       CAP_BPF CAP_PERFMON CAP_NET_ADMIN',
    '  tracepoint, kprobe   CAP_BPF CAP_PERFMON, and CAP_DAC_READ_SEARCH as a non-root user (tracefs)',
    '  optional             CAP_SYS_PTRACE+CAP_DAC_READ_SEARCH (owners of sockets open at start),',
    '                       CAP_SYS_ADMIN (BPF run-time stats)',
    'Replaying a recording needs none. `socktop check` says what this process holds.',
    'Run it with sudo (`sudo socktop`, `sudo npx socktop`), or give the capabilities to one process:',
    '  sudo setpriv --reuid=$(id -u) --regid=$(id -g) --init-groups \\',
    '    --inh-caps=+bpf,+perfmon,+net_admin --ambient-caps=+bpf,+perfmon,+net_admin -- socktop',
    'or to a dedicated user through a systemd unit (AmbientCapabilities=CAP_BPF CAP_PERFMON',
    'CAP_NET_ADMIN). `setcap` on the node binary is not the way: it would give every script that',
    'node runs, for every user, the right to load BPF programs.',
    'After attaching, socktop gives up root (to the sudo user, or nobody) and every capability.',
  ],
  json: () => [
    '`socktop --json` (and `socktop replay FILE --json`) print one JSON object per line per event:',
    '  ts_ns (CLOCK_MONOTONIC), kind, pid, comm, and the fields of that kind',
    `  kinds: ${KIND_NAMES.filter((k) => k !== 'none' && k !== '').join(' ')}`,
    `  drops records count losses per stage: ${Object.values(STAGE_NAMES).join(' ')}`,
    'Names are exact, with JSON escapes (C1 controls and DEL too), so printing the output is safe.',
    'Socket ids are opaque (a keyed hash, new every session), never kernel addresses.',
  ],
  recording: () => [
    'socktop record -w FILE [--duration 30s]   headless recording (status line on stderr)',
    'socktop --record FILE                     the TUI, recording everything as well',
    'socktop replay FILE [--speed 2] [--paused] [--json | -b -n N]   no root needed',
    'Files are created mode 0600, as the sudo user, never through a symbolic link, and never over an',
    'existing file without --force. A recording cut short replays up to its last whole record.',
  ],
  backends: () => [
    '--probe auto|cgroup|kprobe|tracepoint (auto: the cheapest this kernel offers; `socktop check`)',
    '  cgroup      cgroup socket hooks + tp_btf tracepoints (kernel 6.3+): no syscall tracepoint',
    '  kprobe      kprobes on the socket functions (kernels before 6.3)',
    '  tracepoint  syscall tracepoints: works everywhere, taxes every syscall',
    'All need kernel BTF (/sys/kernel/btf/vmlinux): one CO-RE object runs on every such kernel.',
  ],
};

export const HELP_TOPICS: readonly string[] = Object.keys(TOPICS);

/** The text of one topic (a name from HELP_TOPICS). */
export function helpTopic(topic: string): string {
  const lines = TOPICS[topic];
  if (!lines) throw new Error(`no help topic ${topic}`);
  return `${lines().join('\n')}\n`;
}
