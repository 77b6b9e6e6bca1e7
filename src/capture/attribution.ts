/**
 * attribution.ts: ties the sockets that existed before socktop started (snapshot.ts) to the live
 * events the BPF programs report for them.
 *
 * The kernel side names a socket by its struct sock address and knows the owner only of sockets
 * it saw in process context. A pre-existing socket therefore arrives with an address we have never
 * seen and, in softirq, with no owner. This stage, run on the capture worker for every batch before
 * the recording and the shared ring:
 *   1. emits one SNAPSHOT record per existing socket at start (LISTEN for listeners, SOCKET for the
 *      rest), named by its inode, so the first frame shows them;
 *   2. matches the first live event of each such socket by its 4-tuple and network namespace (one
 *      4-tuple can exist once per namespace), learns its kernel address,
 *      and from then on rewrites the record's socket id to the inode and fills in the owner when the
 *      kernel did not know it.
 * Cost per record while any existing socket is still open: one Map lookup; the 4-tuple key (a
 * string) is built only for records whose local port belongs to an existing socket.
 */
import { ExistingSocket } from './snapshot';
import {
  AF_INET, Backend, COMM_LEN, EventKind, Flag, IPPROTO_TCP, Offset, RECORD_SIZE, TcpState,
} from './layout';

interface Entry {
  sock: ExistingSocket;
  learned: boolean;
}

export class SnapshotAttribution {
  private readonly byTuple = new Map<string, Entry>();
  private readonly byKernelAddress = new Map<number, Entry>();
  private readonly localPorts = new Uint8Array(65536);
  private unlearned = 0;

  constructor(private readonly existing: ExistingSocket[]) {
    for (const sock of existing) {
      const key = tupleKey(sock.netns, sock.family, sock.proto, sock.lport, sock.rport, sock.laddr, 0, sock.raddr, 0);
      if (this.byTuple.has(key)) continue; // e.g. SO_REUSEPORT twins: the first owner wins
      this.byTuple.set(key, { sock, learned: false });
      this.localPorts[sock.lport] = 1;
      this.unlearned++;
    }
  }

  /** One record per existing socket, stamped `nowNs` (CLOCK_MONOTONIC, the BPF clock). */
  initialRecords(nowNs: bigint): { bytes: Uint8Array; count: number } {
    const bytes = new Uint8Array(this.existing.length * RECORD_SIZE);
    const view = new DataView(bytes.buffer);
    this.existing.forEach((s, i) => writeSnapshotRecord(view, i * RECORD_SIZE, s, nowNs));
    return { bytes, count: this.existing.length };
  }

  /** Batch hook: rewrite the live records of existing sockets in place. */
  apply(_bytes: Uint8Array, view: DataView, count: number): void {
    if (this.unlearned === 0 && this.byKernelAddress.size === 0) return;
    for (let i = 0; i < count; i++) this.applyOne(view, i * RECORD_SIZE);
  }

  private applyOne(view: DataView, off: number): void {
    const kind = view.getUint8(off + Offset.kind);
    if (kind === EventKind.Exit || kind === EventKind.Drops) return;
    // Our own start records pass through the hooks too: they must not "learn" their inode.
    if (view.getUint8(off + Offset.flags) & Flag.Snapshot) return;
    // Cheap gate first (this runs for every record): a socket from the snapshot has one of its
    // local ports. Records that lost their port (0) still go to the lookup.
    const lport = view.getUint16(off + Offset.lport, true);
    if (lport !== 0 && !this.localPorts[lport]) return;
    const addr = kernelAddressKey(view, off);
    let entry = this.byKernelAddress.get(addr);
    if (!entry && this.unlearned > 0) entry = this.learn(view, off, addr);
    if (!entry) return;
    view.setBigUint64(off + Offset.sock, BigInt(entry.sock.inode), true);
    view.setBigUint64(off + Offset.serial, 0n, true); // the inode alone names it, as at start
    if (view.getUint8(off + Offset.flags) & Flag.OwnerUnknown) writeOwner(view, off, entry.sock);
    if (kind === EventKind.Close) this.byKernelAddress.delete(addr);
  }

