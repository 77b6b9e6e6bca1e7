/**
 * sockets.ts: per-socket entries for the detail view and for byte accounting at close.
 *
 * Keyed by the record's `sock` (the kernel's struct sock address) folded into one JS number:
 * the low 32 bits plus the low 21 bits of the high half. Kernel direct-map addresses
 * (0xffff888000000000 - 0xffffc87fffffffff) all share the top 11 bits, so the fold is exact for
 * them and costs no BigInt; two sockets that differed only in those bits would share an entry.
 */
import { AF_UNIX, Offset, TCP_STATE_NAMES, TcpState, unixTypeName } from '../capture/layout';
import { formatAddress } from '../capture/decode';
import type { ProcessRow } from './processes';
import type { ListenerStats, RemoteStats } from './endpoints';
import type { ListenQueue } from './listen-queue';

const TWO32 = 4294967296;

export function socketKey(view: DataView, off: number): number {
  const lo = view.getUint32(off + Offset.sock, true);
  const hi = view.getUint32(off + Offset.sock + 4, true);
  return (hi & 0x1fffff) * TWO32 + lo;
}

export class SocketEntry {
  key = 0;
  pid = 0;
  family = 0;
  proto = 0;
  state = 0;
  lport = 0;
  rport = 0;
  la0 = 0; la1 = 0; la2 = 0; la3 = 0;
  ra0 = 0; ra1 = 0; ra2 = 0; ra3 = 0;
  /** AF_UNIX: the process at the other end (0: not known) and the address's id (0: none). */
  peerPid = 0;
  pathId = 0;
  createdNs = 0;
  lastNs = 0;
  /** 0 while open. */
  closedNs = 0;
  /** Bytes each way as far as we know (SEND/RECV deltas, then the CLOSE totals). */
  sent = 0;
  received = 0;
  /** Counted in its owner's `open` (seen via SOCKET/ACCEPT/CONNECT_START/LISTEN or snapshot). */
  counted = false;
  /** Listening port this socket holds in its owner's `listen` map, 0 if none. */
  listenPort = 0;
  snapshot = false;
  /** The row whose `open` (and `listen`) counts this socket: the object, so a recreated row is not touched. */
  owner: ProcessRow | null = null;
  /** The model's bookkeeping: this entry is the one its map holds under `key`; times it is in the closed queue. */
  inMap = false;
  queued = 0;
  /** RETRANSMIT events of this socket. */
  retransmits = 0;
  /** Handshake time of this socket's connect (its first RTT), NaN when not seen. */
  connectNs = NaN;
  /** The remote endpoint this socket connected to (set by its CONNECT result), for its bytes. */
  remoteStats: RemoteStats | null = null;
  /** The listening port's entry this socket was accepted from. */
  listenerStats: ListenerStats | null = null;
  /** A listener's accept queue (null: not a listener, or nothing told yet). */
  queue: ListenQueue | null = null;

  reset(key: number, pid: number, tsNs: number): void {
    this.key = key;
    this.pid = pid;
    this.family = this.proto = this.state = this.lport = this.rport = 0;
    this.la0 = this.la1 = this.la2 = this.la3 = 0;
    this.ra0 = this.ra1 = this.ra2 = this.ra3 = 0;
    this.peerPid = this.pathId = 0;
    this.createdNs = this.lastNs = tsNs;
    this.closedNs = 0;
    this.sent = this.received = 0;
    this.counted = false;
    this.listenPort = 0;
    this.snapshot = false;
    this.owner = null;
    this.retransmits = 0;
    this.connectNs = NaN;
    this.remoteStats = null;
    this.listenerStats = null;
    this.queue = null;
  }

  /** Take family, ports and addresses from a record that carries them. */
  setTuple(view: DataView, off: number): void {
    this.family = view.getUint8(off + Offset.family);
    this.proto = view.getUint8(off + Offset.proto);
    this.lport = view.getUint16(off + Offset.lport, true);
    this.rport = view.getUint16(off + Offset.rport, true);
    const la = off + Offset.laddr;
    const ra = off + Offset.raddr;
    this.la0 = view.getUint32(la, true); this.la1 = view.getUint32(la + 4, true);
    this.la2 = view.getUint32(la + 8, true); this.la3 = view.getUint32(la + 12, true);
    this.ra0 = view.getUint32(ra, true); this.ra1 = view.getUint32(ra + 4, true);
    this.ra2 = view.getUint32(ra + 8, true); this.ra3 = view.getUint32(ra + 12, true);
    if (this.family === AF_UNIX) {
      // The peer's pid improves as the peer socket's owner becomes known: keep the latest.
      this.peerPid = view.getUint32(off + Offset.peer_pid, true) || this.peerPid;
      this.pathId = view.getUint32(off + Offset.path_id, true) || this.pathId;
    }
  }

  get isUnix(): boolean {
    return this.family === AF_UNIX;
  }

  /** A unix socket's protocol column: its type. */
  protoName(): string {
    if (this.isUnix) return `unix/${unixTypeName(this.proto)}`;
    return (this.proto === 17 ? 'udp' : 'tcp') + (this.family === 10 ? '6' : '');
  }

  /** A copy that no longer changes (a paused display's row; the model reuses its own entries). */
  frozenCopy(): SocketEntry {
    return Object.assign(new SocketEntry(), this);
  }

  get open(): boolean {
    return this.closedNs === 0;
  }

  stateName(): string {
    if (this.isUnix) return this.state === TcpState.Listen ? 'LISTEN' : this.peerPid || this.state ? 'CONNECTED' : '-';
    return TCP_STATE_NAMES[this.state] || (this.proto === 17 ? 'UDP' : '-');
  }

  local(): string {
    return endpoint(this.family, this.la0, this.la1, this.la2, this.la3, this.lport);
  }

  remote(): string {
    return endpoint(this.family, this.ra0, this.ra1, this.ra2, this.ra3, this.rport);
  }

  /** The remote address without its port ('' for a family without addresses). */
  remoteAddress(): string {
    return address(this.family, this.ra0, this.ra1, this.ra2, this.ra3);
  }
}

const scratch = new DataView(new ArrayBuffer(16));

function address(family: number, w0: number, w1: number, w2: number, w3: number): string {
  if (family !== 2 && family !== 10) return '';
  scratch.setUint32(0, w0, true); scratch.setUint32(4, w1, true);
  scratch.setUint32(8, w2, true); scratch.setUint32(12, w3, true);
  return formatAddress(scratch, 0, family);
}

function endpoint(family: number, w0: number, w1: number, w2: number, w3: number, port: number): string {
  if (family !== 2 && family !== 10) return port ? `*:${port}` : '*';
  const addr = address(family, w0, w1, w2, w3);
  return family === 10 ? `[${addr}]:${port}` : `${addr}:${port}`;
}
