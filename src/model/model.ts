/**
 * model.ts: SocketModel aggregates event records straight from the shared ring's DataView into
 * per-process rows (process-table.ts) and per-socket entries (socket-table.ts): what each kind of
 * event means for them is decided here. Never imports blessed; the TUI, batch mode and tests all
 * read it through the query API at the bottom.
 *
 * Cost: ingest() reads the fields it needs with DataView calls and allocates nothing for most
 * records. Objects are created once per process (ProcessRow) and once per socket (SocketEntry);
 * SEND/RECV, STATE, RETRANSMIT and friends touch only existing objects and typed arrays.
 *
 * Time: rates are bucketed by the record's own timestamp (CLOCK_MONOTONIC from the kernel), so a
 * replay at any speed gives the same per-second figures. refresh(nowNs) evaluates the windows at a
 * "now" the caller supplies (live: the monotonic clock; replay: the replay clock), else the newest
 * record time.
 *
 * About 600 lines on purpose: the meaning of every event kind, in one switch a reader can check
 * against bpf/socktop.h; the state lives in the two tables.
 */
import {
  AF_UNIX, dropCounters, durationKnown, EventKind, FAIL_REASONS, Flag, Offset, Reason, REASON_NAMES, TcpState,
} from '../capture/layout';
import { closeFailure, connectFailure, failCounters } from './failures';
import { addOverflows, endQueue, ListenQueue, tellQueue } from './listen-queue';
import { Families, familyShown } from './families';
import { UdpFlowRow, UdpFlowTable } from './udp-flows';
import { UnixPathTable } from './unix-paths';
import type { EventJson } from '../capture/decode';
import { EventLog, WordSource } from './eventlog';
import { LatencyHistogram } from './latency';
import { IngestCursor } from './ingest-cursor';
import { ProcessRow, Series, SERIES_COUNT } from './processes';
import { pow2AtLeast, ProcessTable } from './process-table';
import { RateWindow } from './rates';
import { SocketEntry, socketKey } from './sockets';
import { SocketTable } from './socket-table';
import { RowFilter } from './filter';
import { filterSort, isSortKey, SortKey } from './query';
import { UserNames } from '../capture/users';
import { Placement, PlacementBook } from './container';
import { ListenerStats, ListenerTable, RemoteStats, RemoteTable } from './endpoints';
import { RetiredCommands } from './retired';

export interface ModelOptions {
  /** Seconds in the sliding window of the per-second rates. */
  rateWindowSec: number;
  /** Seconds of global per-second history kept for the chart (rounded up to a power of two). */
  historySec: number;
  maxProcesses: number;
  maxSockets: number;
  /** An exited process stays visible (marked) this long, then goes. */
  exitedTtlSec: number;
  /** A closed socket stays in the detail view this long... */
  closedSocketTtlSec: number;
  /** ...and at most this many closed sockets are kept in all (a storm closes thousands a second:
   *  keeping 10 s of them would hold hundreds of MB for a view that shows a screenful). */
  maxClosedSockets: number;
  /** A process with nothing open or listening and no event for this long goes (its EXIT was missed). */
  idleTtlSec: number;
  processLogSize: number;
  globalLogSize: number;
  /** Keep SEND/RECV records in the recent-event logs (off: they would push out the lifecycle). */
  logBytesEvents: boolean;
  users: UserNames;
  /** Remote endpoints and listening ports kept at most (the least recently active go first). */
  maxEndpoints: number;
  /** Parent pid of a process first seen (live: /proc; replay: the recording), for the tree. */
  parentOf?: (pid: number) => number | undefined | null;
}

export const DEFAULT_MODEL_OPTIONS: ModelOptions = {
  rateWindowSec: 5,
  historySec: 120,
  maxProcesses: 20000,
  maxSockets: 65536,
  exitedTtlSec: 60,
  closedSocketTtlSec: 10,
  maxClosedSockets: 4096,
  idleTtlSec: 600,
  processLogSize: 32,
  globalLogSize: 1024,
  logBytesEvents: false,
  users: new UserNames(),
  maxEndpoints: 8192,
};

