/**
 * model.ts: SocketModel aggregates event records straight from the shared ring's DataView into
 * per-process rows and per-socket entries. Never imports blessed; the TUI, batch mode and tests
 * all read it through the query API at the bottom.
 *
 * Cost: ingest() reads the fields it needs with DataView calls and allocates nothing for most
 * records. Objects are created once per process (ProcessRow) and once per socket (SocketEntry);
 * SEND/RECV, STATE, RETRANSMIT and friends touch only existing objects and typed arrays.
 *
 * Time: rates are bucketed by the record's own timestamp (CLOCK_MONOTONIC from the kernel), so a
 * replay at any speed gives the same per-second figures. refresh(nowNs) evaluates the windows at a
 * "now" the caller supplies (live: the monotonic clock; replay: the replay clock), else the newest
 * record time.
 */
import { dropCounters, EventKind, Flag, IPPROTO_TCP, Offset, TcpState } from '../capture/layout';
import { EventJson, readComm } from '../capture/decode';
import { EventLog, WordSource } from './eventlog';
import { LatencyHistogram } from './latency';
import { ProcessRow, Series, SERIES_COUNT } from './processes';
import { RateWindow } from './rates';
import { SocketEntry, socketKey } from './sockets';
import { RowFilter } from './filter';
import { filterSort, SortKey } from './query';
import { UserNames } from './users';

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

/** Kinds only a running process's own syscalls produce. */
const MADE_BY_A_CALL: readonly boolean[] = (() => {
  const a: boolean[] = [];
  for (const k of [EventKind.Socket, EventKind.Bind, EventKind.Listen, EventKind.ConnectStart, EventKind.Accept]) a[k] = true;
  return a;
})();

/** Spare socket entries kept for reuse at most. */
const SPARE_SOCKETS = 4096;

function pow2AtLeast(n: number): number {
  let p = 1;
  while (p < n) p *= 2;
  return p;
}

export class SocketModel {
  readonly options: ModelOptions;
  private readonly procs = new Map<number, ProcessRow>();
  private readonly socks = new Map<number, SocketEntry>();
  /** Entries that aged out, for reuse: a storm opens and ends thousands of sockets a second, and
   *  reusing their entries spares the GC that churn. Nothing outside the model keeps an entry
   *  past a frame (socketsOf() results are rendered at once). */
  private readonly spare: SocketEntry[] = [];
  /** Closed sockets in close order, for aging and for evicting the oldest first. */
  private closedQueue: SocketEntry[] = [];
  private closedAt: number[] = [];
  private closedHead = 0;
  private readonly global: RateWindow;
  private readonly globalLog: EventLog;
  private readonly words = new WordSource();
  /** One-entry cache: consecutive records very often belong to the same process. */
  private lastRow: ProcessRow | undefined;

  /** The record being ingested: its time (ns), that time's second, and its socket's key. Fields,
   *  not arguments: a double passed to a function V8 does not inline is boxed, a heap allocation
   *  per call, and these would be passed a dozen times per record. */
  private ts = 0;
  private sec = 0;
  private key = 0;

  private events = 0;
  private readonly drops = dropCounters();
  private unattributed = 0;
  private evictedProcesses = 0;
  private evictedSockets = 0;
  private firstTs = 0;
  private lastTs = 0;
  private nowNs = 0;
  /** Entries in `socks` that are open, and closed-queue entries no longer in `socks` (kept up to date:
   *  counting them by walking 65k sockets would cost a frame milliseconds). */
  private openInMap = 0;
  private replacedQueued = 0;
  /** Listening port -> the row of its (latest) listener, to own a new connection's early events. */
  private readonly listeners = new Map<number, ProcessRow>();
  /** pid -> open entries in `socks` with that pid: an exit walks the sockets only when it has some. */
  private readonly openByPid = new Map<number, number>();

