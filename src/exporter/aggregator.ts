/**
 * aggregator.ts: the exporter's counters, aggregated straight from the shared ring's records (as
 * the TUI's model does: fields read from the DataView, no object per record). Pure: no HTTP, no
 * prom-client; metrics.ts turns a snapshot of these arrays into the exposition at scrape time.
 *
 * Counters live in one Float64Array row per comm slot (comm-labels.ts): ~other, ~unknown and the
 * top N names. Counting follows the model (src/model/model.ts): connects by result at their CONNECT
 * record, accepts that succeeded, one close per socket end, bytes from SEND/RECV deltas plus what a
 * CLOSE's totals add, resets by direction, retransmits. Snapshot records (sockets that existed at
 * start) only fill the gauges.
 */
import { AF_UNIX, dropCounters, durationKnown, EventKind, FAIL_REASONS, Flag, Offset, Reason, REASON_NAMES, TcpState } from '../capture/layout';
import { closeFailure, connectFailure } from '../model/failures';
import { CommLabels, OTHER_SLOT, SlotListener, UNKNOWN_SLOT } from './comm-labels';
import { SocketTable } from './socket-table';
import { PlaceLabels } from './place-labels';

/** Columns of a slot's counter row. */
export const C = {
  ConnectOk: 0,
  ConnectRefused: 1,
  ConnectTimeout: 2,
  ConnectUnreachable: 3,
  ConnectReset: 4,
  ConnectOther: 5,
  Accepts: 6,
  Closes: 7,
  Retransmits: 8,
  ResetsSent: 9,
  ResetsReceived: 10,
  BytesSent: 11,
  BytesReceived: 12,
  /** Any counted record: a slot with none is not exported. */
  Activity: 13,
  /** Connections dropped because a listener's accept queue was full (QUEUE records). */
  ListenOverflows: 14,
  /** Failed connects (and resets after establishment) by reason: FailBase + Reason. */
  FailBase: 15,
} as const;
const COLUMNS = C.FailBase + REASON_NAMES.length;

/** The `reason` label values of socktop_connect_failures_total: bounded (FAIL_REASONS). */
export const FAIL_REASON_LABELS: readonly { reason: Reason; label: string }[] =
  FAIL_REASONS.map((reason) => ({ reason, label: REASON_NAMES[reason] }));

/** The `result` label of each connect column, in column order (C.ConnectOk ...). */
export const CONNECT_RESULTS = ['ok', 'refused', 'timeout', 'unreachable', 'reset', 'other'] as const;

/** Connect latency bucket bounds in seconds (loopback is tens of µs; SYN retries at 1 s, 3 s). */
export const LATENCY_BOUNDS_SEC: readonly number[] = [
  0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10,
];
const BOUNDS_NS = LATENCY_BOUNDS_SEC.map((s) => s * 1e9);
/** Buckets per slot: one per bound, plus +Inf. */
const BUCKETS = LATENCY_BOUNDS_SEC.length + 1;

/** A CONNECT record's result column: by its reason where it has one, else by its errno. */
function resultColumn(reason: Reason, errno: number): number {
  switch (reason) {
    case Reason.None: return C.ConnectOk;
    case Reason.Refused: return C.ConnectRefused;
    case Reason.Timeout: return C.ConnectTimeout;
    case Reason.Unreachable: return C.ConnectUnreachable;
    default: return errno ? connectColumn(errno) : C.ConnectOther;
  }
}

/** errno -> connect result column (ECONNREFUSED, ETIMEDOUT, the unreachables, resets). */
function connectColumn(errno: number): number {
  switch (errno) {
    case 0: return C.ConnectOk;
    case 111: return C.ConnectRefused; // ECONNREFUSED
    case 110: return C.ConnectTimeout; // ETIMEDOUT
    case 100: case 101: case 112: case 113: return C.ConnectUnreachable; // ENETDOWN ENETUNREACH EHOSTDOWN EHOSTUNREACH
    case 103: case 104: return C.ConnectReset; // ECONNABORTED ECONNRESET
    default: return C.ConnectOther;
  }
}

