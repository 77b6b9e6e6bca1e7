/**
 * endpoints.ts: what the model keeps per remote endpoint (address and port this host connects to)
 * and per listening port, for the remote endpoints and listening ports views. Counted at ingest,
 * not rebuilt from the socket table, because the counts must survive the sockets: a refused
 * connect leaves no socket behind, and closed sockets age out after seconds.
 *
 * Cost: one Map lookup per CONNECT result and per ACCEPT (never per SEND/RECV: a socket keeps a
 * reference to its entries), and a formatted address string only when an entry (or a listener's
 * client address) is seen for the first time. Both tables are capped; the least recently active
 * entries go first.
 */
import { Offset } from '../capture/layout';
import { formatAddress } from '../capture/decode';
import { LatencyHistogram } from './latency';
import { RateWindow } from './rates';

/** Series of an endpoint's RateWindow. */
export const EndpointSeries = { Events: 0, Errors: 1 } as const;

/** Distinct pids and client addresses kept per entry at most (then counted as "others"). */
const MAX_PIDS = 64;
const MAX_CLIENTS = 256;

export class RemoteStats {
  /** Connect results (ok + failed). */
  connects = 0;
  ok = 0;
  failed = 0;
  /** errno -> failed connects with it. */
  readonly errnos = new Map<number, number>();
  readonly latency = new LatencyHistogram();
  bytesSent = 0;
  bytesReceived = 0;
  /** pid -> connects made by it (MAX_PIDS at most). */
  readonly pids = new Map<number, number>();
  /** pid -> comm at the time of its first connect here. */
  readonly comms = new Map<number, string>();
  lastNs = 0;
  readonly rates: RateWindow;
  // Derived per frame (views/remotes.ts).
  open = 0;

  constructor(readonly key: number | string, readonly address: string, readonly port: number, readonly family: number, slots: number) {
    this.rates = new RateWindow(2, slots);
  }
}

export class ListenerStats {
  pid = 0;
  comm = '';
  uid = 0;
  /** Local address of the (latest) listening socket, e.g. 0.0.0.0:8080. */
  local = '';
  accepts = 0;
  /** Remote address -> accepted connections from it (MAX_CLIENTS at most). */
  readonly clients = new Map<string, number>();
  otherClients = 0;
  lastNs = 0;
  readonly rates: RateWindow;
  // Derived per frame (views/listeners.ts).
  open = 0;
  listening = false;

  constructor(readonly port: number, slots: number) {
    this.rates = new RateWindow(1, slots);
  }
}

const scratch = new DataView(new ArrayBuffer(16));
const TWO16 = 65536;

/** The record's remote address as text (no port). */
function remoteAddress(view: DataView, off: number, family: number): string {
  for (let i = 0; i < 16; i += 4) scratch.setUint32(i, view.getUint32(off + Offset.raddr + i, true), true);
  return formatAddress(scratch, 0, family);
}

/** Numeric key for IPv4 (address * 65536 + port: exact below 2^53), text for IPv6. */
function remoteKey(view: DataView, off: number, family: number, port: number): number | string {
  if (family === 2) return view.getUint32(off + Offset.raddr, true) * TWO16 + port;
  let k = `${port}`;
  for (let i = 0; i < 16; i += 4) k += `:${view.getUint32(off + Offset.raddr + i, true)}`;
  return k;
}

function evictOldest<K, V extends { lastNs: number }>(map: Map<K, V>, keep: number): number {
  const entries = [...map].sort((a, b) => a[1].lastNs - b[1].lastNs);
  const n = map.size - keep;
  for (let i = 0; i < n; i++) map.delete(entries[i][0]);
  return Math.max(0, n);
}

export class RemoteTable {
  private readonly map = new Map<number | string, RemoteStats>();
  evicted = 0;

  constructor(private readonly max: number, private readonly slots: number) {}

  values(): IterableIterator<RemoteStats> {
    return this.map.values();
  }

  get size(): number {
    return this.map.size;
  }

  /** A CONNECT result to the record's remote address; returns the entry (undefined: no address). */
  connect(view: DataView, off: number, sec: number, ts: number, pid: number, comm: string, error: number, latencyNs: number): RemoteStats | undefined {
    const family = view.getUint8(off + Offset.family);
    const port = view.getUint16(off + Offset.rport, true);
    if ((family !== 2 && family !== 10) || port === 0) return undefined;
    const key = remoteKey(view, off, family, port);
    let r = this.map.get(key);
    if (r === undefined) {
      if (this.map.size >= this.max) this.evicted += evictOldest(this.map, Math.floor(this.max * 0.9));
      r = new RemoteStats(key, remoteAddress(view, off, family), port, family, this.slots);
      this.map.set(key, r);
    }
    r.connects++;
    r.lastNs = ts;
    r.rates.addAt(EndpointSeries.Events, sec, 1);
    if (error === 0) {
      r.ok++;
      if (latencyNs >= 0) r.latency.add(latencyNs);
    } else {
      r.failed++;
      r.errnos.set(error, (r.errnos.get(error) ?? 0) + 1);
      r.rates.addAt(EndpointSeries.Errors, sec, 1);
    }
    const n = r.pids.get(pid);
    if (n !== undefined) r.pids.set(pid, n + 1);
    else if (r.pids.size < MAX_PIDS) {
      r.pids.set(pid, 1);
      r.comms.set(pid, comm);
    }
    return r;
  }
}

export class ListenerTable {
  private readonly map = new Map<number, ListenerStats>();
  evicted = 0;

  constructor(private readonly max: number, private readonly slots: number) {}

  values(): IterableIterator<ListenerStats> {
    return this.map.values();
  }

  get(port: number): ListenerStats | undefined {
    return this.map.get(port);
  }

  private entry(port: number): ListenerStats {
    let l = this.map.get(port);
    if (l === undefined) {
      if (this.map.size >= this.max) this.evicted += evictOldest(this.map, Math.floor(this.max * 0.9));
      l = new ListenerStats(port, this.slots);
      this.map.set(port, l);
    }
    return l;
  }

  /** A socket started listening on `port` (LISTEN, or one that existed at start). */
  listen(port: number, pid: number, comm: string, uid: number, local: string, ts: number): void {
    const l = this.entry(port);
    l.pid = pid;
    l.comm = comm;
    l.uid = uid;
    l.local = local;
    if (ts > l.lastNs) l.lastNs = ts;
  }

  /** An accepted connection on the record's local port; returns the entry. */
  accept(view: DataView, off: number, sec: number, ts: number): ListenerStats | undefined {
    const port = view.getUint16(off + Offset.lport, true);
    if (port === 0) return undefined;
    const l = this.entry(port);
    l.accepts++;
    l.lastNs = ts;
    l.rates.addAt(EndpointSeries.Events, sec, 1);
    const family = view.getUint8(off + Offset.family);
    if (family === 2 || family === 10) {
      const addr = remoteAddress(view, off, family);
      const n = l.clients.get(addr);
      if (n !== undefined) l.clients.set(addr, n + 1);
      else if (l.clients.size < MAX_CLIENTS) l.clients.set(addr, 1);
      else l.otherClients++;
    }
    return l;
  }
}
