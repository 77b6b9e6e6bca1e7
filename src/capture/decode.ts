/**
 * decode.ts: turn one record (DataView + offset) into the JSON-lines object of DESIGN.md, written
 * by stringifyEvent() (JSON.stringify with DEL and C1 controls escaped too; json-line.ts writes the
 * same text faster). The hot path (model) reads fields directly instead.
 */
import {
  AF_INET, AF_INET6, AF_UNIX, Flag2, IPPROTO_TCP, IPPROTO_UDP, BACKEND_NAMES, COMM_LEN, durationKnown, EventKind, Flag,
  KIND_NAMES, Offset, REASON_NAMES, STAGE_NAMES, TCP_STATE_NAMES,
} from './layout';
import { errnoName } from './errno';
import { decodeUtf8 } from '../model/text';
import { pathPiece, unixFields } from './unix-json';
import { udpFlowFields } from './udp-flow-json';
import { intText } from './int-text';

export interface EventJson {
  ts_ns: number;
  kind: string;
  pid: number;
  /** null: made in interrupt context (Flag.NoTask), where no thread made the event. */
  tid: number | null;
  uid: number;
  comm: string;
  family?: 'inet' | 'inet6' | 'unix';
  /** AF_UNIX: stream, dgram, seqpacket. */
  type?: string;
  /** AF_UNIX, unix_path: the address's id (its text comes in unix_path records); null: unbound. */
  path_id?: string | null;
  /** AF_UNIX: the process at the other end; null when not known. */
  peer_pid?: number | null;
  /** unix_path: this piece's place in the address, the address's length, its bytes. */
  offset?: number;
  length?: number;
  text?: string;
  proto?: 'tcp' | 'udp';
  laddr?: string;
  lport?: number;
  raddr?: string;
  rport?: number;
  old_state?: string;
  new_state?: string;
  error?: string | null;
  bytes?: number;
  bytes_sent?: number;
  bytes_received?: number;
  /** CONNECT: SYN to result; null when the SYN was not seen (Flag2.StartUnknown). */
  latency_us?: number | null;
  /** CLOSE: the socket's lifetime; null when its start was not seen (Flag2.StartUnknown). */
  duration_us?: number | null;
  sock?: string;
  /** Why a connect failed (CONNECT) or a connection ended (CLOSE after a received RST); left out
   * when none is known. */
  reason?: string;
  /** CONNECT: SYN retransmits before the result. */
  syn_retries?: number;
  /** ACCEPT: how long the connection waited, established, before its program took it; null when
   * not known (its passive open was not seen). With accepted_at "first_use": until its first use. */
  queue_wait_us?: number | null;
  /** LISTEN, ACCEPT, QUEUE, passive ESTABLISHED: the listener's accept queue and its limit. */
  queue_len?: number;
  queue_max?: number;
  /** QUEUE: connections dropped since the listener's previous QUEUE event (queue full). */
  overflows?: number;
  /** QUEUE: connection requests not yet established (SYN_RECV). */
  syn_queue?: number;
  /** Network namespace (inode of /proc/PID/ns/net); null when not known. */
  netns?: number | null;
  /** cgroup v2 id of the socket's cgroup (EXIT: the task's); null when not known. */
  cgroup_id?: number | null;
  owner?: 'unknown';
  reset?: 'sent' | 'received';
  ended_by?: 'state' | 'close' | 'destroy';
  /** ACCEPT: claimed when its owner first used it (no hook ran in accept(): cgroup backend, io_uring). */
  accepted_at?: 'first_use';
  snapshot?: true;
  /** Found by the periodic walk of unix sockets, not seen as it happened (Flag2.Inferred). */
  inferred?: true;
  /** udp_flow (udp-flow-json.ts): "unknown" when the peer is not known. */
  peer?: 'unknown';
  datagrams_sent?: number;
  datagrams_received?: number;
  first_seen_ns?: number;
  last_seen_ns?: number;
  exit_code?: number;
  stage?: string;
  dropped?: number;
  backend?: string;
}

/**
 * The process name of a record: its comm bytes as UTF-8 (src/model/text.ts decodeUtf8: invalid
 * bytes become U+FFFD; a character the kernel cut at its 15-byte limit is dropped). The exact
 * name, controls included: what shows it escapes them (showText), JSON escapes them (commJson).
 */
export function readComm(view: DataView, off: number): string {
  return decodeUtf8(view, off + Offset.comm, COMM_LEN, COMM_LEN - 1);
}

const C1 = /[\x7f-\x9f]/g;
const C1_TEST = /[\x7f-\x9f]/;

/**
 * JSON text with the characters JSON.stringify leaves raw but a terminal acts on (DEL and the C1
 * controls U+007F-U+009F) escaped as \u00XX: the same JSON value, safe to `cat`. They can only
 * occur inside strings, so escaping the whole text is exact.
 */
