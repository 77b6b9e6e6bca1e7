/**
 * udp-flows.ts: the UDP flows the kernel aggregates (UDP_FLOW records, bpf/udp_flow.bpf.h): one
 * socket's traffic with one peer, datagrams and bytes each way, first and last seen. Each record
 * holds the flow's totals since first seen, so the latest one replaces what was known. Bounded:
 * past MAX_FLOWS, the flow seen least recently is forgotten (counted in `forgotten`).
 */
import { AF_INET6, Flag2, Offset } from '../capture/layout';
import { formatAddress } from '../capture/decode';
import { socketKey } from './sockets';

const MAX_FLOWS = 8192;
const TWO32 = 4294967296;

export interface UdpFlowRow {
  pid: number;
  /** The socket (socketKey) and the peer as text ("10.0.0.1:53", "[::1]:53"); null: not known. */
  sock: number;
  peer: string | null;
  datagramsSent: number;
  datagramsReceived: number;
  bytesSent: number;
  bytesReceived: number;
  firstNs: number;
  lastNs: number;
}

function u64(view: DataView, at: number): number {
  return view.getUint32(at + 4, true) * TWO32 + view.getUint32(at, true);
}

function peerText(view: DataView, off: number): string | null {
  if (view.getUint8(off + Offset.flags2) & Flag2.PeerUnknown) return null;
  const family = view.getUint8(off + Offset.family);
  const addr = formatAddress(view, off + Offset.raddr, family);
  const port = view.getUint16(off + Offset.rport, true);
  return family === AF_INET6 ? `[${addr}]:${port}` : `${addr}:${port}`;
}

export class UdpFlowTable {
  private readonly flows = new Map<string, UdpFlowRow>();
  forgotten = 0;

  ingest(view: DataView, off: number): void {
    const sock = socketKey(view, off);
    const peer = peerText(view, off);
    const key = `${sock}/${view.getUint32(off + Offset.serial, true)}/${peer ?? '?'}`;
    const last = u64(view, off + Offset.ts_ns);
    const row: UdpFlowRow = {
      pid: view.getUint32(off + Offset.pid, true),
      sock,
      peer,
      datagramsSent: view.getUint32(off + Offset.count, true),
      datagramsReceived: view.getUint32(off + Offset.path_id, true), // UDP_FLOW: datagrams received
      bytesSent: u64(view, off + Offset.bytes_sent),
      bytesReceived: u64(view, off + Offset.bytes_received),
      firstNs: last - u64(view, off + Offset.duration_ns),
      lastNs: last,
    };
    this.flows.delete(key); // re-inserted: the Map's order is least recently seen first
    this.flows.set(key, row);
    if (this.flows.size > MAX_FLOWS) {
      const oldest = this.flows.keys().next().value;
      if (oldest !== undefined) this.flows.delete(oldest);
      this.forgotten++;
    }
  }

  /** A process's flows, most recently seen first. */
  flowsOf(pid: number): UdpFlowRow[] {
    return [...this.flows.values()].filter((f) => f.pid === pid).sort((a, b) => b.lastNs - a.lastNs);
  }

  get size(): number {
    return this.flows.size;
  }
}