  private learn(view: DataView, off: number, addr: number): Entry | undefined {
    const lport = view.getUint16(off + Offset.lport, true);
    if (!this.localPorts[lport]) return undefined;
    const key = tupleKey(
      view.getUint32(off + Offset.netns, true), view.getUint8(off + Offset.family), view.getUint8(off + Offset.proto), lport,
      view.getUint16(off + Offset.rport, true), view, off + Offset.laddr, view, off + Offset.raddr,
    );
    const entry = this.byTuple.get(key);
    if (!entry || entry.learned) return undefined;
    entry.learned = true;
    this.unlearned--;
    this.byKernelAddress.set(addr, entry);
    return entry;
  }
}

/**
 * A number that identifies a kernel socket address: the low 32 bits plus the low 21 of the high
 * half (kernel direct-map addresses differ only there), so it fits a double exactly.
 */
function kernelAddressKey(view: DataView, off: number): number {
  const lo = view.getUint32(off + Offset.sock, true);
  const hi = view.getUint32(off + Offset.sock + 4, true) & 0x1fffff;
  return hi * 0x100000000 + lo;
}

type Bytes = Uint8Array | DataView;

function word(src: Bytes, at: number, i: number): number {
  if (src instanceof DataView) return src.getUint32(at + i * 4, true);
  return (src[i * 4] | (src[i * 4 + 1] << 8) | (src[i * 4 + 2] << 16) | (src[i * 4 + 3] << 24)) >>> 0;
}

function addressKey(family: number, src: Bytes, at: number): string {
  if (family === AF_INET) return String(word(src, at, 0));
  return `${word(src, at, 0)},${word(src, at, 1)},${word(src, at, 2)},${word(src, at, 3)}`;
}

/** The 4-tuple in its network namespace: the same 4-tuple in two namespaces is two sockets. */
function tupleKey(
  netns: number, family: number, proto: number, lport: number, rport: number,
  laddr: Bytes, laddrAt: number, raddr: Bytes, raddrAt: number,
): string {
  return `${netns}/${family}/${proto}/${lport}/${rport}/${addressKey(family, laddr, laddrAt)}/${addressKey(family, raddr, raddrAt)}`;
}

function writeOwner(view: DataView, off: number, s: ExistingSocket): void {
  view.setUint32(off + Offset.pid, s.pid, true);
  view.setUint32(off + Offset.uid, s.uid, true);
  for (let i = 0; i < COMM_LEN; i++) {
    view.setUint8(off + Offset.comm + i, i < s.comm.length && i < COMM_LEN - 1 ? s.comm.charCodeAt(i) & 0xff : 0);
  }
  view.setUint8(off + Offset.flags, view.getUint8(off + Offset.flags) & ~Flag.OwnerUnknown);
}

function writeSnapshotRecord(view: DataView, off: number, s: ExistingSocket, nowNs: bigint): void {
  const listening = s.proto === IPPROTO_TCP && s.state === TcpState.Listen;
  view.setBigUint64(off + Offset.ts_ns, nowNs, true);
  view.setBigUint64(off + Offset.sock, BigInt(s.inode), true);
  view.setUint8(off + Offset.kind, listening ? EventKind.Listen : EventKind.Socket);
  view.setUint8(off + Offset.family, s.family);
  view.setUint8(off + Offset.proto, s.proto);
  view.setUint8(off + Offset.new_state, s.state);
  view.setUint8(off + Offset.flags, Flag.Snapshot);
  view.setUint16(off + Offset.lport, s.lport, true);
  view.setUint16(off + Offset.rport, s.rport, true);
  view.setUint8(off + Offset.backend, Backend.Snapshot);
  view.setUint32(off + Offset.netns, s.netns, true);
  view.setBigUint64(off + Offset.cgroup_id, BigInt(s.cgroupId), true);
  for (let i = 0; i < 16; i++) {
    view.setUint8(off + Offset.laddr + i, s.laddr[i]);
    view.setUint8(off + Offset.raddr + i, s.raddr[i]);
  }
  writeOwner(view, off, s);
}
