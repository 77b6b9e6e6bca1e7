/**
 * TypeScript mirror of bpf/socktop.h, the one definition of the 160-byte event record.
 * test/unit/layout.test.ts checks every offset here against offsetof() in the compiled addon.
 * Fields are read straight from a DataView at (record offset + field offset): no object per record.
 */

export const RECORD_SIZE = 160;
/** 2: backend a byte, flags2 its old high byte (0 in every version 1 record: those read as 2).
 * 3: 160 bytes, cgroup_id and netns after the 128 bytes of version 2. */
export const RECORD_VERSION = 3;
/** Versions 1 and 2 had 128-byte records: the same fields up to `serial`. Readers widen them to
 * RECORD_SIZE with zeros (cgroup and netns "not known"): see widenRecords(). */
export const RECORD_SIZE_V2 = 128;

/** The record size a recording of layout `version` has. */
export function recordSizeOf(version: number): number {
  return version <= 2 ? RECORD_SIZE_V2 : RECORD_SIZE;
}

/** Copy `count` records of `fromSize` bytes into `to` (RECORD_SIZE apart), zero-filling the rest. */
export function widenRecords(from: Uint8Array, fromSize: number, count: number, to: Uint8Array): void {
  to.fill(0, 0, count * RECORD_SIZE);
  for (let k = 0; k < count; k++) {
    to.set(from.subarray(k * fromSize, (k + 1) * fromSize), k * RECORD_SIZE);
  }
}
export const COMM_LEN = 16;

/** Byte offsets of each field inside a record (little-endian). */
export const Offset = {
  ts_ns: 0,
  sock: 8,
  bytes_sent: 16,
  bytes_received: 24,
  duration_ns: 32,
  pid: 40,
  tid: 44,
  uid: 48,
  error: 52,
  kind: 56,
  family: 57,
  proto: 58,
  old_state: 59,
  new_state: 60,
  flags: 61,
  lport: 62,
  rport: 64,
  backend: 66,
  flags2: 67,
  count: 68,
  laddr: 72,
  raddr: 88,
  comm: 104,
  serial: 120,
  cgroup_id: 128,
  netns: 136,
  reason: 140,
  retries: 141,
  reserved0: 142,
  queue_len: 144,
  queue_max: 148,
  /** AF_UNIX: the pid at the other end (0: not known). */
  peer_pid: 152,
  /** AF_UNIX and UNIX_PATH: the id of the socket's address (0: unbound). UDP_FLOW: datagrams
   *  received (a per-kind meaning, as `count` has). */
  path_id: 156,
} as const;

export type FieldName = keyof typeof Offset;

export enum EventKind {
  None = 0,
  Socket = 1,
  Bind = 2,
  Listen = 3,
  ConnectStart = 4,
  Connect = 5,
  Accept = 6,
  State = 7,
  Close = 8,
  Send = 9,
  Recv = 10,
  Retransmit = 11,
  Reset = 12,
  Exit = 13,
  Drops = 14,
  /** A listener's accept queue: queue_len/queue_max, count = overflows since its last QUEUE record,
   * bytes_received = SYN queue length. */
  Queue = 15,
  /** A piece (up to 32 bytes) of a unix socket address, named by path_id (see UNIX_PATH_PIECE). */
  UnixPath = 17,
  /** A UDP socket's traffic with one peer since first seen (udp-flow-json.ts; bpf/udp_flow.bpf.h). */
  UdpFlow = 18,
  /** An error the kernel reported to a UDP socket (an ICMP port unreachable: ECONNREFUSED). */
  SockError = 19,
}
export const KIND_MAX = 20;

/** JSON names of the kinds (index = EventKind). */
export const KIND_NAMES: readonly string[] = [
  'none', 'socket', 'bind', 'listen', 'connect_start', 'connect', 'accept', 'state', 'close',
  'send', 'recv', 'retransmit', 'reset', 'exit', 'drops', 'queue', '', 'unix_path', 'udp_flow', 'sock_error',
];

/** enum socktop_reason: why a connect failed (CONNECT) or a connection ended badly (CLOSE). */
export enum Reason {
  None = 0,
  Refused = 1,
  Timeout = 2,
  Unreachable = 3,
  Reset = 4,
  Aborted = 5,
  Local = 6,
}
/** JSON names of the reasons (index = Reason; 0 has none: the field is left out). */
export const REASON_NAMES: readonly string[] = ['', 'refused', 'timeout', 'unreachable', 'reset', 'aborted', 'local'];
/** Every reason a failure can have, in the order outputs list them. */
export const FAIL_REASONS: readonly Reason[] = [
  Reason.Refused, Reason.Timeout, Reason.Unreachable, Reason.Reset, Reason.Aborted, Reason.Local,
];