export interface ModelStats {
  /** Records ingested in total. */
  events: number;
  eventsPerSec: number;
  /** Events lost per stage, from DROPS markers: index 1 bpf_ring, 2 shared_ring, 3 recording. */
  drops: readonly number[];
  /** Events whose owner was unknown (softirq, pid 0) and whose socket we did not know either. */
  unattributed: number;
  processes: number;
  /** Socket entries held (open, and closed ones kept for the detail view). */
  sockets: number;
  openSockets: number;
  evictedProcesses: number;
  evictedSockets: number;
  /** Newest record time seen (ns, monotonic clock of the capturing host). */
  lastTsNs: number;
  firstTsNs: number;
}

/** One listening socket's queue, for the detail view and metrics. */
export interface ListenQueueView {
  pid: number;
  port: number;
  len: number;
  max: number;
  synQueue: number;
  overflows: number;
  full: boolean;
}

/** Host-wide failure and listen-queue figures (what a metric registry reads). */
export interface HealthTotals {
  /** Failed connects (and resets after establishment) by reason name: refused, timeout, ... */
  failures: Record<string, number>;
  /** Listen overflows seen (connections dropped because an accept queue was full). */
  listenOverflows: number;
  /** Accept wait percentiles over every accepted connection (ns; NaN: none). */
  acceptP50Ns: number;
  acceptP99Ns: number;
  /** Accept queues summed over every listener socktop follows, now. */
  queueLen: number;
  queueMax: number;
}

export interface ChartHistory {
  connects: number[];
  accepts: number[];
  closes: number[];
  errors: number[];
}

const TWO32 = 4294967296;
const SEC = 1e9;

function readU64(view: DataView, at: number): number {
  return view.getUint32(at + 4, true) * TWO32 + view.getUint32(at, true);
}

/** The record names other ports than the (closed) entry under its socket address knew. */
function addressReused(sock: SocketEntry, view: DataView, off: number): boolean {
  const lport = view.getUint16(off + Offset.lport, true);
  const rport = view.getUint16(off + Offset.rport, true);
  return (lport !== 0 && sock.lport !== 0 && lport !== sock.lport)
    || (rport !== 0 && sock.rport !== 0 && rport !== sock.rport);
}

/**
 * Keep the row's cgroup and netns (a record that does not know them, 0, leaves them). Unix sockets
 * say nothing of where their user runs: they are most often inherited (stdio pipes a parent made
 * in its own cgroup, e.g. a container runtime's or a test runner's), so only inet sockets and the
 * task's own records (EXIT) place a process.
 */
function notePlace(row: ProcessRow, view: DataView, off: number): void {
  if (view.getUint8(off + Offset.family) === AF_UNIX) return;
  const cgroup = readU64(view, off + Offset.cgroup_id);
  if (cgroup !== 0) row.cgroupId = cgroup;
  const netns = view.getUint32(off + Offset.netns, true);
  if (netns !== 0) row.netns = netns;
}

export class SocketModel {
  readonly options: ModelOptions;
  /** The record being ingested (time, second, socket key), shared with the two tables. */
  private readonly cursor = new IngestCursor();
  private readonly procs: ProcessTable;
  private readonly socks: SocketTable;
  private readonly global: RateWindow;
  private readonly globalLog: EventLog;
  private readonly words = new WordSource();
  /** cgroup id -> container/pod/unit; the source supplies the paths (setCgroupResolver). */
  private readonly places = new PlacementBook(() => undefined);
  private containerNamer: ((containerId: string) => string | undefined) | null = null;
  private readonly remoteTable: RemoteTable;
  private readonly listenerTable: ListenerTable;
  private readonly retired = new RetiredCommands();
  /** Unix socket addresses by path_id (UNIX_PATH records). */
  private readonly unixPaths = new UnixPathTable();
  private readonly udpFlows = new UdpFlowTable();
  /** The socket families shown (--family, the TUI's u key); null: all. Applied as records come in. */
  private families: Families = null;

