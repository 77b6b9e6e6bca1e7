/**
 * help-topics.ts: `socktop help <topic>`: the README's user-facing sections, short, in the terminal
 * (an installed package has no checkout to read). Event kinds and drop stages come from
 * capture/layout.ts, the mirror of bpf/socktop.h, so the list cannot go stale.
 */
import { FAIL_REASONS, KIND_NAMES, REASON_NAMES, STAGE_NAMES } from '../capture/layout';
import { METRICS } from '../model/alerts/metrics';

const TOPICS: Record<string, () => string[]> = {
  keys: () => [
    'Keys in the TUI (they follow top and htop):',
    '  q quit, ? help overlay',
    '  1-6, Tab, Shift-Tab   views: 1 processes 2 commands 3 tree 4 connections 5 remotes 6 listeners',
    '  arrows, j k, PgUp PgDn, Home End   move; the mouse selects rows and scrolls',
    '  Enter    drill: a process (its sockets, events), a command (its processes),',
    '           a remote endpoint or a listening port (its connections), a socket (its owner)',
    '  u        commands view: by command, user or container;  - + tree view: fold, unfold',
    '  p        PID filter: 123,456  ranges 100-200  !123 excludes  empty clears',
    '  /        command-name filter;  F follow the selected process;  Esc clear filters',
    '  f        socket families shown: all -> inet -> unix -> all (records from then on)',
    '  s < >    sort column;  r reverse;  space pause the display (capture goes on)',
    '  replay:  + - (or ] [) speed, left/right seek 10 s, g G start/end',
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
    `  a failed connect says why: "reason": ${FAIL_REASONS.map((r) => REASON_NAMES[r]).join(' ')}; "syn_retries": N;`,
    '  a close after a received RST has "reason": "reset"',
    '  listeners: queue_len/queue_max on listen, accept and queue events; queue: overflows, syn_queue;',
    '  accept: queue_wait_us (how long it waited, established, to be accepted)',
    'Names are exact, with JSON escapes (C1 controls and DEL too), so printing the output is safe.',
    'Socket ids are opaque (a keyed hash, new every session), never kernel addresses.',
    'With --alert, lines {"type":"alert",...} come among the events (no "kind"): socktop help alerts.',
  ],
  recording: () => [
    'socktop record -w FILE [--duration 30s]   headless recording (status line on stderr)',
    'socktop --record FILE                     the TUI, recording everything as well',
    'socktop replay FILE [--speed 2] [--paused] [--json | -b -n N]   no root needed',
    'Files are created mode 0600, as the sudo user, never through a symbolic link, and never over an',
    'existing file without --force. A recording cut short replays up to its last whole record.',
  ],
  alerts: () => [
    '--alert COND (repeatable; live and replay): COND := [pid=LIST: | comm=NAME:] METRIC OP NUMBER [UNIT] [/s]',
    '  OP: > >= < <= == !=   UNIT (durations only, required): ns us ms s',
    "  e.g. 'refused>10/s' 'accept_p99>100ms' 'lost>0' 'comm=nginx:resets>0' 'pid=123:retransmits>100/s'",
    `  metrics: ${METRICS.map((m) => m.name).join(' ')}`,
    '  counters compare their growth over the last 5 s (per second with /s); sockets_open, listen',
    '  compare the level now; *_p50/_p99 the worst process in scope (no data: never fires)',
    'An alert fires once per crossing and clears once: TUI header line; -b prints',
    '  "ALERT COND firing: VALUE" and an Alerts: line; --json prints',
    '  {"type":"alert","alert":COND,"state":"firing|cleared|no_data","value":V,"unit":U,"threshold":T,"ts_ns":N}',
    'Exit status of -b and --json runs (live or replay): 3 when an alert fired (1 and 2 mean failures and win).',
    'socktop record -w FILE --trigger COND [--before 10] [--after 10] [--ring-mb 64] [-W N]:',
    '  keeps the last --before seconds in memory; when COND fires writes them and --after seconds more',
    '  to FILE (with -W N: up to N incident files x.0.socktop ...); replay them like any recording.',
  ],
  backends: () => [
    '--probe auto|cgroup|kprobe|tracepoint (auto: the cheapest this kernel offers; `socktop check`)',
    '  cgroup      cgroup socket hooks + tp_btf tracepoints (kernel 6.3+): no syscall tracepoint',
    '  kprobe      kprobes on the socket functions (kernels before 6.3)',
    '  tracepoint  syscall tracepoints: works everywhere, taxes every syscall',
    'All need kernel BTF (/sys/kernel/btf/vmlinux): one CO-RE object runs on every such kernel.',
  ],
  views: () => [
    'Views (keys 1-6 in the TUI; `-b --view NAME` prints one as text; `--view NAME` starts the TUI there):',
    '  processes    one row per process (default)',
    '  commands     processes grouped by command (u: by user, by container): live, exited, summed counts and rates',
    '  tree         processes under their parents (htop F5); - + fold and unfold',
    '  connections  one row per socket like ss -tanp: state, owner, peer, age, bytes, RTT; closed dimmed',
    '  remotes      remote address:port: connects, failures by errno, bytes, latency p50/p99, processes',
    '  listeners    listening ports: process, accepts, accepts/s, open connections, clients',
    '--fold-exited SEC: exited processes fold into their command after SEC seconds (default 5).',
  ],
};

export const HELP_TOPICS: readonly string[] = Object.keys(TOPICS);

/** The text of one topic (a name from HELP_TOPICS). */
export function helpTopic(topic: string): string {
  const lines = TOPICS[topic];
  if (!lines) throw new Error(`no help topic ${topic}`);
  return `${lines().join('\n')}\n`;
}