  constructor(options: Partial<ModelOptions> = {}) {
    this.options = { ...DEFAULT_MODEL_OPTIONS, ...options };
    this.global = new RateWindow(SERIES_COUNT, pow2AtLeast(this.options.historySec + 2));
    this.globalLog = new EventLog(this.options.globalLogSize);
  }

  // ------------------------------------------------------------------ ingest (hot path)

  /** Aggregate one record. Reads only; the slot may be reused as soon as this returns. */
  ingest(view: DataView, off: number): void {
    const kind = view.getUint8(off + Offset.kind);
    const ts = readU64(view, off + Offset.ts_ns);
    this.ts = ts;
    this.sec = Math.floor(ts / SEC);
    this.events++;
    if (ts > this.lastTs) this.lastTs = ts;
    if (this.firstTs === 0 || (ts > 0 && ts < this.firstTs)) this.firstTs = ts;
    this.global.addAt(Series.Events, this.sec, 1);
    if (kind === EventKind.Drops) {
      const stage = view.getUint8(off + Offset.new_state);
      if (stage < this.drops.length) this.drops[stage] += view.getUint32(off + Offset.count, true);
      return;
    }
    if (kind === EventKind.Exit) {
      this.onExit(view, off);
      return;
    }
    const hasSock = view.getUint32(off + Offset.sock, true) !== 0 || view.getUint32(off + Offset.sock + 4, true) !== 0;
    const key = hasSock ? socketKey(view, off) : 0;
    this.key = key;
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
      row = sock ? this.procs.get(sock.pid) : this.listenerOf(view.getUint16(off + Offset.lport, true));
      if (!row) {
        this.unattributed++;
        if (sock) this.touchSocket(sock, view, off, kind);
        return;
      }
    } else {
      row = this.rowFor(pid, view, off, kind);
    }
    if (ts > row.lastNs) row.lastNs = ts;
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
    switch (kind) {
      case EventKind.Socket:
        if (!hasSock) break;
        sock = this.openFresh(row, sock);
        sock.setTuple(view, off);
        break;
      case EventKind.Accept:
        if (error === 0) {
          row.accepts++;
          row.rates.addAt(Series.Accepts, this.sec, 1);
          this.global.addAt(Series.Accepts, this.sec, 1);
          if (hasSock) {
            sock = this.openFresh(row, sock);
            sock.setTuple(view, off);
            sock.state = TcpState.Established;
          }
        }
        break;
      case EventKind.Listen:
        if (!hasSock || error !== 0) break;
        sock = this.openCounted(row, sock);
        sock.setTuple(view, off);
        this.markListening(sock);
        break;
      case EventKind.ConnectStart:
        if (!hasSock) break;
        sock = this.openCounted(row, sock);
        sock.setTuple(view, off);
        sock.state = TcpState.SynSent;
        break;
      case EventKind.Connect:
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
      case EventKind.Send: {
        const n = readU64(view, off + Offset.bytes_sent);
        this.addBytes(row, Series.Tx, n);
        if (!sock && hasSock) sock = this.openUncounted(row, view, off);
        if (sock) sock.sent += n;
        break;
      }
      case EventKind.Recv: {
        const n = readU64(view, off + Offset.bytes_received);
        this.addBytes(row, Series.Rx, n);
        if (!sock && hasSock) sock = this.openUncounted(row, view, off);
        if (sock) sock.received += n;
        break;
      }
      case EventKind.Retransmit:
        row.retransmits++;
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
    row.rates.addAt(Series.Connects, this.sec, 1);
    this.global.addAt(Series.Connects, this.sec, 1);
    if (error === 0) {
      row.connectsOk++;
      if (!row.latency) row.latency = new LatencyHistogram();
      row.latency.add(readU64(view, off + Offset.duration_ns));
      if (sock) {
        sock.setTuple(view, off);
        sock.state = TcpState.Established;
      }
    } else {
      row.connectsFailed++;
      this.addError(row, error);
    }
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
    row.closes++;
    row.rates.addAt(Series.Closes, this.sec, 1);
    this.global.addAt(Series.Closes, this.sec, 1);
    const dSent = totalSent - (sock ? sock.sent : 0);
    const dRecv = totalRecv - (sock ? sock.received : 0);
    if (dSent > 0) this.addBytes(row, Series.Tx, dSent);
    if (dRecv > 0) this.addBytes(row, Series.Rx, dRecv);
    if (!sock) {
      if (!hasSock) return undefined;
      sock = this.openUncounted(row, view, off);
    } else if (view.getUint8(off + Offset.family) !== 0 && sock.lport === 0) {
      sock.setTuple(view, off);
    }
    if (totalSent > sock.sent) sock.sent = totalSent;
    if (totalRecv > sock.received) sock.received = totalRecv;
    this.closeSocket(sock);
    return sock;
  }