  private events = 0;
  private readonly drops = dropCounters();
  /** Host-wide failures by reason (index = Reason), overflows and accept waits. */
  private readonly fails = failCounters();
  private overflowTotal = 0;
  private readonly acceptWait = new LatencyHistogram();
  private unattributed = 0;
  private firstTs = 0;
  private lastTs = 0;
  private nowNs = 0;

  constructor(options: Partial<ModelOptions> = {}) {
    this.options = { ...DEFAULT_MODEL_OPTIONS, ...options };
    this.procs = new ProcessTable(this.cursor, this.options);
    this.socks = new SocketTable(this.cursor, this.procs, this.options);
    this.global = new RateWindow(SERIES_COUNT, pow2AtLeast(this.options.historySec + 2));
    this.globalLog = new EventLog(this.options.globalLogSize);
    const slots = pow2AtLeast(this.options.rateWindowSec + 2);
    this.remoteTable = new RemoteTable(this.options.maxEndpoints, slots);
    this.listenerTable = new ListenerTable(this.options.maxEndpoints, slots);
    this.procs.onRemove = (row) => this.retired.add(row);
  }

  // ------------------------------------------------------------------ ingest (hot path)

  /** Aggregate one record. Reads only; the slot may be reused as soon as this returns. */
  ingest(view: DataView, off: number): void {
    const kind = view.getUint8(off + Offset.kind);
    const ts = readU64(view, off + Offset.ts_ns);
    const cursor = this.cursor;
    cursor.ts = ts;
    cursor.sec = Math.floor(ts / SEC);
    this.events++;
    if (ts > this.lastTs) this.lastTs = ts;
    if (this.firstTs === 0 || (ts > 0 && ts < this.firstTs)) this.firstTs = ts;
    this.global.addAt(Series.Events, cursor.sec, 1);
    if (kind === EventKind.Drops) {
      const stage = view.getUint8(off + Offset.new_state);
      if (stage < this.drops.length) this.drops[stage] += view.getUint32(off + Offset.count, true);
      return;
    }
    if (kind === EventKind.Exit) {
      this.onExit(view, off);
      return;
    }
    if (kind === EventKind.UnixPath) {
      this.unixPaths.ingest(view, off);
      return;
    }
    if (!familyShown(this.families, view.getUint8(off + Offset.family))) return;
    const hasSock = view.getUint32(off + Offset.sock, true) !== 0 || view.getUint32(off + Offset.sock + 4, true) !== 0;
    const key = hasSock ? socketKey(view, off) : 0;
    cursor.key = key;
    let sock = hasSock ? this.socks.get(key) : undefined;
    // The kernel reuses a freed struct sock at once: a closed entry whose ports differ from the
    // record's is another connection's socket now (typically the child socket of an incoming
    // connection, before accept), not a late event of this one.
    if (sock !== undefined && sock.closedNs !== 0 && addressReused(sock, view, off)) sock = undefined;
    const pid = view.getUint32(off + Offset.pid, true);
    let row: ProcessRow | undefined;
    if (pid === 0) {
      // Softirq event: the model may know the owner from the socket's earlier syscall events.
      // The record's comm and uid are empty then: the row is looked up, never renamed or created.
      // A socket not known yet whose local port some process listens on is a connection to that
      // listener, not accepted yet (the handshake's state changes): that process's.
      row = sock ? this.procs.get(sock.pid) : this.socks.listenerOf(view.getUint16(off + Offset.lport, true));
      if (!row) {
        this.unattributed++;
        if (sock) this.touchSocket(sock, view, off, kind);
        return;
      }
    } else if (kind === EventKind.Queue) {
      // A periodic sample of a listener, named by the socket's history (the comm its owner had
      // when it last acted on it): it never renames the process, which may have been renamed since.
      row = this.procs.get(pid) ?? this.procs.rowFor(pid, view, off, kind);
    } else {
      row = this.procs.rowFor(pid, view, off, kind);
      notePlace(row, view, off);
    }
    if (ts > row.lastNs) row.lastNs = ts;
    if ((kind === EventKind.State || kind === EventKind.Accept) && view.getUint32(off + Offset.queue_max, true) !== 0) {
      const listener = this.socks.listeningSocket(view.getUint16(off + Offset.lport, true));
      if (listener) this.setQueue(listener, view.getUint32(off + Offset.queue_len, true), view.getUint32(off + Offset.queue_max, true));
    }
    const flags = view.getUint8(off + Offset.flags);
    if (flags & Flag.Snapshot) {
      this.onSnapshot(row, sock, view, off, kind);
    } else {
      sock = this.dispatch(row, sock, hasSock, view, off, kind);
    }
    if (sock && ts > sock.lastNs) sock.lastNs = ts;
    this.log(row, view, off, kind);
  }

