/**
 * udp-flow-json.ts: the JSON fields of a UDP_FLOW record, shared by decode.ts (the object) and
 * json-line.ts (the text), so the two cannot differ. A flow is one UDP socket's traffic with one
 * peer (raddr:rport) since it was first seen; the record repeats its totals once a second while it
 * moves datagrams: the latest record of a flow (sock + peer) holds its totals.
 */
import { intText } from './int-text';
import { Flag2, Offset } from './layout';

export interface UdpFlowFields {
  /** "unknown": datagrams received with no address asked for, on an unconnected socket. */
  peer?: 'unknown';
  datagrams_sent: number;
  datagrams_received: number;
  bytes_sent: number;
  bytes_received: number;
  /** CLOCK_MONOTONIC ns, as ts_ns (which is the last seen). */
  first_seen_ns: number;
  last_seen_ns: number;
}

export function udpFlowFields(view: DataView, off: number): UdpFlowFields {
  const last = Number(view.getBigUint64(off + Offset.ts_ns, true));
  const f: UdpFlowFields = {
    datagrams_sent: view.getUint32(off + Offset.count, true),
    datagrams_received: view.getUint32(off + Offset.path_id, true),
    bytes_sent: Number(view.getBigUint64(off + Offset.bytes_sent, true)),
    bytes_received: Number(view.getBigUint64(off + Offset.bytes_received, true)),
    first_seen_ns: last - Number(view.getBigUint64(off + Offset.duration_ns, true)),
    last_seen_ns: last,
  };
  return view.getUint8(off + Offset.flags2) & Flag2.PeerUnknown ? { peer: 'unknown', ...f } : f;
}

/** The same fields as JSON text (a leading comma, no braces), in the object's order. */
export function udpFlowJson(view: DataView, off: number): string {
  const f = udpFlowFields(view, off);
  return `${f.peer ? ',"peer":"unknown"' : ''},"datagrams_sent":${f.datagrams_sent},"datagrams_received":${f.datagrams_received}`
    + `,"bytes_sent":${intText(f.bytes_sent)},"bytes_received":${intText(f.bytes_received)}`
    + `,"first_seen_ns":${intText(f.first_seen_ns)},"last_seen_ns":${intText(f.last_seen_ns)}`;
}