  private onExit(view: DataView, off: number): void {
    const ts = this.ts;
    const pid = view.getUint32(off + Offset.pid, true);
    // Only processes that used sockets have rows; an exit of any other process is not ours.
    const row = this.procs.get(pid);
    if (!row) return;
    row.exited = true;
    row.exitNs = ts;
    row.exitCode = view.getUint32(off + Offset.count, true);
    if (ts > row.lastNs) row.lastNs = ts;
    this.updateComm(row, view, off);
    this.log(row, view, off, EventKind.Exit);
    this.closeSocketsEndedByExit(pid);
  }

  /**
   * A process's exit closes its descriptors without close() calls, and the kernel reports no end
   * for a UDP socket or a TCP socket that never left CLOSE (never connected nor listened): those
   * end here. TCP sockets with a connection go on through their state machine and end by it.
   */
  private closeSocketsEndedByExit(pid: number): void {
    // The walk below visits every socket (65k at most): not for the many exits that have none open.
    if (!this.openByPid.get(pid)) return;
    for (const sock of this.socks.values()) {
      if (sock.pid !== pid || !sock.open) continue;
      const tcpInProgress = sock.proto === IPPROTO_TCP && sock.state !== 0 && sock.state !== TcpState.Close;
      if (!tcpInProgress) this.closeSocket(sock);
    }
  }

  /** Sockets that existed before the capture started: open (and listening) rows, no counters. */
  private onSnapshot(
    row: ProcessRow, sock: SocketEntry | undefined, view: DataView, off: number, kind: number,
  ): void {
    const key = this.key;
    if (key === 0 || kind === EventKind.Close) return;
    sock = this.openCounted(row, sock);
    sock.snapshot = true;
    sock.setTuple(view, off);
    const state = view.getUint8(off + Offset.new_state);
    sock.state = state || (kind === EventKind.Listen ? TcpState.Listen : sock.rport ? TcpState.Established : 0);
    if (kind === EventKind.Listen || sock.state === TcpState.Listen) this.markListening(sock);
  }

  private touchSocket(sock: SocketEntry, view: DataView, off: number, kind: number): void {
    const ts = this.ts;
    if (ts > sock.lastNs) sock.lastNs = ts;
    if (kind !== EventKind.State) return;
    const state = view.getUint8(off + Offset.new_state);
    if (sock.open) sock.state = state;
    if (sock.rport === 0 && view.getUint16(off + Offset.rport, true) !== 0) sock.setTuple(view, off);
  }

  private addBytes(row: ProcessRow, series: number, n: number): void {
    if (series === Series.Tx) row.bytesSent += n;
    else row.bytesReceived += n;
    row.rates.addAt(series, this.sec, n);
    this.global.addAt(series, this.sec, n);
  }

  private addError(row: ProcessRow, errno: number): void {
    row.errors++;
    if (errno !== 0) row.addErrno(errno);
    row.rates.addAt(Series.Errors, this.sec, 1);
    this.global.addAt(Series.Errors, this.sec, 1);
  }

