/**
 * socket-table.ts: the model's socket entries, keyed by the record's socket id: open ones, and
 * closed ones kept a while for the detail view; which process's open/listen counts each one is in;
 * which process listens on a port; reuse of aged-out entries; eviction over the cap.
 * Only the model (model.ts) writes to it.
 */
import { IPPROTO_TCP, TcpState } from '../capture/layout';
import type { IngestCursor } from './ingest-cursor';
import type { ProcessRow } from './processes';
import type { ProcessTable } from './process-table';
import { SocketEntry } from './sockets';

/** Spare socket entries kept for reuse at most. */
const SPARE_SOCKETS = 4096;

export interface SocketTableOptions {
  maxSockets: number;
  maxClosedSockets: number;
}

export class SocketTable {
  private readonly socks = new Map<number, SocketEntry>();
  /** Entries that aged out, for reuse: a storm opens and ends thousands of sockets a second, and
   *  reusing their entries spares the GC that churn. Nothing outside the model keeps an entry
   *  past a frame (socketsOf() results are rendered at once). */
  private readonly spare: SocketEntry[] = [];
  /** Closed sockets in close order, for aging and for evicting the oldest first. */
  private closedQueue: SocketEntry[] = [];
  private closedAt: number[] = [];
  private closedHead = 0;
  /** Entries in `socks` that are open, and closed-queue entries no longer in `socks` (kept up to date:
   *  counting them by walking 65k sockets would cost a frame milliseconds). */
  private openInMap = 0;
  private replacedQueued = 0;
  private evicted = 0;
  /** Listening port -> the row of its (latest) listener, to own a new connection's early events. */
  private readonly listeners = new Map<number, ProcessRow>();
  /** Listening port -> the socket listening there (the latest): whose accept queue a passive
   * connection's records (STATE to ESTABLISHED, ACCEPT) report. */
  private readonly listeningSockets = new Map<number, SocketEntry>();
  /** pid -> open entries in `socks` with that pid: an exit walks the sockets only when it has some. */
  private readonly openByPid = new Map<number, number>();

  constructor(
    private readonly cursor: IngestCursor,
    private readonly processes: ProcessTable,
    private readonly options: SocketTableOptions,
  ) {}

  get(key: number): SocketEntry | undefined {
    return this.socks.get(key);
  }

  /** Entries held: open, and closed ones kept for the detail view. */
  get held(): number {
    return this.socks.size + this.replacedQueued;
  }

  get openCount(): number {
    return this.openInMap;
  }

  get evictedCount(): number {
    return this.evicted;
  }

  /** SOCKET/ACCEPT always mean a new struct sock: an open entry under that key missed its end. */
  openFresh(row: ProcessRow, sock: SocketEntry | undefined): SocketEntry {
    if (sock?.open) this.close(sock);
    return this.openCounted(row, undefined);
  }

