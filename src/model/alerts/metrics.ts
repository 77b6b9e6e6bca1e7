/**
 * metrics.ts: the metrics an alert condition (grammar.ts) may name, one registry. Pure TypeScript:
 * each metric says what it counts and how to read it from the model (src/model) once per tick;
 * the evaluator (evaluator.ts) turns readings into the figure a condition compares.
 *
 * Three kinds:
 * - counter: a per-process running total (ProcessRow field). A condition compares how much it grew
 *   in the last window (the model's rate window, 5 s): `resets>0` = a reset in the last 5 s;
 *   `refused>10/s` = that growth divided by the window's seconds, the same per-second figure the
 *   table shows. Growth is summed per process row from one tick to the next, so a process that
 *   exits (its row ages out) never makes a host-wide total go backwards.
 * - host counter: a running total of the whole capture that no process owns (lost events): same
 *   window semantics; a scope (pid=, comm=) does not apply to it.
 * - gauge: a level read as is (sockets open, listening sockets), summed over the processes in scope.
 * - duration: a latency percentile in ns, the worst (largest) of the processes in scope; NaN when no
 *   process in scope has one: the condition then has NO DATA and never fires.
 *
 * Failures count by the reason the model gives each failed connect (src/model/failures: the
 * record's reason, else its errno), as the FAIL column and the exporter's reason label do; the
 * listen-queue metrics read the process row's queue figures (issue 13).
 */
import { Reason } from '../../capture/layout';
import type { ProcessRow } from '../processes';

export type MetricKind = 'counter' | 'host_counter' | 'gauge' | 'duration';

/** What the condition's number is in: events (count or /s) or time (ns, written with a unit). */
export type MetricUnit = 'count' | 'duration';

/** The host-wide figures no process owns, handed to the evaluator each tick. */
export interface HostFigures {
  /** Events lost per drop stage (kernel, BPF ring, shared ring, recording), running totals. */
  drops: readonly number[];
}

interface MetricBase {
  name: string;
  /** One line for `socktop help alerts` and the parse errors. */
  describe: string;
  unit: MetricUnit;
}

export interface RowMetric extends MetricBase {
  kind: 'counter' | 'gauge' | 'duration';
  /** The figure for one process row (duration: ns, NaN = none). */
  read(row: ProcessRow): number;
}

export interface HostMetric extends MetricBase {
  kind: 'host_counter';
  read(host: HostFigures): number;
}

export type Metric = RowMetric | HostMetric;

function listenCount(row: ProcessRow): number {
  if (!row.listen) return 0;
  let n = 0;
  for (const k of row.listen.values()) n += k;
  return n;
}

function counter(name: string, describe: string, read: (row: ProcessRow) => number): RowMetric {
  return { name, describe, unit: 'count', kind: 'counter', read };
}

export const METRICS: readonly Metric[] = [
  {
    name: 'lost', describe: 'events lost, every drop stage together (host-wide only)', unit: 'count', kind: 'host_counter',
    read: (h) => h.drops.reduce((a, b) => a + b, 0),
  },
  counter('connects', 'connect() results, successful or not', (r) => r.connectsOk + r.connectsFailed),
  counter('connect_fail', 'failed connects, any reason', (r) => r.connectsFailed),
  counter('refused', 'connects refused (RST to the SYN)', (r) => r.failCount(Reason.Refused)),
  counter('timeouts', 'connects timed out (the kernel gave up, or the program after a SYN retransmit)', (r) => r.failCount(Reason.Timeout)),
  counter('unreachable', 'connects to no route or an unreachable host (ENETUNREACH, EHOSTUNREACH)', (r) => r.failCount(Reason.Unreachable)),
  counter('aborted', 'connects the program closed before any SYN retransmit', (r) => r.failCount(Reason.Aborted)),
  counter('conn_resets', 'established connections ended by a received RST', (r) => r.failCount(Reason.Reset)),
  counter('resets', 'TCP resets, sent or received', (r) => r.resetsSent + r.resetsReceived),
  counter('retransmits', 'TCP retransmits', (r) => r.retransmits),
  counter('accepts', 'connections accepted', (r) => r.accepts),
  counter('closes', 'sockets closed', (r) => r.closes),
  counter('opens', 'sockets opened (created, accepted, connecting, listening)', (r) => r.opened),
  counter('errors', 'failed calls and resets (the ERR column)', (r) => r.errors),
  counter('listen_overflows', 'connections dropped by a full accept queue', (r) => r.overflows),
  { name: 'sockets_open', describe: 'sockets open now', unit: 'count', kind: 'gauge', read: (r) => r.open },
  { name: 'listen', describe: 'listening sockets now', unit: 'count', kind: 'gauge', read: listenCount },
  { name: 'connect_p50', describe: 'connect latency, median', unit: 'duration', kind: 'duration', read: (r) => r.p50Ns },
  { name: 'connect_p99', describe: 'connect latency, 99th percentile', unit: 'duration', kind: 'duration', read: (r) => r.p99Ns },
  {
    name: 'accept_p50', describe: 'accept wait (established until accepted), median', unit: 'duration',
    kind: 'duration', read: (r) => r.acceptP50Ns,
  },
  {
    name: 'accept_p99', describe: 'accept wait (established until accepted), 99th percentile', unit: 'duration',
    kind: 'duration', read: (r) => r.acceptP99Ns,
  },
  { name: 'queue', describe: 'connections waiting in accept queues now', unit: 'count', kind: 'gauge', read: (r) => r.queueLen },
];

const BY_NAME = new Map(METRICS.map((m) => [m.name, m]));

export function findMetric(name: string): Metric | undefined {
  return BY_NAME.get(name);
}

export const METRIC_NAMES: readonly string[] = METRICS.map((m) => m.name);