  private log(row: ProcessRow, view: DataView, off: number, kind: number): void {
    if (!this.options.logBytesEvents && (kind === EventKind.Send || kind === EventKind.Recv)) return;
    const word = this.words.locate(view, off);
    const src = this.words.array;
    if (!row.log) row.log = new EventLog(this.options.processLogSize);
    row.log.push(src, word);
    if (this.globalLog.capacity > 0) this.globalLog.push(src, word);
  }

  // ------------------------------------------------------------------ processes

  private rowFor(pid: number, view: DataView, off: number, kind: number): ProcessRow {
    let row = this.lastRow;
    if (row === undefined || row.pid !== pid) {
      row = this.procs.get(pid);
      if (row === undefined) row = this.newRow(pid, view, off);
      this.lastRow = row;
    }
    if (this.commChanged(row, view, off) && view.getUint8(off + Offset.comm) !== 0) {
      // After an exit, late events of the old process still arrive (tcp_destroy_sock, state
      // changes): only a call that a live process makes means the pid now names another process.
      if (!row.exited) this.updateComm(row, view, off);
      else if (MADE_BY_A_CALL[kind]) row = this.newRow(pid, view, off);
    }
    return row;
  }

  private newRow(pid: number, view: DataView, off: number): ProcessRow {
    const ts = this.ts;
    if (this.procs.size >= this.options.maxProcesses) this.evictProcesses();
    const row = new ProcessRow(pid, pow2AtLeast(this.options.rateWindowSec + 2));
    row.firstNs = row.lastNs = ts;
    this.updateComm(row, view, off);
    this.procs.set(pid, row);
    this.lastRow = row;
    return row;
  }

  private commChanged(row: ProcessRow, view: DataView, off: number): boolean {
    const c = off + Offset.comm;
    return view.getUint32(c, true) !== row.commW0 || view.getUint32(c + 4, true) !== row.commW1
      || view.getUint32(c + 8, true) !== row.commW2 || view.getUint32(c + 12, true) !== row.commW3;
  }

  private updateComm(row: ProcessRow, view: DataView, off: number): void {
    const c = off + Offset.comm;
    row.commW0 = view.getUint32(c, true);
    row.commW1 = view.getUint32(c + 4, true);
    row.commW2 = view.getUint32(c + 8, true);
    row.commW3 = view.getUint32(c + 12, true);
    row.comm = readComm(view, off);
    row.uid = view.getUint32(off + Offset.uid, true);
  }

  /** Over the cap: drop a tenth of the rows, exited ones first, then the longest idle. */
  private evictProcesses(): void {
    const rows = [...this.procs.values()].sort(
      (a, b) => Number(b.exited) - Number(a.exited) || a.lastNs - b.lastNs,
    );
    const n = Math.max(1, Math.floor(rows.length / 10));
    for (let i = 0; i < n; i++) this.removeRow(rows[i]);
    this.evictedProcesses += n;
  }

  private removeRow(row: ProcessRow): void {
    if (this.procs.get(row.pid) === row) this.procs.delete(row.pid);
    if (this.lastRow === row) this.lastRow = undefined;
  }

  // ------------------------------------------------------------------ sockets

  /** SOCKET/ACCEPT always mean a new struct sock: an open entry under that key missed its end. */
  private openFresh(row: ProcessRow, sock: SocketEntry | undefined): SocketEntry {
    if (sock && sock.open) this.closeSocket(sock);
    return this.openCounted(row, undefined);
  }

  /** LISTEN/CONNECT_START: reuse the open entry of this socket, else start one; count it as open. */
  private openCounted(row: ProcessRow, sock: SocketEntry | undefined): SocketEntry {
    if (!sock || !sock.open) sock = this.newSocket(row.pid);
    if (!sock.counted || sock.pid !== row.pid) {
      if (sock.counted) this.uncount(sock);
      if (sock.pid !== row.pid && sock.inMap && sock.closedNs === 0) {
        this.countOpenPid(sock.pid, -1);
        this.countOpenPid(row.pid, 1);
      }
      sock.pid = row.pid;
      sock.counted = true;
      row.open++;
      sock.owner = row;
    }
    return sock;
  }