  private dispatch(
    row: ProcessRow, sock: SocketEntry | undefined, hasSock: boolean,
    view: DataView, off: number, kind: number,
  ): SocketEntry | undefined {
    const error = view.getInt32(off + Offset.error, true);
    const sec = this.cursor.sec;
    switch (kind) {
      case EventKind.Socket:
        if (!hasSock) break;
        sock = this.socks.openFresh(row, sock);
        sock.setTuple(view, off);
        break;
      case EventKind.Accept:
        if (error === 0) {
          row.accepts++;
          row.lastAcceptNs = this.cursor.ts;
          this.addAcceptWait(row, view, off);
          row.rates.addAt(Series.Accepts, sec, 1);
          this.global.addAt(Series.Accepts, sec, 1);
          if (hasSock) {
            sock = this.socks.openFresh(row, sock);
            sock.setTuple(view, off);
            sock.state = TcpState.Established;
          }
          const listener = this.listenerTable.accept(view, off, sec, this.cursor.ts);
          if (sock && listener) sock.listenerStats = listener;
        }
        break;
      case EventKind.Listen:
        if (!hasSock || error !== 0) break;
        sock = this.socks.openCounted(row, sock);
        sock.setTuple(view, off);
        this.socks.markListening(sock);
        this.noteListener(row, sock);
        this.setQueue(sock, view.getUint32(off + Offset.queue_len, true), view.getUint32(off + Offset.queue_max, true));
        break;
      case EventKind.Queue:
        sock = this.onQueue(row, sock, hasSock, view, off);
        break;
      case EventKind.ConnectStart:
        if (!hasSock) break;
        sock = this.socks.openCounted(row, sock);
        sock.setTuple(view, off);
        sock.state = TcpState.SynSent;
        break;
      case EventKind.Connect:
        // A unix connect is reported once, at its end (no CONNECT_START opened the socket).
        if (hasSock && error === 0 && view.getUint8(off + Offset.family) === AF_UNIX) sock = this.socks.openCounted(row, sock);
        this.onConnect(row, sock, view, off, error);
        break;
      case EventKind.State:
        if (sock) this.touchSocket(sock, view, off, kind);
        break;
      case EventKind.Bind:
        if (sock && error === 0) sock.setTuple(view, off);
        break;
      case EventKind.Close:
        sock = this.onClose(row, sock, hasSock, view, off);
        break;
      case EventKind.Send:
      case EventKind.Recv:
        sock = this.onBytes(row, sock, hasSock, view, off, kind === EventKind.Send);
        break;
      case EventKind.UdpFlow:
        this.udpFlows.ingest(view, off);
        break;
      case EventKind.Retransmit:
        row.retransmits++;
        if (sock) sock.retransmits++;
        break;
      case EventKind.Reset:
        if (view.getUint8(off + Offset.flags) & Flag.ResetSent) row.resetsSent++;
        else row.resetsReceived++;
        // A RST answering our SYN is a refused connect: the CONNECT result counts that error.
        if (!sock || sock.state !== TcpState.SynSent) this.addError(row, 0);
        break;
      default:
        break;
    }
    // Failed calls other than connect (bind EADDRINUSE, listen, accept) count as errors too.
    // CLOSE and STATE may carry the socket's last error, already counted by CONNECT or RESET.
    if (error !== 0 && kind !== EventKind.Connect && kind !== EventKind.Close && kind !== EventKind.State) {
      this.addError(row, error);
    }
    return sock;
  }