export function escapeJsonControls(json: string): string {
  return C1_TEST.test(json) ? json.replace(C1, (c) => `\\u00${c.charCodeAt(0).toString(16)}`) : json;
}

/** One event as its JSON line: JSON.stringify, plus escapeJsonControls. */
export function stringifyEvent(ev: EventJson): string {
  return escapeJsonControls(JSON.stringify(ev));
}

// The last comm commJson() encoded (its four words): records come in runs from one process.
let last0 = -1;
let last1 = -1;
let last2 = -1;
let last3 = -1;
let lastCommJson = '';

/** The record's comm as a JSON string (quotes included), exactly as stringifyEvent writes it. */
export function commJson(view: DataView, off: number): string {
  const c = off + Offset.comm;
  const w0 = view.getUint32(c, true);
  const w1 = view.getUint32(c + 4, true);
  const w2 = view.getUint32(c + 8, true);
  const w3 = view.getUint32(c + 12, true);
  if (w0 === last0 && w1 === last1 && w2 === last2 && w3 === last3) return lastCommJson;
  last0 = w0;
  last1 = w1;
  last2 = w2;
  last3 = w3;
  lastCommJson = escapeJsonControls(JSON.stringify(readComm(view, off)));
  return lastCommJson;
}

/** Format an address field (16 bytes at `at`) for the given family. */
export function formatAddress(view: DataView, at: number, family: number): string {
  if (family === AF_INET) {
    return `${view.getUint8(at)}.${view.getUint8(at + 1)}.${view.getUint8(at + 2)}.${view.getUint8(at + 3)}`;
  }
  const groups: number[] = [];
  for (let i = 0; i < 16; i += 2) groups.push(view.getUint16(at + i, false));
  return compressIPv6(groups);
}

function compressIPv6(groups: number[]): string {
  // IPv4-mapped (::ffff:a.b.c.d) reads better in dotted form.
  if (groups.slice(0, 5).every((g) => g === 0) && groups[5] === 0xffff) {
    return `::ffff:${groups[6] >> 8}.${groups[6] & 255}.${groups[7] >> 8}.${groups[7] & 255}`;
  }
  let bestStart = -1;
  let bestLen = 0;
  for (let i = 0; i < 8; ) {
    if (groups[i] !== 0) { i++; continue; }
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > bestLen && j - i > 1) { bestStart = i; bestLen = j - i; }
    i = j;
  }
  const hex = groups.map((g) => g.toString(16));
  if (bestStart < 0) return hex.join(':');
  return `${hex.slice(0, bestStart).join(':')}::${hex.slice(bestStart + bestLen).join(':')}`;
}

/**
 * The socket's identity in JSON: the opaque id the reader put in `sock` (a keyed hash of the kernel
 * address, never the address: native/src/opaque_id.h), in hex, plus "-N" where the BPF side
 * numbered the socket (`serial`): the kernel reuses a freed socket's memory, the number is not.
 */
export function sockId(view: DataView, off: number): string {
  const id = u64Text(view, off + Offset.sock, 16);
  const serial = view.getUint32(off + Offset.serial, true) || view.getUint32(off + Offset.serial + 4, true);
  return serial ? `${id}-${u64Text(view, off + Offset.serial, 10)}` : id;
}

/** A u64 field in `radix`, without a BigInt where it fits a double exactly (every opaque id does). */
function u64Text(view: DataView, at: number, radix: number): string {
  const hi = view.getUint32(at + 4, true);
  if (hi < 0x200000) {
    const n = hi * 4294967296 + view.getUint32(at, true);
    return radix === 10 ? intText(n) : n.toString(radix);
  }
  return view.getBigUint64(at, true).toString(radix);
}

/** The event's netns and cgroup id (null: not known). */
function setPlace(ev: EventJson, view: DataView, off: number): void {
  ev.netns = view.getUint32(off + Offset.netns, true) || null;
  ev.cgroup_id = Number(view.getBigUint64(off + Offset.cgroup_id, true)) || null;
}

/** A reason code's JSON name ("unknown_N" for a code this version does not know). */
export function reasonName(code: number): string {
  return REASON_NAMES[code] || `unknown_${code}`;
}

/** ACCEPT: the time in the accept queue in µs; null when not known (0, or its start not seen). */
export function queueWaitUs(view: DataView, off: number): number | null {
  if (!durationKnown(view, off)) return null;
  const ns = Number(view.getBigUint64(off + Offset.duration_ns, true));
  return ns ? Math.round(ns / 1000) : null;
}

