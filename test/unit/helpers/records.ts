/**
 * Synthetic event records for unit tests: makeRecord({...}) writes each field at its Offset in a
 * RECORD_SIZE-byte little-endian record, exactly as the BPF side would.
 */
import { AF_INET, AF_INET6, COMM_LEN, IPPROTO_TCP, Offset, RECORD_SIZE } from '../../../src/capture/layout';

export interface RecordFields {
  kind: number;
  ts_ns?: number | bigint;
  sock?: number | bigint;
  bytes_sent?: number | bigint;
  bytes_received?: number | bigint;
  duration_ns?: number | bigint;
  pid?: number;
  tid?: number;
  uid?: number;
  error?: number;
  family?: number;
  proto?: number;
  old_state?: number;
  new_state?: number;
  flags?: number;
  lport?: number;
  rport?: number;
  backend?: number;
  flags2?: number;
  count?: number;
  laddr?: string;
  raddr?: string;
  /** UTF-8 encoded and cut at 15 bytes, as the kernel does; raw bytes as given (up to 16). */
  comm?: string | Uint8Array;
  serial?: number | bigint;
  cgroup_id?: number | bigint;
  netns?: number;
  reason?: number;
  retries?: number;
  queue_len?: number;
  queue_max?: number;
}

/** A kernel-looking socket address, so tests exercise both 32-bit halves of `sock`. */
export function kernelSock(n: number): bigint {
  return 0xffff888000000000n + BigInt(n) * 0x800n;
}

function writeAddress(bytes: Uint8Array, at: number, text: string, family: number): void {
  if (family === AF_INET) {
    text.split('.').forEach((part, i) => { bytes[at + i] = Number(part); });
    return;
  }
  const [head, tail] = text.includes('::') ? text.split('::') : [text, ''];
  const h = head ? head.split(':') : [];
  const t = tail ? tail.split(':') : [];
  const groups = [...h, ...Array(8 - h.length - t.length).fill('0'), ...t];
  groups.forEach((g, i) => {
    const v = parseInt(g, 16);
    bytes[at + 2 * i] = v >> 8;
    bytes[at + 2 * i + 1] = v & 255;
  });
}

export function makeRecord(f: RecordFields): Uint8Array {
  const bytes = new Uint8Array(RECORD_SIZE);
  const v = new DataView(bytes.buffer);
  const u64 = (at: number, x: number | bigint | undefined) => v.setBigUint64(at, BigInt(x ?? 0), true);
  u64(Offset.ts_ns, f.ts_ns);
  u64(Offset.sock, f.sock);
  u64(Offset.bytes_sent, f.bytes_sent);
  u64(Offset.bytes_received, f.bytes_received);
  u64(Offset.duration_ns, f.duration_ns);
  u64(Offset.serial, f.serial);
  u64(Offset.cgroup_id, f.cgroup_id);
  v.setUint32(Offset.netns, f.netns ?? 0, true);
  v.setUint32(Offset.pid, f.pid ?? 0, true);
  v.setUint32(Offset.tid, f.tid ?? f.pid ?? 0, true);
  v.setUint32(Offset.uid, f.uid ?? 0, true);
  v.setInt32(Offset.error, f.error ?? 0, true);
  const family = f.family ?? (f.laddr?.includes(':') ? AF_INET6 : AF_INET);
  v.setUint8(Offset.kind, f.kind);
  v.setUint8(Offset.family, family);
  v.setUint8(Offset.proto, f.proto ?? IPPROTO_TCP);
  v.setUint8(Offset.old_state, f.old_state ?? 0);
  v.setUint8(Offset.new_state, f.new_state ?? 0);
  v.setUint8(Offset.flags, f.flags ?? 0);
  v.setUint16(Offset.lport, f.lport ?? 0, true);
  v.setUint16(Offset.rport, f.rport ?? 0, true);
  v.setUint8(Offset.backend, f.backend ?? 2);
  v.setUint8(Offset.flags2, f.flags2 ?? 0);
  v.setUint32(Offset.count, f.count ?? 0, true);
  v.setUint8(Offset.reason, f.reason ?? 0);
  v.setUint8(Offset.retries, f.retries ?? 0);
  v.setUint32(Offset.queue_len, f.queue_len ?? 0, true);
  v.setUint32(Offset.queue_max, f.queue_max ?? 0, true);
  if (f.laddr) writeAddress(bytes, Offset.laddr, f.laddr, family);
  if (f.raddr) writeAddress(bytes, Offset.raddr, f.raddr, family);
  const comm = typeof f.comm === 'string' ? new TextEncoder().encode(f.comm).subarray(0, COMM_LEN - 1) : f.comm;
  if (comm) bytes.set(comm.subarray(0, COMM_LEN), Offset.comm);
  return bytes;
}

/** Concatenate records into one buffer; returns a DataView and the offsets, like ring.drain gives. */
export function pack(records: Uint8Array[]): { view: DataView; offsets: number[]; bytes: Uint8Array } {
  const bytes = new Uint8Array(records.length * RECORD_SIZE);
  records.forEach((r, i) => bytes.set(r, i * RECORD_SIZE));
  return {
    bytes,
    view: new DataView(bytes.buffer),
    offsets: records.map((_, i) => i * RECORD_SIZE),
  };
}

/** Feed records to anything with an ingest(view, off) method. */
export function feed(target: { ingest(view: DataView, off: number): void }, records: Uint8Array[]): void {
  const { view, offsets } = pack(records);
  for (const off of offsets) target.ingest(view, off);
}

export const SEC = 1_000_000_000;
export const MS = 1_000_000;