  private onConnect(row: ProcessRow, sock: SocketEntry | undefined, view: DataView, off: number, error: number): void {
    const sec = this.cursor.sec;
    row.rates.addAt(Series.Connects, sec, 1);
    this.global.addAt(Series.Connects, sec, 1);
    const reason = connectFailure(view, off);
    // A connect whose SYN went out before socktop started has no latency to count.
    const latencyNs = reason === Reason.None && durationKnown(view, off) ? readU64(view, off + Offset.duration_ns) : -1;
    const remote = this.remoteTable.connect(view, off, sec, this.cursor.ts, row.pid, row.comm, error, latencyNs);
    if (reason === Reason.None) {
      row.connectsOk++;
      if (!row.latency) row.latency = new LatencyHistogram();
      if (latencyNs >= 0) row.latency.add(latencyNs);
      if (sock) {
        sock.setTuple(view, off);
        sock.state = TcpState.Established;
        sock.remoteStats = remote ?? null;
        if (latencyNs >= 0) sock.connectNs = latencyNs;
      }
    } else {
      row.connectsFailed++;
      this.addFailure(row, reason);
      this.addError(row, error);
    }
  }

  private addFailure(row: ProcessRow, reason: number): void {
    const at = Math.min(reason, REASON_NAMES.length); // a newer version's code: the spare slot
    if (!row.fails) row.fails = failCounters();
    row.fails[at]++;
    row.failTotal++;
    this.fails[at]++;
  }

  /** ACCEPT: how long the connection waited, established, before its program took it. */
  private addAcceptWait(row: ProcessRow, view: DataView, off: number): void {
    if (!durationKnown(view, off)) return;
    const ns = readU64(view, off + Offset.duration_ns);
    if (ns === 0) return; // not known (records from before accept waits were measured)
    if (!row.acceptWait) row.acceptWait = new LatencyHistogram();
    row.acceptWait.add(ns);
    this.acceptWait.add(ns);
  }

  /** A listener's accept queue as a record tells it (listen-queue.ts), its owner's sums with it. */
  private setQueue(sock: SocketEntry, len: number, max: number): void {
    if (!sock.queue) sock.queue = new ListenQueue();
    tellQueue(sock.queue, sock.owner, len, max, this.cursor.ts);
  }

  /** QUEUE: a listener's periodic sample: queue, SYN queue, and the overflows since the last. */
  private onQueue(
    row: ProcessRow, sock: SocketEntry | undefined, hasSock: boolean, view: DataView, off: number,
  ): SocketEntry | undefined {
    if (!sock?.open) {
      if (!hasSock) return sock;
      sock = this.socks.openCounted(row, sock); // a listener whose LISTEN this model did not see
      sock.setTuple(view, off);
      this.socks.markListening(sock);
    }
    this.setQueue(sock, view.getUint32(off + Offset.queue_len, true), view.getUint32(off + Offset.queue_max, true));
    const q = sock.queue!;
    q.synQueue = readU64(view, off + Offset.bytes_received);
    const dropped = view.getUint32(off + Offset.count, true);
    if (dropped > 0) {
      addOverflows(q, row, dropped, this.cursor.ts);
      this.overflowTotal += dropped;
    }
    return sock;
  }

  /** SEND/RECV: bytes of one call (or one interval), to the row, the rates and the socket. */
  private onBytes(
    row: ProcessRow, sock: SocketEntry | undefined, hasSock: boolean, view: DataView, off: number, sent: boolean,
  ): SocketEntry | undefined {
    const n = readU64(view, off + (sent ? Offset.bytes_sent : Offset.bytes_received));
    this.addBytes(row, sent ? Series.Tx : Series.Rx, n);
    if (!sock && hasSock) sock = this.socks.openUncounted(row, view, off);
    else if (sock?.isUnix) sock.setTuple(view, off); // the peer's pid, once its owner is known
    if (sock) {
      if (sent) sock.sent += n;
      else sock.received += n;
      const remote = sock.remoteStats;
      if (remote) {
        if (sent) remote.bytesSent += n;
        else remote.bytesReceived += n;
      }
    }
    return sock;
  }