export function decodeEvent(view: DataView, off: number): EventJson {
  const kind = view.getUint8(off + Offset.kind);
  const flags = view.getUint8(off + Offset.flags);
  const ev: EventJson = {
    ts_ns: Number(view.getBigUint64(off + Offset.ts_ns, true)),
    kind: KIND_NAMES[kind] || `unknown_${kind}`,
    pid: view.getUint32(off + Offset.pid, true),
    tid: flags & Flag.NoTask ? null : view.getUint32(off + Offset.tid, true),
    uid: view.getUint32(off + Offset.uid, true),
    comm: readComm(view, off),
  };
  if (kind === EventKind.Drops) {
    ev.stage = STAGE_NAMES[view.getUint8(off + Offset.new_state)] ?? 'unknown';
    ev.dropped = view.getUint32(off + Offset.count, true);
    return ev;
  }
  if (kind === EventKind.Exit) {
    ev.exit_code = view.getUint32(off + Offset.count, true);
    setPlace(ev, view, off);
    return ev;
  }
  if (kind === EventKind.UnixPath) return Object.assign(ev, pathPiece(view, off));
  const family = view.getUint8(off + Offset.family);
  const proto = family === AF_UNIX ? 0 : view.getUint8(off + Offset.proto);
  if (family === AF_UNIX) {
    ev.family = 'unix';
    Object.assign(ev, unixFields(view, off));
  } else if (family === AF_INET || family === AF_INET6) {
    ev.family = family === AF_INET ? 'inet' : 'inet6';
    ev.laddr = formatAddress(view, off + Offset.laddr, family);
    ev.lport = view.getUint16(off + Offset.lport, true);
    ev.raddr = formatAddress(view, off + Offset.raddr, family);
    ev.rport = view.getUint16(off + Offset.rport, true);
  }
  if (proto === IPPROTO_TCP) ev.proto = 'tcp';
  else if (proto === IPPROTO_UDP) ev.proto = 'udp';
  const error = view.getInt32(off + Offset.error, true);
  ev.error = error ? errnoName(error) : null;
  ev.sock = sockId(view, off);
  setPlace(ev, view, off);
  // STATE records, and the records that tell a transition in place of a STATE record (connect
  // start and result, listen, close: the BPF side does not send those transitions twice).
  const newState = view.getUint8(off + Offset.new_state);
  if (kind === EventKind.State || newState !== 0) {
    const oldState = view.getUint8(off + Offset.old_state);
    if (kind === EventKind.State || oldState !== 0) ev.old_state = TCP_STATE_NAMES[oldState] ?? 'UNKNOWN';
    ev.new_state = TCP_STATE_NAMES[newState] ?? 'UNKNOWN';
  }
  const duration = !durationKnown(view, off) ? null
    : Math.round(Number(view.getBigUint64(off + Offset.duration_ns, true)) / 1000);
  if (kind === EventKind.Connect) {
    ev.latency_us = duration;
    ev.syn_retries = view.getUint8(off + Offset.retries);
  }
  const reason = view.getUint8(off + Offset.reason);
  if (reason) ev.reason = reasonName(reason);
  if (kind === EventKind.Accept) ev.queue_wait_us = queueWaitUs(view, off);
  const queueMax = view.getUint32(off + Offset.queue_max, true);
  if (queueMax) {
    ev.queue_len = view.getUint32(off + Offset.queue_len, true);
    ev.queue_max = queueMax;
  }
  if (kind === EventKind.Queue) {
    ev.overflows = view.getUint32(off + Offset.count, true);
    ev.syn_queue = Number(view.getBigUint64(off + Offset.bytes_received, true));
  }
  if (kind === EventKind.Close) {
    ev.bytes_sent = Number(view.getBigUint64(off + Offset.bytes_sent, true));
    ev.bytes_received = Number(view.getBigUint64(off + Offset.bytes_received, true));
    ev.duration_us = duration;
    ev.ended_by = flags & Flag.ByClose ? 'close' : flags & Flag.ByDestroy ? 'destroy' : 'state';
  }
  if (kind === EventKind.UdpFlow) Object.assign(ev, udpFlowFields(view, off));
  if (kind === EventKind.SockError && view.getUint8(off + Offset.flags2) & Flag2.PeerUnknown) ev.peer = 'unknown';
  if (kind === EventKind.Send) ev.bytes = Number(view.getBigUint64(off + Offset.bytes_sent, true));
  if (kind === EventKind.Recv) ev.bytes = Number(view.getBigUint64(off + Offset.bytes_received, true));
  if (kind === EventKind.Reset) ev.reset = flags & Flag.ResetSent ? 'sent' : 'received';
  if (kind === EventKind.Accept && flags & Flag.FirstTouch) ev.accepted_at = 'first_use';
  if (flags & Flag.OwnerUnknown) ev.owner = 'unknown';
  if (flags & Flag.Snapshot) ev.snapshot = true;
  if (view.getUint8(off + Offset.flags2) & Flag2.Inferred) ev.inferred = true;
  ev.backend = BACKEND_NAMES[view.getUint8(off + Offset.backend)];
  return ev;
}