  private openUncounted(row: ProcessRow, view: DataView, off: number): SocketEntry {
    const sock = this.newSocket(row.pid);
    sock.setTuple(view, off);
    return sock;
  }

  /**
   * A new entry under `key`. The kernel reuses a freed struct sock quickly, so a closed entry with
   * the same address is replaced, not recycled: it stays in the closed queue for the detail view.
   */
  private newSocket(pid: number): SocketEntry {
    const key = this.key;
    if (!this.socks.has(key) && this.socks.size >= this.options.maxSockets) this.evictSockets();
    const sock = this.spare.pop() ?? new SocketEntry();
    sock.reset(key, pid, this.ts);
    const old = this.socks.get(key);
    if (old) this.leftMap(old);
    this.socks.set(key, sock);
    sock.inMap = true;
    this.openInMap++;
    this.countOpenPid(pid, 1);
    return sock;
  }

  private countOpenPid(pid: number, delta: number): void {
    const n = (this.openByPid.get(pid) ?? 0) + delta;
    if (n > 0) this.openByPid.set(pid, n);
    else this.openByPid.delete(pid);
  }

  /** `sock` is no longer the entry its map holds (deleted or replaced): keep the counts right. */
  private leftMap(sock: SocketEntry): void {
    sock.inMap = false;
    if (sock.closedNs === 0) {
      this.openInMap--;
      this.countOpenPid(sock.pid, -1);
    }
    this.replacedQueued += sock.queued;
  }

  private deleteFromMap(sock: SocketEntry): void {
    if (!sock.inMap) return;
    this.socks.delete(sock.key);
    this.leftMap(sock);
  }

  private markListening(sock: SocketEntry): void {
    sock.state = TcpState.Listen;
    if (sock.listenPort !== 0 || sock.lport === 0) return;
    const owner = sock.owner;
    if (!owner) return;
    sock.listenPort = sock.lport;
    owner.addListen(sock.lport);
    this.listeners.set(sock.lport, owner);
  }

  /** The live row listening on `port` (the latest to listen there), if any. */
  private listenerOf(port: number): ProcessRow | undefined {
    if (port === 0) return undefined;
    const row = this.listeners.get(port);
    return row !== undefined && this.procs.get(row.pid) === row ? row : undefined;
  }

  private uncount(sock: SocketEntry): void {
    const owner = sock.owner;
    if (owner) {
      if (sock.counted) owner.open--;
      if (sock.listenPort) {
        owner.removeListen(sock.listenPort);
        if (this.listeners.get(sock.listenPort) === owner && !owner.listen?.get(sock.listenPort)) this.listeners.delete(sock.listenPort);
      }
    }
    sock.counted = false;
    sock.listenPort = 0;
    sock.owner = null;
  }

  private closeSocket(sock: SocketEntry): void {
    const ts = this.ts;
    this.uncount(sock);
    if (sock.closedNs === 0 && sock.inMap) {
      this.openInMap--;
      this.countOpenPid(sock.pid, -1);
    }
    sock.closedNs = ts || 1;
    sock.state = TcpState.Close;
    this.closedQueue.push(sock);
    sock.queued++;
    if (!sock.inMap) this.replacedQueued++;
    this.closedAt.push(sock.closedNs);
    // Past the retention cap the oldest closed socket goes early: aged out, not evicted.
    if (this.closedQueue.length - this.closedHead > Math.min(this.options.maxClosedSockets, this.options.maxSockets)) {
      this.popClosed(Infinity);
    }
  }

  /** Over the cap: the oldest closed sockets go first; if none are closed, the longest idle open ones. */
  private evictSockets(): void {
    const target = Math.floor(this.options.maxSockets * 0.9);
    while (this.socks.size > target && this.popClosed(Infinity)) this.evictedSockets++;
    if (this.socks.size <= target) return;
    const open = [...this.socks.values()].sort((a, b) => a.lastNs - b.lastNs);
    for (let i = 0; this.socks.size > target && i < open.length; i++) {
      this.dropSocket(open[i]);
      this.evictedSockets++;
    }
  }