  /**
   * CLOSE carries the socket's totals: what SEND/RECV did not report yet is added now, so byte
   * counts are right whether the backend reports per call, per interval, or only at close.
   */
  private onClose(
    row: ProcessRow, sock: SocketEntry | undefined, hasSock: boolean,
    view: DataView, off: number,
  ): SocketEntry | undefined {
    const totalSent = readU64(view, off + Offset.bytes_sent);
    const totalRecv = readU64(view, off + Offset.bytes_received);
    if (sock && !sock.open) return sock; // a second end-of-socket report for the same socket
    const sec = this.cursor.sec;
    if (closeFailure(view, off) === Reason.Reset) this.addFailure(row, Reason.Reset);
    if (sock?.queue) endQueue(sock.queue, sock.owner);
    row.closes++;
    row.rates.addAt(Series.Closes, sec, 1);
    this.global.addAt(Series.Closes, sec, 1);
    const dSent = totalSent - (sock ? sock.sent : 0);
    const dRecv = totalRecv - (sock ? sock.received : 0);
    if (dSent > 0) this.addBytes(row, Series.Tx, dSent);
    if (dRecv > 0) this.addBytes(row, Series.Rx, dRecv);
    const remote = sock?.remoteStats;
    if (remote) {
      if (dSent > 0) remote.bytesSent += dSent;
      if (dRecv > 0) remote.bytesReceived += dRecv;
    }
    if (!sock) {
      if (!hasSock) return undefined;
      sock = this.socks.openUncounted(row, view, off);
    } else if (view.getUint8(off + Offset.family) !== 0 && sock.lport === 0) {
      sock.setTuple(view, off);
    }
    if (totalSent > sock.sent) sock.sent = totalSent;
    if (totalRecv > sock.received) sock.received = totalRecv;
    this.socks.close(sock);
    return sock;
  }

  private onExit(view: DataView, off: number): void {
    const ts = this.cursor.ts;
    const pid = view.getUint32(off + Offset.pid, true);
    // Only processes that used sockets have rows; an exit of any other process is not ours.
    const row = this.procs.get(pid);
    if (!row) return;
    row.exited = true;
    row.exitNs = ts;
    row.exitCode = view.getUint32(off + Offset.count, true);
    notePlace(row, view, off);
    if (ts > row.lastNs) row.lastNs = ts;
    this.procs.updateComm(row, view, off);
    this.log(row, view, off, EventKind.Exit);
    this.socks.closeEndedByExit(pid);
  }

  /** Sockets that existed before the capture started: open (and listening) rows, no counters. */
  private onSnapshot(
    row: ProcessRow, sock: SocketEntry | undefined, view: DataView, off: number, kind: number,
  ): void {
    if (this.cursor.key === 0 || kind === EventKind.Close) return;
    const opened = row.opened; // a socket open before the capture was not opened during it
    sock = this.socks.openCounted(row, sock);
    row.opened = opened;
    sock.snapshot = true;
    sock.setTuple(view, off);
    const state = view.getUint8(off + Offset.new_state);
    sock.state = state || (kind === EventKind.Listen ? TcpState.Listen : sock.rport ? TcpState.Established : 0);
    if (kind === EventKind.Listen || sock.state === TcpState.Listen) {
      this.socks.markListening(sock);
      this.noteListener(row, sock);
    }
  }

  private noteListener(row: ProcessRow, sock: SocketEntry): void {
    if (sock.listenPort === 0) return;
    this.listenerTable.listen(sock.listenPort, row.pid, row.comm, row.uid, sock.local(), this.cursor.ts);
  }

  private touchSocket(sock: SocketEntry, view: DataView, off: number, kind: number): void {
    const ts = this.cursor.ts;
    if (ts > sock.lastNs) sock.lastNs = ts;
    if (kind !== EventKind.State) return;
    const state = view.getUint8(off + Offset.new_state);
    if (sock.open) sock.state = state;
    if (sock.rport === 0 && view.getUint16(off + Offset.rport, true) !== 0) sock.setTuple(view, off);
  }