const TWO32 = 4294967296;
function readU64(view: DataView, at: number): number {
  return view.getUint32(at + 4, true) * TWO32 + view.getUint32(at, true);
}

export interface AggregatorOptions {
  topComms: number;
  maxSockets?: number;
  /** cgroup id -> path (the live source's walk): the `container` and `pod_uid` labels. */
  cgroupPath?: (cgroupId: number) => string | undefined;
}

export class Aggregator implements SlotListener {
  readonly labels: CommLabels;
  readonly places: PlaceLabels;
  readonly sockets: SocketTable;
  /** slot * COLUMNS + column. */
  readonly counters: Float64Array;
  /** slot * BUCKETS + bucket (not cumulative). */
  readonly latencyBuckets: Float64Array;
  readonly latencySumSec: Float64Array;
  /** DROPS markers per stage (index: DropStage). */
  readonly dropMarkers = dropCounters();
  /** Records ingested. */
  records = 0;

  constructor(o: AggregatorOptions) {
    this.labels = new CommLabels(o.topComms, this);
    this.places = new PlaceLabels(o.cgroupPath);
    this.sockets = new SocketTable(o.maxSockets);
    const slots = this.labels.slotCount;
    this.counters = new Float64Array(slots * COLUMNS);
    this.latencyBuckets = new Float64Array(slots * BUCKETS);
    this.latencySumSec = new Float64Array(slots);
  }

  /**
   * A slot went to another name: its series start again from zero, and what the demoted name had
   * counted moves to ~other, so that a sum over comm never goes down (rate() of a sum stays right).
   */
  slotReassigned(slot: number): void {
    if (slot !== OTHER_SLOT) {
      for (let c = 0; c < COLUMNS; c++) this.counters[OTHER_SLOT * COLUMNS + c] += this.counters[slot * COLUMNS + c];
      for (let b = 0; b < BUCKETS; b++) this.latencyBuckets[OTHER_SLOT * BUCKETS + b] += this.latencyBuckets[slot * BUCKETS + b];
      this.latencySumSec[OTHER_SLOT] += this.latencySumSec[slot];
    }
    this.counters.fill(0, slot * COLUMNS, (slot + 1) * COLUMNS);
    this.latencyBuckets.fill(0, slot * BUCKETS, (slot + 1) * BUCKETS);
    this.latencySumSec[slot] = 0;
  }

  /** The labels of a slot: comm, and container / pod_uid when it has them. */
  slotLabels(slot: number): Record<string, string> {
    const out: Record<string, string> = { comm: this.labels.label(slot) };
    const place = this.places.label(this.labels.placeOf(slot));
    if (place.container) out.container = place.container;
    if (place.pod_uid) out.pod_uid = place.pod_uid;
    return out;
  }

  counter(slot: number, column: number): number {
    return this.counters[slot * COLUMNS + column];
  }

  /** Cumulative count of latency bucket `b` of `slot` (b = LATENCY_BOUNDS_SEC.length: +Inf). */
  latencyCumulative(slot: number, b: number): number {
    let n = 0;
    for (let i = 0; i <= b; i++) n += this.latencyBuckets[slot * BUCKETS + i];
    return n;
  }

  /** Aggregate one record. Reads only; allocates nothing for a known comm. */
  ingest(view: DataView, off: number): void {
    this.records++;
    const kind = view.getUint8(off + Offset.kind);
    if (kind === EventKind.Drops) {
      const stage = view.getUint8(off + Offset.new_state);
      if (stage < this.dropMarkers.length) this.dropMarkers[stage] += view.getUint32(off + Offset.count, true);
      return;
    }
    if (kind === EventKind.Exit) return;
    // The metrics are about TCP and UDP sockets: unix sockets (and their paths) and the UDP flow
    // summaries (whose datagrams SEND/RECV records already counted) are not in them.
    if (kind === EventKind.UnixPath || kind === EventKind.UdpFlow || view.getUint8(off + Offset.family) === AF_UNIX) return;
    const hasSock = view.getUint32(off + Offset.sock, true) !== 0 || view.getUint32(off + Offset.sock + 4, true) !== 0;
    const sock = hasSock ? this.sockets.find(view, off) : -1;
    if (view.getUint8(off + Offset.flags) & Flag.Snapshot) {
      if (hasSock) this.onSnapshot(sock, view, off, kind);
      return;
    }
    const slot = this.slotOf(sock, view, off);
    this.counters[slot * COLUMNS + C.Activity]++;
    this.dispatch(slot, sock, hasSock, view, off, kind);
  }

