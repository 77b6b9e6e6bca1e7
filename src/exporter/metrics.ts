/**
 * metrics.ts: the Prometheus exposition (prom-client's Registry writes the text format, escapes
 * label values and sets the content type). Every socktop metric is a collector that reads the
 * aggregator's arrays when scraped: the per-event path never touches prom-client (its
 * labels().inc() hashes a label object per call, too dear at 10k connections a second).
 *
 * The metric names and labels here are the ones the README's Metrics section documents; the
 * cardinality bound there is seriesBound() below.
 */
import * as fs from 'fs';
import { collectDefaultMetrics, Metric, Registry } from 'prom-client';
import { DROP_STAGES, STAGE_NAMES, TCP_STATE_NAMES, TcpState } from '../capture/layout';
import { maxDrops } from '../ui/pump';
import type { DataSource } from '../source';
import { Aggregator, C, CONNECT_RESULTS, FAIL_REASON_LABELS, LATENCY_BOUNDS_SEC } from './aggregator';

type MetricType = 'counter' | 'gauge' | 'histogram';
interface Sample {
  labels: Record<string, string | number>;
  value: number;
  metricName?: string;
}

/** What the metrics read besides the aggregator. */
export interface ExporterView {
  aggregator: Aggregator;
  /** Live capture (drop counters, BPF program stats); absent in unit tests. */
  source?: Pick<DataSource, 'stats' | 'ring'>;
  /** Shared ring fill at the last drain and the highest seen (0..1). */
  ringFill: { last: number; max: number };
  info: { backend: string; version: string };
  /** Read kernel.bpf_stats_enabled (a test may replace it). */
  bpfStatsEnabled?: () => boolean;
}

/** TCP states the open-sockets gauge lists (every state but CLOSE, which is not open). */
export const GAUGE_STATES: readonly number[] = TCP_STATE_NAMES.map((_, s) => s).filter((s) => s !== 0 && s !== TcpState.Close);

/** Per-comm series at most: 13 counters, the latency histogram (buckets, +Inf, sum, count), listen
 * gauge, connect failures by reason, listen overflows. */
export const SERIES_PER_COMM = 13 + LATENCY_BOUNDS_SEC.length + 3 + 1 + FAIL_REASON_LABELS.length + 1;

/**
 * Series socktop_* can ever have with --top-comms N: per comm slot (the N names, ~other,
 * ~unknown) SERIES_PER_COMM, plus the fixed ones, plus two per BPF program when bpf stats are on.
 */
export function seriesBound(topComms: number, bpfPrograms: number): number {
  return (topComms + 2) * SERIES_PER_COMM + FIXED_SERIES + 2 * bpfPrograms;
}
/** events_lost (4 stages), records, tcp_sockets (11 states), ring fill (3), bpf_stats_enabled,
 *  comms_tracked, comm_label_changes, sockets_tracked, sockets_evicted, info. */
export const FIXED_SERIES = DROP_STAGES.length + 1 + GAUGE_STATES.length + 3 + 1 + 1 + 1 + 1 + 1 + 1;

export function buildRegistry(v: ExporterView, withProcessMetrics = true): Registry {
  const reg = new Registry();
  const add = (name: string, help: string, type: MetricType, values: () => Sample[]) => {
    const metric = {
      name, help, type, aggregator: 'sum',
      get: async () => ({ name, help, type, aggregator: 'sum', values: values() }),
      reset: () => undefined,
    };
    reg.registerMetric(metric as unknown as Metric<string>);
  };
  addTrafficMetrics(add, v.aggregator);
  addSocketGauges(add, v.aggregator);
  addHealthMetrics(add, v);
  // The exporter's own CPU, memory and event loop (process_*, nodejs_*): bounded, standard.
  if (withProcessMetrics) collectDefaultMetrics({ register: reg });
  return reg;
}

type Add = (name: string, help: string, type: MetricType, values: () => Sample[]) => void;

function perComm(a: Aggregator, column: number, extra: Record<string, string> = {}): () => Sample[] {
  return () => a.activeSlots().map((slot) => ({ labels: { ...a.slotLabels(slot), ...extra }, value: a.counter(slot, column) }));
}

function addTrafficMetrics(add: Add, a: Aggregator): void {
  add('socktop_connects_total', 'TCP connect() results by command and result (ok, refused, timeout, unreachable, reset, other).', 'counter',
    () => a.activeSlots().flatMap((slot) => CONNECT_RESULTS.map((result, i) => ({
      labels: { ...a.slotLabels(slot), result }, value: a.counter(slot, C.ConnectOk + i),
    }))));
  add('socktop_connect_failures_total', 'Failed TCP connects by command and reason (refused, timeout, unreachable, aborted, local), and established connections ended by a received RST (reset).', 'counter',
    () => a.activeSlots().flatMap((slot) => FAIL_REASON_LABELS.map(({ reason, label }) => ({
      labels: { ...a.slotLabels(slot), reason: label }, value: a.counter(slot, C.FailBase + reason),
    }))));
  add('socktop_listen_overflows_total', 'Connections dropped because a listener\'s accept queue was full, by listening command.', 'counter',
    perComm(a, C.ListenOverflows));
  add('socktop_accepts_total', 'TCP connections accepted, by the accepting command.', 'counter', perComm(a, C.Accepts));
  add('socktop_closes_total', 'Sockets that ended (TCP and UDP), by owning command.', 'counter', perComm(a, C.Closes));
  add('socktop_retransmits_total', 'TCP segments retransmitted, by owning command.', 'counter', perComm(a, C.Retransmits));
  add('socktop_resets_total', 'TCP resets by owning command and direction (sent, received).', 'counter',
    () => [...perComm(a, C.ResetsSent, { direction: 'sent' })(), ...perComm(a, C.ResetsReceived, { direction: 'received' })()]);
  add('socktop_bytes_total', 'Payload bytes by owning command and direction (sent, received); TCP from the kernel\'s own counters.', 'counter',
    () => [...perComm(a, C.BytesSent, { direction: 'sent' })(), ...perComm(a, C.BytesReceived, { direction: 'received' })()]);
  add('socktop_connect_duration_seconds', 'Time from SYN to established of successful TCP connects, by command.', 'histogram',
    () => latencySamples(a));
}