  private addBytes(row: ProcessRow, series: number, n: number): void {
    if (series === Series.Tx) row.bytesSent += n;
    else row.bytesReceived += n;
    row.rates.addAt(series, this.cursor.sec, n);
    this.global.addAt(series, this.cursor.sec, n);
  }

  private addError(row: ProcessRow, errno: number): void {
    row.errors++;
    if (errno !== 0) row.addErrno(errno);
    row.rates.addAt(Series.Errors, this.cursor.sec, 1);
    this.global.addAt(Series.Errors, this.cursor.sec, 1);
  }

  private log(row: ProcessRow, view: DataView, off: number, kind: number): void {
    if (!this.options.logBytesEvents && (kind === EventKind.Send || kind === EventKind.Recv || kind === EventKind.UdpFlow)) return;
    const word = this.words.locate(view, off);
    const src = this.words.array;
    if (!row.log) row.log = new EventLog(this.options.processLogSize);
    row.log.push(src, word);
    if (this.globalLog.capacity > 0) this.globalLog.push(src, word);
  }

  // ------------------------------------------------------------------ per frame

  /**
   * Evaluate rates and percentiles at `nowNs` and age out what is old. Call once per frame (or
   * per batch snapshot), not per record. Without a clock, the newest record time is "now".
   */
  refresh(nowNs?: number): void {
    this.nowNs = nowNs ?? this.lastTs;
    this.procs.refresh(this.nowNs);
    this.resolvePlaces();
    this.socks.ageOut(this.nowNs - this.options.closedSocketTtlSec * SEC);
  }

  /** Name each row's cgroup (once per id change; an unknown path is asked again next frame). */
  private resolvePlaces(): void {
    const namer = this.containerNamer;
    for (const row of this.procs.values()) {
      if (row.placeId !== row.cgroupId || (row.place === undefined && row.cgroupId !== 0)) {
        row.place = this.places.get(row.cgroupId);
        row.placeId = row.cgroupId;
        row.containerName = undefined;
      }
      const id = row.place?.containerId;
      if (namer && id && row.containerName === undefined && !row.place?.monitor) row.containerName = namer(id);
    }
  }

  /** Where container names come from (live: the runtime's API); a row asks until it has one. */
  setContainerNamer(nameOf: (containerId: string) => string | undefined): void {
    this.containerNamer = nameOf;
  }

  /** Where cgroup paths come from: the live walk (capture/cgroups.ts) or a recording's map. */
  setCgroupResolver(pathOf: (cgroupId: number) => string | undefined): void {
    this.places.setResolver(pathOf);
    for (const row of this.procs.values()) row.place = undefined;
  }

  /** The container / pod / unit of a cgroup id, when its path is known. */
  placement(cgroupId: number): Placement | undefined {
    return this.places.get(cgroupId);
  }

  /** The "now" of the last refresh (ns, record clock). */
  get now(): number {
    return this.nowNs;
  }

  // ------------------------------------------------------------------ queries

  /** Filtered rows sorted by `key`; figures as of the last refresh(). */
  query(filter: RowFilter, key: SortKey | string, descending: boolean): ProcessRow[] {
    const sortKey = isSortKey(key) ? key : 'conn';
    return filterSort(this.procs.values(), filter, sortKey, descending, this.nowNs, (uid) => this.userName(uid));
  }

  /** Every process row held (live and exited), unsorted: the views' input, and the alert
   *  evaluator's each tick. */
  rows(): IterableIterator<ProcessRow> {
    return this.procs.values();
  }

  /** Every socket held, open and recently closed; visit() must not keep the entry past the frame. */
  eachSocket(visit: (sock: SocketEntry) => void): void {
    this.socks.each(visit);
  }

  /** The live row listening on `port`, if any. */
  listenerOf(port: number): ProcessRow | undefined {
    return this.socks.listenerOf(port);
  }

  remotes(): IterableIterator<RemoteStats> {
    return this.remoteTable.values();
  }