  /** The record's (comm, place) slot; softirq records (no comm) take their socket's owner. */
  private slotOf(sock: number, view: DataView, off: number): number {
    if (view.getUint8(off + Offset.comm) !== 0) return this.labels.slotFor(view, off, this.places.ofRecord(view, off));
    if (sock < 0) return UNKNOWN_SLOT;
    const w = this.sockets.comm;
    const i = sock * 4;
    return this.labels.slotForWords(w[i], w[i + 1], w[i + 2], w[i + 3], true, this.sockets.place[sock]);
  }

  private dispatch(slot: number, sock: number, hasSock: boolean, view: DataView, off: number, kind: number): void {
    const row = slot * COLUMNS;
    const error = view.getInt32(off + Offset.error, true);
    const st = this.sockets;
    switch (kind) {
      case EventKind.Socket:
        if (hasSock) this.own(st.openEntry(sock, view, off), view, off);
        break;
      case EventKind.Listen:
        if (hasSock && error === 0) st.setState(this.own(st.openEntry(sock, view, off), view, off), TcpState.Listen);
        break;
      case EventKind.ConnectStart:
        if (hasSock) st.setState(this.own(st.openEntry(sock, view, off), view, off), TcpState.SynSent);
        break;
      case EventKind.Connect:
        this.onConnect(row, slot, sock, view, off, error);
        break;
      case EventKind.Accept:
        if (error !== 0) break;
        this.counters[row + C.Accepts]++;
        if (hasSock) st.setState(this.own(st.openEntry(sock, view, off), view, off), TcpState.Established);
        break;
      case EventKind.State: {
        const state = view.getUint8(off + Offset.new_state);
        if (sock >= 0 && st.isOpen(sock)) st.setState(sock, state);
        else if (hasSock && state !== TcpState.Close) st.setState(st.openEntry(sock, view, off), state);
        break;
      }
      case EventKind.Close:
        this.onClose(row, sock, view, off);
        break;
      case EventKind.Send: {
        const n = readU64(view, off + Offset.bytes_sent);
        this.counters[row + C.BytesSent] += n;
        if (hasSock) st.sent[this.touched(sock, view, off)] += n;
        break;
      }
      case EventKind.Recv: {
        const n = readU64(view, off + Offset.bytes_received);
        this.counters[row + C.BytesReceived] += n;
        if (hasSock) st.received[this.touched(sock, view, off)] += n;
        break;
      }
      case EventKind.Retransmit:
        this.counters[row + C.Retransmits]++;
        break;
      case EventKind.Queue:
        this.counters[row + C.ListenOverflows] += view.getUint32(off + Offset.count, true);
        break;
      case EventKind.Reset:
        if (view.getUint8(off + Offset.flags) & Flag.ResetSent) this.counters[row + C.ResetsSent]++;
        else this.counters[row + C.ResetsReceived]++;
        break;
      default:
        break;
    }
  }

  private onConnect(row: number, slot: number, sock: number, view: DataView, off: number, error: number): void {
    const reason = connectFailure(view, off);
    const column = resultColumn(reason, error);
    this.counters[row + column]++;
    if (reason !== Reason.None) this.countFailure(row, reason);
    if (column === C.ConnectOk && durationKnown(view, off)) this.observeLatency(slot, readU64(view, off + Offset.duration_ns));
    if (sock < 0 || !this.sockets.isOpen(sock)) return;
    const state = view.getUint8(off + Offset.new_state);
    this.sockets.setState(sock, state !== 0 ? state : error === 0 ? TcpState.Established : TcpState.Close);
  }