export enum DropStage {
  BpfRing = 1,
  SharedRing = 2,
  Recording = 3,
  KernelMiss = 4,
  /** Datagrams not counted in any UDP flow: the kernel's flow table was full. */
  UdpFlows = 5,
}
export const STAGE_NAMES: Record<number, string> = {
  1: 'bpf_ring',
  2: 'shared_ring',
  3: 'recording',
  4: 'kernel_miss',
  5: 'udp_flows',
};
/** Every stage, in the order events flow (how drops are listed in every output). */
export const DROP_STAGES: readonly DropStage[] = [
  DropStage.KernelMiss, DropStage.UdpFlows, DropStage.BpfRing, DropStage.SharedRing, DropStage.Recording,
];
/** A per-stage counter array, indexed by DropStage (index 0 unused). */
export function dropCounters(): number[] {
  return new Array<number>(Math.max(...DROP_STAGES) + 1).fill(0);
}
/** "kernel_miss 0, udp_flows 0, bpf_ring 0, shared_ring 3, recording 0": the one way drops are written out. */
export function formatDrops(drops: readonly number[]): string {
  return DROP_STAGES.map((st) => `${STAGE_NAMES[st]} ${drops[st] ?? 0}`).join(', ');
}

export const Flag = {
  OwnerUnknown: 0x01,
  ResetSent: 0x02,
  Snapshot: 0x04,
  ByClose: 0x08,
  ByDestroy: 0x10,
  LocalError: 0x20,
  FirstTouch: 0x40,
  /** Made in interrupt context: no tid (JSON "tid": null); pid/comm only from the socket's owner. */
  NoTask: 0x80,
} as const;

/** Bits in flags2 (SKF2_*). */
export const Flag2 = {
  /** duration_ns is unknown (the start or the SYN was not seen), not 0: JSON null, TUI "?". */
  StartUnknown: 0x01,
  /** Found by socktop's periodic walk of the kernel's unix sockets, not seen as it happened (a
   * CLOSE's time is then exact only to the walk's interval, 1 s): JSON "inferred": true. */
  Inferred: 0x08,
  /** UDP_FLOW: datagrams received without their source (recv() on an unconnected socket);
   *  SOCK_ERROR: an unconnected socket's error (its peer is not known). JSON "peer": "unknown". */
  PeerUnknown: 0x10,
} as const;

/** Whether a CONNECT's latency / a CLOSE's lifetime (duration_ns) is known: not when its start
 * was not seen (Flag2.StartUnknown, where duration_ns is 0 but means "unknown"). */
export function durationKnown(view: DataView, off: number): boolean {
  return (view.getUint8(off + Offset.flags2) & Flag2.StartUnknown) === 0;
}

/** enum socktop_backend: which program made a record (0: one every backend loads). */
export const Backend = { Common: 0, Kprobe: 1, Tracepoint: 2, Snapshot: 3, Cgroup: 4 } as const;
export const BACKEND_NAMES: Record<number, string> = { 1: 'kprobe', 2: 'tracepoint', 3: 'snapshot', 4: 'cgroup' };

export const AF_UNIX = 1;
export const AF_INET = 2;
export const AF_INET6 = 10;
export const IPPROTO_TCP = 6;
export const IPPROTO_UDP = 17;

/** AF_UNIX records hold the socket type in `proto`. */
export const UNIX_TYPE_NAMES: Record<number, string> = { 1: 'stream', 2: 'dgram', 5: 'seqpacket' };
/** The name of a unix socket type (`proto` of an AF_UNIX record). */
export function unixTypeName(type: number): string {
  return UNIX_TYPE_NAMES[type] ?? `type_${type}`;
}
/** Bytes of an address one UNIX_PATH record carries (laddr and raddr). */
export const UNIX_PATH_PIECE = 32;

/** Linux TCP states (include/net/tcp_states.h), index = state number. */
export const TCP_STATE_NAMES: readonly string[] = [
  '', 'ESTABLISHED', 'SYN_SENT', 'SYN_RECV', 'FIN_WAIT1', 'FIN_WAIT2', 'TIME_WAIT', 'CLOSE',
  'CLOSE_WAIT', 'LAST_ACK', 'LISTEN', 'CLOSING', 'NEW_SYN_RECV',
];
export const TcpState = {
  Established: 1, SynSent: 2, SynRecv: 3, FinWait1: 4, FinWait2: 5, TimeWait: 6, Close: 7,
  CloseWait: 8, LastAck: 9, Listen: 10, Closing: 11, NewSynRecv: 12,
} as const;
