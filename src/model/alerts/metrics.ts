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
 * Hooks for the listen-queue work (issue 13): accept_p50, accept_p99 and listen_overflows read
 * ProcessRow fields that the model does not fill yet (`acceptP50Ns`, `acceptP99Ns`,
 * `listenOverflows`, see ListenQueueFields). Until it does, accept_p50/accept_p99 have no data
 * (never fire) and listen_overflows is 0. The work that adds those figures fills the fields (or
 * changes the three readers below): nothing else in the alert machinery changes.
 */
import type { ProcessRow } from '../processes';

/** errno values (Linux, x86_64/generic) the failure metrics count. */
const ECONNREFUSED = 111;
const ETIMEDOUT = 110;
const ENETUNREACH = 101;
const EHOSTUNREACH = 113;

export type MetricKind = 'counter' | 'host_counter' | 'gauge' | 'duration';

/** What the condition's number is in: events (count or /s) or time (ns, written with a unit). */
export type MetricUnit = 'count' | 'duration';

/** The host-wide figures no process owns, handed to the evaluator each tick. */
export interface HostFigures {
  /** Events lost per drop stage (kernel, BPF ring, shared ring, recording), running totals. */
  drops: readonly number[];
}

/** Fields the listen-queue work adds to ProcessRow; optional here so this file builds before it. */
export interface ListenQueueFields {
  acceptP50Ns?: number;
  acceptP99Ns?: number;
  listenOverflows?: number;
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

function errnoCount(row: ProcessRow, ...errnos: number[]): number {
  if (!row.errnos) return 0;
  let n = 0;
  for (const e of errnos) n += row.errnos.get(e) ?? 0;
  return n;
}

function listenCount(row: ProcessRow): number {
  if (!row.listen) return 0;
  let n = 0;
  for (const k of row.listen.values()) n += k;
  return n;
}

const lq = (row: ProcessRow): ListenQueueFields => row as ProcessRow & ListenQueueFields;

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
  counter('refused', 'connects refused (ECONNREFUSED)', (r) => errnoCount(r, ECONNREFUSED)),
  counter('timeouts', 'connects timed out (ETIMEDOUT)', (r) => errnoCount(r, ETIMEDOUT)),
  counter('unreachable', 'connects to no route (ENETUNREACH, EHOSTUNREACH)', (r) => errnoCount(r, ENETUNREACH, EHOSTUNREACH)),
  counter('resets', 'TCP resets, sent or received', (r) => r.resetsSent + r.resetsReceived),
  counter('retransmits', 'TCP retransmits', (r) => r.retransmits),
  counter('accepts', 'connections accepted', (r) => r.accepts),
  counter('closes', 'sockets closed', (r) => r.closes),
  counter('opens', 'sockets opened (created, accepted, connecting, listening)', (r) => r.opened),
  counter('errors', 'failed calls and resets (the ERR column)', (r) => r.errors),
  counter('listen_overflows', 'connections dropped by a full accept queue (0 until the model counts them)',
    (r) => lq(r).listenOverflows ?? 0),
  { name: 'sockets_open', describe: 'sockets open now', unit: 'count', kind: 'gauge', read: (r) => r.open },
  { name: 'listen', describe: 'listening sockets now', unit: 'count', kind: 'gauge', read: listenCount },
  { name: 'connect_p50', describe: 'connect latency, median', unit: 'duration', kind: 'duration', read: (r) => r.p50Ns },
  { name: 'connect_p99', describe: 'connect latency, 99th percentile', unit: 'duration', kind: 'duration', read: (r) => r.p99Ns },
  {
    name: 'accept_p50', describe: 'accept latency, median (no data until the model measures it)', unit: 'duration',
    kind: 'duration', read: (r) => lq(r).acceptP50Ns ?? NaN,
  },
  {
    name: 'accept_p99', describe: 'accept latency, 99th percentile (no data until the model measures it)', unit: 'duration',
    kind: 'duration', read: (r) => lq(r).acceptP99Ns ?? NaN,
  },
];

const BY_NAME = new Map(METRICS.map((m) => [m.name, m]));

export function findMetric(name: string): Metric | undefined {
  return BY_NAME.get(name);
}

export const METRIC_NAMES: readonly string[] = METRICS.map((m) => m.name);