  /** One close per socket end; bytes its totals add to what SEND/RECV reported. */
  private onClose(row: number, sock: number, view: DataView, off: number): void {
    const st = this.sockets;
    if (sock >= 0 && !st.isOpen(sock)) return; // a second end-of-socket report
    this.counters[row + C.Closes]++;
    if (closeFailure(view, off) === Reason.Reset) this.countFailure(row, Reason.Reset);
    const totalSent = readU64(view, off + Offset.bytes_sent);
    const totalRecv = readU64(view, off + Offset.bytes_received);
    const dSent = totalSent - (sock >= 0 ? st.sent[sock] : 0);
    const dRecv = totalRecv - (sock >= 0 ? st.received[sock] : 0);
    if (dSent > 0) this.counters[row + C.BytesSent] += dSent;
    if (dRecv > 0) this.counters[row + C.BytesReceived] += dRecv;
    if (sock >= 0) st.close(sock);
    else if (view.getUint32(off + Offset.sock, true) !== 0 || view.getUint32(off + Offset.sock + 4, true) !== 0) {
      st.close(st.openEntry(-1, view, off)); // remembered, so a second report is not counted
    }
  }

  /** A failure of `reason` (a code this version does not know counts as local: bounded labels). */
  private countFailure(row: number, reason: Reason): void {
    const r = reason < REASON_NAMES.length && reason !== Reason.None ? reason : Reason.Local;
    this.counters[row + C.FailBase + r]++;
  }

  /** The socket's open entry for a SEND/RECV (a socket first seen by its bytes). */
  private touched(sock: number, view: DataView, off: number): number {
    if (sock >= 0 && this.sockets.isOpen(sock)) return sock;
    return this.own(this.sockets.openEntry(sock, view, off), view, off);
  }

  private own(idx: number, view: DataView, off: number): number {
    if (view.getUint8(off + Offset.comm) !== 0) this.sockets.setComm(idx, view, off, this.places.ofRecord(view, off));
    return idx;
  }

  private observeLatency(slot: number, ns: number): void {
    let b = 0;
    while (b < BOUNDS_NS.length && ns > BOUNDS_NS[b]) b++;
    this.latencyBuckets[slot * BUCKETS + b]++;
    this.latencySumSec[slot] += ns / 1e9;
  }

  private onSnapshot(sock: number, view: DataView, off: number, kind: number): void {
    if (kind === EventKind.Close) return;
    const idx = this.own(this.sockets.openEntry(sock, view, off), view, off);
    const state = view.getUint8(off + Offset.new_state);
    const rport = view.getUint16(off + Offset.rport, true);
    this.sockets.setState(idx, state || (kind === EventKind.Listen ? TcpState.Listen : rport ? TcpState.Established : 0));
  }

  /** Slots that have counted anything (the ones exported), ~other and ~unknown included. */
  activeSlots(): number[] {
    const out: number[] = [];
    for (let s = 0; s < this.labels.slotCount; s++) {
      if (this.counters[s * COLUMNS + C.Activity] > 0) out.push(s);
    }
    return out;
  }

  /** Open listening sockets per slot (scrape time: walks the socket table). */
  listenersPerSlot(): Map<number, number> {
    const out = new Map<number, number>();
    const w = this.sockets.comm;
    this.sockets.forEachOpen((idx, state) => {
      if (state !== TcpState.Listen) return;
      const i = idx * 4;
      const slot = this.labels.slotForWords(w[i], w[i + 1], w[i + 2], w[i + 3], false, this.sockets.place[idx]);
      out.set(slot, (out.get(slot) ?? 0) + 1);
    });
    return out;
  }
}

export { OTHER_SLOT, UNKNOWN_SLOT };