  listeners(): IterableIterator<ListenerStats> {
    return this.listenerTable.values();
  }

  /** Totals of processes no longer held, per command and user. */
  retiredCommands(): RetiredCommands {
    return this.retired;
  }

  process(pid: number): ProcessRow | undefined {
    return this.procs.get(pid);
  }

  /** The process's sockets: open ones first (oldest first), then recently closed ones. */
  /** Which socket families records are taken from (null: all); records of others are skipped. */
  setFamilies(families: Families): void {
    this.families = families;
  }

  get shownFamilies(): Families {
    return this.families;
  }

  /** A unix socket address by its id (raw text: escape before showing), if its bytes were seen. */
  unixPath(id: number): string | undefined {
    return this.unixPaths.get(id);
  }

  socketsOf(pid: number): SocketEntry[] {
    return this.socks.socketsOf(pid);
  }

  /** The process's UDP flows (peer, datagrams and bytes each way), most recently seen first. */
  udpFlowsOf(pid: number): UdpFlowRow[] {
    return this.udpFlows.flowsOf(pid);
  }

  recentEvents(pid: number, max?: number): EventJson[] {
    return this.procs.get(pid)?.log?.recent(max) ?? [];
  }

  recentGlobal(max?: number): EventJson[] {
    return this.globalLog.recent(max);
  }

  userName(uid: number): string {
    return this.options.users.name(uid);
  }

  stats(): ModelStats {
    return {
      events: this.events,
      eventsPerSec: this.global.rate(Series.Events, this.nowNs, this.options.rateWindowSec),
      drops: this.drops.slice(),
      unattributed: this.unattributed,
      processes: this.procs.size,
      sockets: this.socks.held,
      openSockets: this.socks.openCount,
      evictedProcesses: this.procs.evictedCount,
      evictedSockets: this.socks.evictedCount,
      lastTsNs: this.lastTs,
      firstTsNs: this.firstTs,
    };
  }

  /** Per-second counts over the last `seconds` complete seconds, oldest first (the chart). */
  history(seconds: number): ChartHistory {
    const n = Math.min(seconds, this.global.slots - 2);
    return {
      connects: this.global.history(Series.Connects, this.nowNs, n),
      accepts: this.global.history(Series.Accepts, this.nowNs, n),
      closes: this.global.history(Series.Closes, this.nowNs, n),
      errors: this.global.history(Series.Errors, this.nowNs, n),
    };
  }

  /** Copies of every row as of the last refresh, for a paused display (the live rows keep changing). */
  frozenRows(): ProcessRow[] {
    return [...this.procs.values()].map((row) => row.frozenCopy());
  }

  /** Listening sockets with a known queue (pid 0: all), most loaded first. */
  listenQueues(pid = 0): ListenQueueView[] {
    const out: ListenQueueView[] = [];
    for (const sock of this.socks.listeningWithQueue(pid)) {
      const q = sock.queue!;
      out.push({ pid: sock.pid, port: sock.lport, len: q.len, max: q.max, synQueue: q.synQueue, overflows: q.overflows, full: q.full });
    }
    return out.sort((a, b) => b.len - a.len || b.overflows - a.overflows || a.port - b.port);
  }

  /** Host-wide failures by reason, listen overflows, accept waits and queues. */
  healthTotals(): HealthTotals {
    const failures: Record<string, number> = {};
    for (const r of FAIL_REASONS) failures[REASON_NAMES[r]] = this.fails[r];
    let queueLen = 0;
    let queueMax = 0;
    for (const row of this.procs.values()) {
      queueLen += row.queueLen;
      queueMax += row.queueMax;
    }
    const q = new Float64Array(2);
    this.acceptWait.quantilesNs(0.5, 0.99, q);
    return {
      failures, listenOverflows: this.overflowTotal, acceptP50Ns: q[0], acceptP99Ns: q[1], queueLen, queueMax,
    };
  }

  /** Global rate of a Series at the last refresh. */
  globalRate(series: number): number {
    return this.global.rate(series, this.nowNs, this.options.rateWindowSec);
  }
}
