/**
 * summarize.ts: the compact figures the VM test's guest sends back for one backend, computed from
 * `socktop --json` events and the traffic fixture's own report (test/live/fixtures/traffic.ts).
 * It keeps exactly what test/live/lifecycle.test.ts asserts on the host (see checks.ts), plus
 * per-pid event counts and byte totals for diagnosing a difference between backends.
 */

import type { Traffic } from '../live/traffic-report';

export type { Traffic } from '../live/traffic-report';
export type Ev = Record<string, any>;

export interface RoleSummary {
  pid: number;
  /** Every event of this pid, by kind. */
  kinds: Record<string, number>;
  /** Closes with bytes_sent > 0 (the connections; lifecycle.test.ts filters the same way). */
  closesWithBytes: number;
  closeComms: string[];
  /** "bytes_sent/bytes_received" -> number of such closes (closes with bytes_sent > 0). */
  closeBytes: Record<string, number>;
  /** Distinct sockets among those closes. */
  closeSocks: number;
  /** All closes of this pid by how they ended ("state", "close", "destroy") and family. */
  closesBy: Record<string, number>;
  exits: number;
  exitCodes: number[];
}

export interface BackendSummary {
  N: number;
  M: number;
  traffic: Traffic;
  events: number;
  /** Events by the program family that produced them (kprobe, tracepoint; common ones: "common"). */
  backends: Record<string, number>;
  /** The client's socket() events by backend: socket creation is backend-specific (inet_create
   * kprobe or sys_exit_socket tracepoint), so it shows which backend really ran. */
  clientSocketBackends: Record<string, number>;
  /** Listens of the server pid as "laddr:lport", sorted. */
  listens: string[];
  accepts: {
    n: number;
    comms: string[];
    inet4: number;          // family inet, lport = port4
    inet6: number;          // family inet6, lport = port6
    onPortsAnyPid: number;  // accepts by anyone on port4/port6
    backends: Record<string, number>;
    withoutWait: number;
    withoutQueue: number;
  };
  connects: {
    n: number;
    comms: string[];
    ok: number;
    ok4: number;            // raddr 127.0.0.1, rport port4
    ok6: number;            // raddr ::1, rport port6
    okLatencyNotPositive: number;
    latencyUs: { min: number; median: number; max: number } | null;
    failed: Array<[string, number, string, number]>;  // [error, rport, reason, syn_retries]
    backends: Record<string, number>;
  };
  server: RoleSummary;
  client: RoleSummary;
  /** Accepted or connected sockets that never got a close event. */
  unclosed: string[];
  /** Events of every other pid, "pid/comm" -> kind -> count (pid 0: owner unknown). */
  others: Record<string, Record<string, number>>;
  ownerUnknown: number;
  drops: number;
}

function countBy<T>(xs: T[], key: (x: T) => string): Record<string, number> {
  const out: Record<string, number> = {};
  for (const x of xs) {
    const k = key(x);
    out[k] = (out[k] ?? 0) + 1;
  }
  return out;
}

const distinct = (xs: unknown[]): string[] => [...new Set(xs.map(String))].sort();

function role(events: Ev[], pid: number): RoleSummary {
  const mine = events.filter((e) => e.pid === pid);
  const closes = mine.filter((e) => e.kind === 'close');
  const withBytes = closes.filter((e) => e.bytes_sent > 0);
  const exits = mine.filter((e) => e.kind === 'exit');
  return {
    pid,
    kinds: countBy(mine, (e) => e.kind),
    closesWithBytes: withBytes.length,
    closeComms: distinct(withBytes.map((e) => e.comm)),
    closeBytes: countBy(withBytes, (e) => `${e.bytes_sent}/${e.bytes_received}`),
    closeSocks: new Set(withBytes.map((e) => e.sock)).size,
    closesBy: countBy(closes, (e) => `${e.family ?? '?'}:${e.ended_by ?? '?'}`),
    exits: exits.length,
    exitCodes: exits.map((e) => e.exit_code),
  };
}

export function summarize(events: Ev[], traffic: Traffic, N: number, M: number): BackendSummary {
  const { serverPid, clientPid, port4, port6, closedPort } = traffic;
  void closedPort;
  const of = (pid: number, kind: string) => events.filter((e) => e.pid === pid && e.kind === kind);

  const accepts = of(serverPid, 'accept');
  const connects = of(clientPid, 'connect');
  const ok = connects.filter((e) => e.error === null);
  const failed = connects.filter((e) => e.error !== null);
  const lat = ok.map((e) => Number(e.latency_us)).sort((a, b) => a - b);

  const closedSocks = new Set(events.filter((e) => e.kind === 'close').map((e) => e.sock));
  const others: Record<string, Record<string, number>> = {};
  for (const e of events) {
    if (e.pid === serverPid || e.pid === clientPid) continue;
    const k = `${e.pid}/${e.comm ?? ''}`;
    (others[k] ??= {})[e.kind] = (others[k][e.kind] ?? 0) + 1;
  }

  return {
    N,
    M,
    traffic,
    events: events.length,
    backends: countBy(events, (e) => e.backend ?? 'common'),
    clientSocketBackends: countBy(of(clientPid, 'socket'), (e) => e.backend ?? 'common'),
    listens: of(serverPid, 'listen').map((e) => `${e.laddr}:${e.lport}`).sort(),
    accepts: {
      n: accepts.length,
      comms: distinct(accepts.map((e) => e.comm)),
      inet4: accepts.filter((e) => e.family === 'inet' && e.lport === port4).length,
      inet6: accepts.filter((e) => e.family === 'inet6' && e.lport === port6).length,
      onPortsAnyPid: events.filter((e) => e.kind === 'accept' && (e.lport === port4 || e.lport === port6)).length,
      backends: countBy(accepts, (e) => e.backend ?? 'common'),
      /** Accepts without their wait in the queue, or without their listener's backlog. */
      withoutWait: accepts.filter((e) => !(e.queue_wait_us > 0)).length,
      withoutQueue: accepts.filter((e) => !(e.queue_max > 0)).length,
    },
    connects: {
      n: connects.length,
      comms: distinct(connects.map((e) => e.comm)),
      ok: ok.length,
      ok4: ok.filter((e) => e.raddr === '127.0.0.1' && e.rport === port4).length,
      ok6: ok.filter((e) => e.raddr === '::1' && e.rport === port6).length,
      okLatencyNotPositive: ok.filter((e) => !(e.latency_us > 0)).length,
      latencyUs: lat.length ? { min: lat[0], median: lat[lat.length >> 1], max: lat[lat.length - 1] } : null,
      failed: failed.map((e) => [e.error, e.rport, e.reason, e.syn_retries] as [string, number, string, number]),
      backends: countBy(connects, (e) => e.backend ?? 'common'),
    },
    server: role(events, serverPid),
    client: role(events, clientPid),
    unclosed: [...accepts, ...ok].map((e) => e.sock).filter((s) => !closedSocks.has(s)),
    others,
    ownerUnknown: events.filter((e) => e.owner === 'unknown').length,
    drops: events.filter((e) => e.kind === 'drops').reduce((a, e) => a + (e.dropped ?? 0), 0),
  };
}