  /** LISTEN/CONNECT_START: reuse the open entry of this socket, else start one; count it as open. */
  openCounted(row: ProcessRow, sock: SocketEntry | undefined): SocketEntry {
    if (!sock?.open) {
      sock = this.newSocket(row.pid);
      row.opened++;
    }
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

  /** A socket first seen mid-life (bytes, close): known from now on, not counted as opened. */
  openUncounted(row: ProcessRow, view: DataView, off: number): SocketEntry {
    const sock = this.newSocket(row.pid);
    sock.setTuple(view, off);
    return sock;
  }

  markListening(sock: SocketEntry): void {
    sock.state = TcpState.Listen;
    if (sock.listenPort !== 0 || sock.lport === 0) return;
    const owner = sock.owner;
    if (!owner) return;
    sock.listenPort = sock.lport;
    owner.addListen(sock.lport);
    this.listeners.set(sock.lport, owner);
    this.listeningSockets.set(sock.lport, sock);
  }

  /** Open listening sockets with a known accept queue, of `pid` (0: every process). */
  *listeningWithQueue(pid: number): IterableIterator<SocketEntry> {
    for (const s of this.socks.values()) {
      if (s.queue !== null && s.open && s.listenPort !== 0 && (pid === 0 || s.pid === pid)) yield s;
    }
  }

  /** The open socket listening on `port` (the latest to listen there), if any. */
  listeningSocket(port: number): SocketEntry | undefined {
    const sock = port === 0 ? undefined : this.listeningSockets.get(port);
    return sock?.open && sock.listenPort === port ? sock : undefined;
  }

  /** The live row listening on `port` (the latest to listen there), if any. */
  listenerOf(port: number): ProcessRow | undefined {
    if (port === 0) return undefined;
    const row = this.listeners.get(port);
    return row !== undefined && this.processes.isCurrent(row) ? row : undefined;
  }

  close(sock: SocketEntry): void {
    this.uncount(sock);
    if (sock.closedNs === 0 && sock.inMap) {
      this.openInMap--;
      this.countOpenPid(sock.pid, -1);
    }
    sock.closedNs = this.cursor.ts || 1;
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

  /**
   * A process's exit closes its descriptors without close() calls, and the kernel reports no end
   * for a UDP socket or a TCP socket that never left CLOSE (never connected nor listened): those
   * end here. TCP sockets with a connection go on through their state machine and end by it.
   */
  closeEndedByExit(pid: number): void {
    // The walk below visits every socket (65k at most): not for the many exits that have none open.
    if (!this.openByPid.get(pid)) return;
    for (const sock of this.socks.values()) {
      if (sock.pid !== pid || !sock.open) continue;
      const tcpInProgress = sock.proto === IPPROTO_TCP && sock.state !== 0 && sock.state !== TcpState.Close;
      if (!tcpInProgress) this.close(sock);
    }
  }

  /** Closed sockets that closed before `beforeNs` go. */
  ageOut(beforeNs: number): void {
    while (this.popClosed(beforeNs)) { /* aged out */ }
  }

  /** Every socket held: open ones and recently closed ones (those still under their key first). */
  each(visit: (sock: SocketEntry) => void): void {
    for (const s of this.socks.values()) visit(s);
    for (let i = this.closedHead; i < this.closedQueue.length; i++) {
      const s = this.closedQueue[i];
      if (!s.inMap && s.queued > 0 && this.isLastQueued(s, i)) visit(s);
    }
  }

  /** A socket closed twice is queued twice: visit it at its last place only. */
  private isLastQueued(s: SocketEntry, i: number): boolean {
    if (s.queued === 1) return true;
    for (let j = i + 1; j < this.closedQueue.length; j++) if (this.closedQueue[j] === s) return false;
    return true;
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

  /**
   * A new entry under the record's key. The kernel reuses a freed struct sock quickly, so a closed
   * entry with the same address is replaced, not recycled: it stays in the closed queue for the
   * detail view.
   */
  private newSocket(pid: number): SocketEntry {
    const key = this.cursor.key;
    if (!this.socks.has(key) && this.socks.size >= this.options.maxSockets) this.evict();
    const sock = this.spare.pop() ?? new SocketEntry();
    sock.reset(key, pid, this.cursor.ts);
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

  private uncount(sock: SocketEntry): void {
    const owner = sock.owner;
    if (owner) {
      if (sock.counted) owner.open--;
      if (sock.listenPort) {
        owner.removeListen(sock.listenPort);
        if (this.listeners.get(sock.listenPort) === owner && !owner.listen?.get(sock.listenPort)) this.listeners.delete(sock.listenPort);
        if (this.listeningSockets.get(sock.listenPort) === sock) this.listeningSockets.delete(sock.listenPort);
      }
    }
    sock.counted = false;
    sock.listenPort = 0;
    sock.owner = null;
  }

  /** Over the cap: the oldest closed sockets go first; if none are closed, the longest idle open ones. */
  private evict(): void {
    const target = Math.floor(this.options.maxSockets * 0.9);
    while (this.socks.size > target && this.popClosed(Infinity)) this.evicted++;
    if (this.socks.size <= target) return;
    const open = [...this.socks.values()].sort((a, b) => a.lastNs - b.lastNs);
    for (let i = 0; this.socks.size > target && i < open.length; i++) {
      this.uncount(open[i]);
      this.deleteFromMap(open[i]);
      this.evicted++;
    }
  }

  /** Remove the oldest queued closed socket if it closed before `beforeNs`; false when none. */
  private popClosed(beforeNs: number): boolean {
    if (this.closedHead >= this.closedQueue.length) return false;
    const sock = this.closedQueue[this.closedHead];
    if (this.closedAt[this.closedHead] >= beforeNs) return false;
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

  private compactQueue(): void {
    if (this.closedHead < 4096 || this.closedHead * 2 < this.closedQueue.length) return;
    this.closedQueue = this.closedQueue.slice(this.closedHead);
    this.closedAt = this.closedAt.slice(this.closedHead);
    this.closedHead = 0;
  }
}
