/**
 * json-line.ts: one record as its JSON line, written straight from the record's bytes: the same
 * text as stringifyEvent(decodeEvent(view, off)), i.e. JSON.stringify with DEL and C1 controls
 * escaped as \u00XX (the comm, the one free-text field, goes through the shared commJson());
 * test/unit/json-line.test.ts checks that on random records. No intermediate object: `--json`
 * and `replay --json` encode every record, so at storm rates this is most of their CPU: about 3x
 * cheaper than the object and JSON.stringify.
 */
import {
  AF_INET, AF_INET6, AF_UNIX, Flag2, BACKEND_NAMES, durationKnown, EventKind, Flag, IPPROTO_TCP, IPPROTO_UDP, KIND_NAMES, Offset,
  STAGE_NAMES, TCP_STATE_NAMES,
} from './layout';
import { commJson, escapeJsonControls, formatAddress, queueWaitUs, reasonName, sockId } from './decode';
import { errnoName } from './errno';
import { pathPiece, unixFields } from './unix-json';
import { udpFlowJson } from './udp-flow-json';
import { intText } from './int-text';

/** A JSON string of untrusted text, as stringifyEvent writes it. */
const str = (s: string): string => escapeJsonControls(JSON.stringify(s));

const TWO32 = 4294967296;

/** A u64 field as a double, as Number(getBigUint64()) gives it (one rounding of the exact sum). */
function u64(view: DataView, at: number): number {
  return view.getUint32(at + 4, true) * TWO32 + view.getUint32(at, true);
}

/** A string that needs no escaping (names from our own tables) as a JSON string. */
const q = (s: string): string => `"${s}"`;

/** `,"netns":N,"cgroup_id":N`, each null when not known (0: snapshots, layout 1-2 recordings). */
function placeJson(view: DataView, off: number): string {
  const netns = view.getUint32(off + Offset.netns, true);
  const cgroup = u64(view, off + Offset.cgroup_id);
  return `,"netns":${netns ? intText(netns) : 'null'},"cgroup_id":${cgroup ? intText(cgroup) : 'null'}`;
}

export function jsonLine(view: DataView, off: number): string {
  const kind = view.getUint8(off + Offset.kind);
  const flags = view.getUint8(off + Offset.flags);
  const kindName = KIND_NAMES[kind] || `unknown_${kind}`;
  let s = `{"ts_ns":${intText(u64(view, off + Offset.ts_ns))},"kind":${q(kindName)},"pid":${view.getUint32(off + Offset.pid, true)}`
    + `,"tid":${flags & Flag.NoTask ? 'null' : view.getUint32(off + Offset.tid, true)},"uid":${intText(view.getUint32(off + Offset.uid, true))}`
    + `,"comm":${commJson(view, off)}`;
  if (kind === EventKind.Drops) {
    const stage = STAGE_NAMES[view.getUint8(off + Offset.new_state)] ?? 'unknown';
    return `${s},"stage":${q(stage)},"dropped":${view.getUint32(off + Offset.count, true)}}`;
  }
  if (kind === EventKind.Exit) return `${s},"exit_code":${view.getUint32(off + Offset.count, true)}${placeJson(view, off)}}`;
  if (kind === EventKind.UnixPath) {
    const p = pathPiece(view, off);
    return `${s},"path_id":${p.path_id === null ? 'null' : q(p.path_id)},"offset":${p.offset},"length":${p.length}`
      + `,"text":${str(p.text)}}`;
  }
  const family = view.getUint8(off + Offset.family);
  if (family === AF_UNIX) {
    const u = unixFields(view, off);
    s += `,"family":"unix","type":${q(u.type)},"path_id":${u.path_id === null ? 'null' : q(u.path_id)}`
      + `,"peer_pid":${u.peer_pid ?? 'null'}`;
  } else if (family === AF_INET || family === AF_INET6) {
    s += `,"family":${family === AF_INET ? '"inet"' : '"inet6"'}`
      + `,"laddr":${q(formatAddress(view, off + Offset.laddr, family))},"lport":${view.getUint16(off + Offset.lport, true)}`
      + `,"raddr":${q(formatAddress(view, off + Offset.raddr, family))},"rport":${view.getUint16(off + Offset.rport, true)}`;
  }
  const proto = family === AF_UNIX ? 0 : view.getUint8(off + Offset.proto);
  if (proto === IPPROTO_TCP) s += ',"proto":"tcp"';
  else if (proto === IPPROTO_UDP) s += ',"proto":"udp"';
  const error = view.getInt32(off + Offset.error, true);
  s += `,"error":${error ? q(errnoName(error)) : 'null'},"sock":${q(sockId(view, off))}${placeJson(view, off)}`;
  const newState = view.getUint8(off + Offset.new_state);
  if (kind === EventKind.State || newState !== 0) {
    const oldState = view.getUint8(off + Offset.old_state);
    if (kind === EventKind.State || oldState !== 0) s += `,"old_state":${q(TCP_STATE_NAMES[oldState] ?? 'UNKNOWN')}`;
    s += `,"new_state":${q(TCP_STATE_NAMES[newState] ?? 'UNKNOWN')}`;
  }
  const duration = !durationKnown(view, off) ? 'null'
    : intText(Math.round(u64(view, off + Offset.duration_ns) / 1000));
  if (kind === EventKind.Connect) s += `,"latency_us":${duration},"syn_retries":${view.getUint8(off + Offset.retries)}`;
  const reason = view.getUint8(off + Offset.reason);
  if (reason) s += `,"reason":${q(reasonName(reason))}`;
  if (kind === EventKind.Accept) s += `,"queue_wait_us":${queueWaitUs(view, off)}`;
  const queueMax = view.getUint32(off + Offset.queue_max, true);
  if (queueMax) s += `,"queue_len":${view.getUint32(off + Offset.queue_len, true)},"queue_max":${queueMax}`;
  if (kind === EventKind.Queue) {
    s += `,"overflows":${view.getUint32(off + Offset.count, true)},"syn_queue":${intText(u64(view, off + Offset.bytes_received))}`;
  }
  if (kind === EventKind.Close) {
    s += `,"bytes_sent":${intText(u64(view, off + Offset.bytes_sent))},"bytes_received":${intText(u64(view, off + Offset.bytes_received))}`
      + `,"duration_us":${duration}`
      + `,"ended_by":${flags & Flag.ByClose ? '"close"' : flags & Flag.ByDestroy ? '"destroy"' : '"state"'}`;
  }
  if (kind === EventKind.UdpFlow) s += udpFlowJson(view, off);
  if (kind === EventKind.SockError && view.getUint8(off + Offset.flags2) & Flag2.PeerUnknown) s += ',"peer":"unknown"';
  if (kind === EventKind.Send) s += `,"bytes":${intText(u64(view, off + Offset.bytes_sent))}`;
  if (kind === EventKind.Recv) s += `,"bytes":${intText(u64(view, off + Offset.bytes_received))}`;
  if (kind === EventKind.Reset) s += `,"reset":${flags & Flag.ResetSent ? '"sent"' : '"received"'}`;
  if (kind === EventKind.Accept && flags & Flag.FirstTouch) s += ',"accepted_at":"first_use"';
  if (flags & Flag.OwnerUnknown) s += ',"owner":"unknown"';
  if (flags & Flag.Snapshot) s += ',"snapshot":true';
  if (view.getUint8(off + Offset.flags2) & Flag2.Inferred) s += ',"inferred":true';
  const backend = BACKEND_NAMES[view.getUint8(off + Offset.backend)];
  return backend === undefined ? `${s}}` : `${s},"backend":${q(backend)}}`;
}
