/**
 * bench/synthetic.ts: realistic synthetic event records for the UI benches (bench/frame.ts,
 * bench/drain.ts), written with the unit tests' makeRecord (exactly the record layout the BPF
 * side writes).
 *
 * The connection mix follows what socktop really saw under bench/loadgen's storm (bench/results:
 * per connection about 1 socket, 1 bind, 1 connect_start, 1 connect, 0.9 accept, 9 state changes
 * (a third of them in softirq, pid 0), 1.9 closes, 0.1 resets), plus a send and a recv on each
 * side as a request/response client would add.
 */
import { AF_INET, EventKind as K, RECORD_SIZE, TcpState as S } from '../src/capture/layout';
import { kernelSock, makeRecord, RecordFields } from '../test/unit/helpers/records';

export const ECONNREFUSED = 111;

const NAMES = ['nginx', 'postgres', 'node', 'curl', 'redis-server', 'python3', 'java', 'envoy', 'sshd',
  'haproxy', 'grpc-worker', 'memcached', 'php-fpm', 'dockerd', 'consul', 'kafka'];
const UIDS = [0, 0, 33, 65534, 1000];

/** A comm for process number i: a common daemon name, sometimes with a suffix like a worker. */
export function commFor(i: number): string {
  const base = NAMES[i % NAMES.length];
  return i % 3 === 0 ? base : `${base}-${i % 97}`.slice(0, 15);
}

export function uidFor(i: number): number {
  return UIDS[i % UIDS.length];
}

/** Deterministic xorshift32 in [0, 1). */
export function rng(seed = 0x9e3779b9): () => number {
  let x = seed | 0 || 1;
  return () => {
    x ^= x << 13; x ^= x >>> 17; x ^= x << 5;
    return (x >>> 0) / 4294967296;
  };
}

/** Concatenate records into one buffer of RECORD_SIZE slots. */
export function packRecords(records: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(records.length * RECORD_SIZE);
  records.forEach((r, i) => out.set(r, i * RECORD_SIZE));
  return out;
}

export interface ConnectionSpec {
  clientPid: number;
  clientComm: string;
  clientUid?: number;
  serverPid: number;
  serverComm: string;
  serverUid?: number;
  /** Kernel socket numbers (see kernelSock) for the client socket and the accepted one. */
  clientSock: number;
  serverSock: number;
  port: number;
  clientPort: number;
  tsNs: number;
  refused?: boolean;
  latencyNs?: number;
  bytes?: number;
  /** Stop after the request and response: both sockets stay open. */
  keepOpen?: boolean;
}

/**
 * The records of one loopback connection's life, in kernel order, timestamps from `tsNs` (a few
 * microseconds apart). A refused one: socket, connect_start, two states, reset, the failed connect,
 * close (7 records); a successful one: 21 records (11 with keepOpen).
 */
export function connectionRecords(c: ConnectionSpec): Uint8Array[] {
  const out: Uint8Array[] = [];
  let t = c.tsNs;
  const cli = { pid: c.clientPid, comm: c.clientComm, uid: c.clientUid ?? 0 };
  const srv = { pid: c.serverPid, comm: c.serverComm, uid: c.serverUid ?? 0 };
  const cs = kernelSock(c.clientSock);
  const ss = kernelSock(c.serverSock);
  const tuple = { family: AF_INET, laddr: '127.0.0.1', raddr: '127.0.0.1', lport: c.clientPort, rport: c.port };
  const back = { family: AF_INET, laddr: '127.0.0.1', raddr: '127.0.0.1', lport: c.port, rport: c.clientPort };
  const add = (f: RecordFields) => {
    t += 1500;
    out.push(makeRecord({ ts_ns: t, ...f }));
  };
  const state = (owner: typeof cli | null, sock: bigint, tup: typeof tuple, from: number, to: number) =>
    add({ kind: K.State, sock, ...tup, old_state: from, new_state: to, ...(owner ?? { pid: 0, comm: '' }) });
  add({ kind: K.Socket, sock: cs, family: AF_INET, ...cli });
  add({ kind: K.ConnectStart, sock: cs, ...tuple, ...cli });
  state(cli, cs, tuple, S.Close, S.SynSent);
  if (c.refused) {
    add({ kind: K.Reset, sock: cs, ...tuple, pid: 0, comm: '' });
    state(null, cs, tuple, S.SynSent, S.Close);
    add({ kind: K.Connect, sock: cs, ...tuple, ...cli, error: ECONNREFUSED, duration_ns: 30_000 });
    add({ kind: K.Close, sock: cs, ...tuple, ...cli, error: ECONNREFUSED, duration_ns: 60_000 });
    return out;
  }
  const bytes = c.bytes ?? 100;
  state(null, ss, back, S.Listen, S.SynRecv);
  state(null, cs, tuple, S.SynSent, S.Established);
  state(null, ss, back, S.SynRecv, S.Established);
  add({ kind: K.Connect, sock: cs, ...tuple, ...cli, duration_ns: c.latencyNs ?? 40_000 });
  add({ kind: K.Accept, sock: ss, ...back, ...srv });
  add({ kind: K.Send, sock: cs, ...tuple, ...cli, bytes_sent: bytes });
  add({ kind: K.Recv, sock: ss, ...back, ...srv, bytes_received: bytes });
  add({ kind: K.Send, sock: ss, ...back, ...srv, bytes_sent: bytes * 10 });
  add({ kind: K.Recv, sock: cs, ...tuple, ...cli, bytes_received: bytes * 10 });
  if (c.keepOpen) return out;
  state(cli, cs, tuple, S.Established, S.FinWait1);
  state(null, ss, back, S.Established, S.CloseWait);
  state(null, cs, tuple, S.FinWait1, S.FinWait2);
  add({ kind: K.Close, sock: cs, ...tuple, ...cli, bytes_sent: bytes, bytes_received: bytes * 10, duration_ns: 200_000 });
  state(srv, ss, back, S.CloseWait, S.LastAck);
  state(null, cs, tuple, S.FinWait2, S.TimeWait);
  state(null, ss, back, S.LastAck, S.Close);
  add({ kind: K.Close, sock: ss, ...back, ...srv, bytes_sent: bytes * 10, bytes_received: bytes, duration_ns: 180_000 });
  state(null, cs, tuple, S.TimeWait, S.Close);
  return out;
}

/** A listening socket for a server process: socket, bind, listen. */
export function listenerRecords(pid: number, comm: string, uid: number, sock: number, port: number, tsNs: number): Uint8Array[] {
  const base = { pid, comm, uid, sock: kernelSock(sock), family: AF_INET, laddr: '0.0.0.0', lport: port };
  return [
    makeRecord({ kind: K.Socket, ts_ns: tsNs, ...base }),
    makeRecord({ kind: K.Bind, ts_ns: tsNs + 1000, ...base }),
    makeRecord({ kind: K.Listen, ts_ns: tsNs + 2000, ...base, new_state: S.Listen }),
  ];
}