  /** Remove the oldest queued closed socket if it closed before `beforeNs`; false when none. */
  private popClosed(beforeNs: number): boolean {
    while (this.closedHead < this.closedQueue.length) {
      const sock = this.closedQueue[this.closedHead];
      const at = this.closedAt[this.closedHead];
      if (at >= beforeNs) return false;
      this.closedHead++;
      this.compactQueue();
      sock.queued--;
      if (!sock.inMap) this.replacedQueued--;
      this.deleteFromMap(sock);
      if (sock.queued === 0 && this.spare.length < SPARE_SOCKETS) {
        sock.owner = null;
        this.spare.push(sock);
      }
      return true;
    }
    return false;
  }

  private compactQueue(): void {
    if (this.closedHead < 4096 || this.closedHead * 2 < this.closedQueue.length) return;
    this.closedQueue = this.closedQueue.slice(this.closedHead);
    this.closedAt = this.closedAt.slice(this.closedHead);
    this.closedHead = 0;
  }

  private dropSocket(sock: SocketEntry): void {
    this.uncount(sock);
    this.deleteFromMap(sock);
  }

  // ------------------------------------------------------------------ per frame

  /**
   * Evaluate rates and percentiles at `nowNs` and age out what is old. Call once per frame (or
   * per batch snapshot), not per record. Without a clock, the newest record time is "now".
   */
  refresh(nowNs?: number): void {
    this.nowNs = nowNs ?? this.lastTs;
    const o = this.options;
    const exitedBefore = this.nowNs - o.exitedTtlSec * SEC;
    const idleBefore = this.nowNs - o.idleTtlSec * SEC;
    for (const row of this.procs.values()) {
      if ((row.exited && row.exitNs < exitedBefore)
        || (!row.exited && row.open <= 0 && !row.listen?.size && row.lastNs < idleBefore)) {
        this.removeRow(row);
        continue;
      }
      row.refresh(this.nowNs, o.rateWindowSec);
    }
    while (this.popClosed(this.nowNs - o.closedSocketTtlSec * SEC)) { /* aged out */ }
  }

  /** The "now" of the last refresh (ns, record clock). */
  get now(): number {
    return this.nowNs;
  }

  // ------------------------------------------------------------------ queries

  /** Filtered rows sorted by `key`; figures as of the last refresh(). */
  query(filter: RowFilter, key: SortKey, descending: boolean): ProcessRow[] {
    return filterSort(this.procs.values(), filter, key, descending, this.nowNs, (uid) => this.userName(uid));
  }

  process(pid: number): ProcessRow | undefined {
    return this.procs.get(pid);
  }

  /** The process's sockets: open ones first (oldest first), then recently closed ones. */
  socketsOf(pid: number): SocketEntry[] {
    const out: SocketEntry[] = [];
    for (const s of this.socks.values()) if (s.pid === pid) out.push(s);
    // Closed sockets whose kernel address was reused since live only in the queue.
    for (let i = this.closedHead; i < this.closedQueue.length; i++) {
      const s = this.closedQueue[i];
      if (s.pid === pid && this.socks.get(s.key) !== s) out.push(s);
    }
    return out.sort((a, b) => Number(a.closedNs !== 0) - Number(b.closedNs !== 0)
      || (a.closedNs ? b.closedNs - a.closedNs : a.createdNs - b.createdNs));
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
      sockets: this.socks.size + this.replacedQueued,
      openSockets: this.openInMap,
      evictedProcesses: this.evictedProcesses,
      evictedSockets: this.evictedSockets,
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

  /** Global rate of a Series at the last refresh. */
  globalRate(series: number): number {
    return this.global.rate(series, this.nowNs, this.options.rateWindowSec);
  }
}