function latencySamples(a: Aggregator): Sample[] {
  const out: Sample[] = [];
  const inf = LATENCY_BOUNDS_SEC.length;
  for (const slot of a.activeSlots()) {
    const count = a.latencyCumulative(slot, inf);
    if (count === 0) continue;
    const labels = a.slotLabels(slot);
    LATENCY_BOUNDS_SEC.forEach((le, b) => out.push({
      metricName: 'socktop_connect_duration_seconds_bucket', labels: { ...labels, le }, value: a.latencyCumulative(slot, b),
    }));
    out.push({ metricName: 'socktop_connect_duration_seconds_bucket', labels: { ...labels, le: '+Inf' }, value: count });
    out.push({ metricName: 'socktop_connect_duration_seconds_sum', labels, value: a.latencySumSec[slot] });
    out.push({ metricName: 'socktop_connect_duration_seconds_count', labels, value: count });
  }
  return out;
}

function addSocketGauges(add: Add, a: Aggregator): void {
  add('socktop_tcp_sockets', 'Open TCP sockets by state (sockets that existed at start included).', 'gauge',
    () => GAUGE_STATES.map((s) => ({ labels: { state: TCP_STATE_NAMES[s] }, value: a.sockets.tcpStateCounts[s] })));
  add('socktop_listen_sockets', 'TCP sockets in LISTEN, by owning command.', 'gauge',
    () => [...a.listenersPerSlot()].map(([slot, n]) => ({ labels: a.slotLabels(slot), value: n })));
}

function addHealthMetrics(add: Add, v: ExporterView): void {
  const a = v.aggregator;
  add('socktop_events_lost_total', 'Events lost, by stage: kernel_miss (the kernel skipped a socktop program), bpf_ring, shared_ring, recording.', 'counter',
    () => {
      const drops = maxDrops(a.dropMarkers, v.source?.stats(), v.source?.ring.drops() ?? 0);
      return DROP_STAGES.map((st) => ({ labels: { stage: STAGE_NAMES[st] }, value: drops[st] }));
    });
  add('socktop_records_total', 'Event records the exporter aggregated.', 'counter', () => [{ labels: {}, value: a.records }]);
  add('socktop_shared_ring_fill_ratio', 'Fill of the shared ring (reader -> exporter) at the last drain, 0..1.', 'gauge',
    () => [{ labels: {}, value: v.ringFill.last }]);
  add('socktop_shared_ring_fill_max_ratio', 'Highest fill of the shared ring seen at a drain since start, 0..1 (1 means records were dropped).', 'gauge',
    () => [{ labels: {}, value: v.ringFill.max }]);
  add('socktop_shared_ring_capacity_records', 'Records the shared ring holds.', 'gauge',
    () => [{ labels: {}, value: v.source?.ring.capacity ?? 0 }]);
  addBpfProgramMetrics(add, v);
  add('socktop_comms_tracked', 'Command names tracked for the top-N comm labels (bounded).', 'gauge',
    () => [{ labels: {}, value: a.labels.tracked }]);
  add('socktop_comm_label_changes_total', 'Times a comm label slot went to a more active command.', 'counter',
    () => [{ labels: {}, value: a.labels.reassignments }]);
  add('socktop_sockets_tracked', 'Sockets the exporter keeps state for (bounded).', 'gauge',
    () => [{ labels: {}, value: a.sockets.size }]);
  add('socktop_sockets_evicted_total', 'Open sockets forgotten because the socket table was full.', 'counter',
    () => [{ labels: {}, value: a.sockets.evicted }]);
  add('socktop_info', 'The capture backend and socktop version (value 1).', 'gauge',
    () => [{ labels: { backend: v.info.backend, version: v.info.version }, value: 1 }]);
}

/** BPF CPU time needs kernel.bpf_stats_enabled=1: without it the kernel keeps no run time, and
 *  socktop exports only the 0 of socktop_bpf_stats_enabled rather than made-up figures. */
function addBpfProgramMetrics(add: Add, v: ExporterView): void {
  const enabled = v.bpfStatsEnabled ?? readBpfStatsEnabled;
  add('socktop_bpf_stats_enabled', '1 when sysctl kernel.bpf_stats_enabled=1, so the BPF program run time below is kept.', 'gauge',
    () => [{ labels: {}, value: enabled() ? 1 : 0 }]);
  const programs = () => (enabled() ? v.source?.stats()?.programs ?? [] : []);
  add('socktop_bpf_program_run_seconds_total', 'CPU time spent in each socktop BPF program (only with kernel.bpf_stats_enabled=1).', 'counter',
    () => programs().map((p) => ({ labels: { program: p.name }, value: p.runTimeNs / 1e9 })));
  add('socktop_bpf_program_runs_total', 'Runs of each socktop BPF program (only with kernel.bpf_stats_enabled=1).', 'counter',
    () => programs().map((p) => ({ labels: { program: p.name }, value: p.runCount })));
}

function readBpfStatsEnabled(): boolean {
  try {
    return fs.readFileSync('/proc/sys/kernel/bpf_stats_enabled', 'utf8').trim() === '1';
  } catch {
    return false;
  }
}
