/**
 * bench/storm/load-events.ts: the load's own events in socktop's JSON lines (live --json or
 * replay --json), against loadgen's ground truth.
 *
 * The load's events are the records whose lport or rport is the load's server port (5001) or its
 * refused port (5002): connects ok (connect, no error, rport 5001), refused (connect, ECONNREFUSED,
 * rport 5002), accepts (accept, no error, lport 5001), client closes (close with rport 5001/5002),
 * server closes (close with lport 5001 and a remote port: not the listener's); closes counted once
 * per socket (a second end-of-socket report is not a second close).
 */
import type { Readable } from 'node:stream';
import { type GroundTruth, REFUSED_PORT, SERVER_PORT } from './load';
import type { Mode } from './options';

/** The load's own events, counted from socktop's JSON lines. */
export interface LoadEvents {
  connectsOk: number;
  refused: number;
  accepts: number;
  clientCloses: number;
  serverCloses: number;
  /** Close records for a socket already closed (not counted above). */
  duplicateCloses: number;
  /** DROPS records, summed per stage (kernel_miss, bpf_ring, shared_ring, recording). */
  dropRecords: Record<string, number>;
  /** Lines read, and how many of them concern the load's ports. */
  lines: number;
  loadLines: number;
  /** Backends named by the records (`backend` field), by count. */
  backends: Record<string, number>;
}

/** What loadgen says happened, in the categories of LoadEvents. */
export interface LoadTruth { connectsOk: number; refused: number; accepts: number; clientCloses: number; serverCloses: number }

export function loadTruth(gt: GroundTruth): LoadTruth {
  // Every attempt's socket closes (client side); every accepted one too (server side).
  return { connectsOk: gt.connects_ok, refused: gt.connects_refused, accepts: gt.accepts, clientCloses: gt.attempts, serverCloses: gt.accepts };
}

/**
 * Sockets lg-server closes besides the ones it accepted: the listener. loadgen's parent binds it,
 * forks lg-server and drops its own descriptor; lg-server, the last holder, closes it as it exits
 * (LISTEN>CLOSE). socktop names the process that closes a socket (ownership per event), so the
 * counts per process (the TUI's model, the exporter's per-comm counters) hold it among lg-server's
 * closes; the counts per port (json, record) leave it out (a server close has a remote port).
 */
export const SERVER_LISTENERS = 1;

/** What loadgen's processes did, counted per process: lg-server's closes include its listener's. */
export function processTruth(gt: GroundTruth): LoadTruth {
  const t = loadTruth(gt);
  return { ...t, serverCloses: t.serverCloses + (gt.server_pid ? SERVER_LISTENERS : 0) };
}

/**
 * The truth a socktop mode is checked against: the tui and exporter modes count per process, json
 * and record per socket on the load's ports. Checked against accepts alone, lg-server's count was
 * one over (the report's "short -1", read as one close lost) and a lost server close would have
 * been hidden by the listener's (seen = truth).
 */
export function truthFor(mode: Mode, gt: GroundTruth): LoadTruth {
  return mode === 'tui' || mode === 'exporter' ? processTruth(gt) : loadTruth(gt);
}

export const CATEGORIES = ['connectsOk', 'refused', 'accepts', 'clientCloses', 'serverCloses'] as const;

/** Sum over the categories of max(0, seen - truth): events counted that did not happen (twice, or not the load's). */
export function extraEvents(seen: Partial<LoadTruth>, truth: LoadTruth): number {
  let n = 0;
  for (const c of CATEGORIES) {
    const s = seen[c];
    if (s === undefined || !Number.isFinite(s)) return NaN;
    n += Math.max(0, s - truth[c]);
  }
  return n;
}

/** Sum over the categories of max(0, truth - seen): events the tool did not show. */
export function missingEvents(seen: Partial<LoadTruth>, truth: LoadTruth): number {
  let n = 0;
  for (const c of CATEGORIES) {
    const s = seen[c];
    if (s === undefined || !Number.isFinite(s)) return NaN;
    n += Math.max(0, truth[c] - s);
  }
  return n;
}

/** Count the load's events in a stream of socktop JSON lines (live --json or replay --json). */
export function countLoadEvents(input: Readable): Promise<LoadEvents> {
  const ev: LoadEvents = {
    connectsOk: 0, refused: 0, accepts: 0, clientCloses: 0, serverCloses: 0, duplicateCloses: 0,
    dropRecords: {}, lines: 0, loadLines: 0, backends: {},
  };
  const closed = new Set<string>();
  const ports = [`"lport":${SERVER_PORT},`, `"rport":${SERVER_PORT},`, `"lport":${REFUSED_PORT},`, `"rport":${REFUSED_PORT},`];
  const line = (l: string): void => {
    if (l.length === 0) return;
    ev.lines++;
    // Cheap tests first: most lines are STATE records, not counted.
    if (l.includes('"kind":"drops"')) {
      const e = JSON.parse(l) as { stage?: string; dropped?: number };
      const st = e.stage ?? 'unknown';
      ev.dropRecords[st] = (ev.dropRecords[st] ?? 0) + (e.dropped ?? 0);
      return;
    }
    if (!ports.some((p) => l.includes(p))) return;
    ev.loadLines++;
    const counted = l.includes('"kind":"connect",') || l.includes('"kind":"accept",') || l.includes('"kind":"close",');
    if (!counted && !l.includes('"backend"')) return;
    const e = JSON.parse(l) as {
      kind: string; lport?: number; rport?: number; error?: string | null; sock?: string; backend?: string;
    };
    if (e.backend) ev.backends[e.backend] = (ev.backends[e.backend] ?? 0) + 1;
    if (!counted) return;
    if (e.kind === 'connect') {
      if (e.error === null && e.rport === SERVER_PORT) ev.connectsOk++;
      else if (e.error === 'ECONNREFUSED' && e.rport === REFUSED_PORT) ev.refused++;
    } else if (e.kind === 'accept') {
      if (!e.error && e.lport === SERVER_PORT) ev.accepts++;
    } else {
      const client = e.rport === SERVER_PORT || e.rport === REFUSED_PORT;
      const server = e.lport === SERVER_PORT && !!e.rport;
      if (!client && !server) return;
      const key = `${e.sock}|${e.lport}|${e.rport}`;
      if (closed.has(key)) {
        ev.duplicateCloses++;
        return;
      }
      closed.add(key);
      if (client) ev.clientCloses++;
      else ev.serverCloses++;
    }
  };
  return new Promise((resolve, reject) => {
    let rest = '';
    input.setEncoding('utf8');
    input.on('data', (chunk: string) => {
      const parts = (rest + chunk).split('\n');
      rest = parts.pop() ?? '';
      for (const l of parts) line(l);
    });
    input.on('end', () => {
      line(rest);
      resolve(ev);
    });
    input.on('error', reject);
  });
}

/** Drops per stage from a "drops: kernel_miss A, bpf_ring B, ..." text. */
export function parseDrops(text: string): Record<string, number> | null {
  const m = /drops: ([a-z_]+ \d+(?:, [a-z_]+ \d+)*)/.exec(text);
  if (!m) return null;
  const out: Record<string, number> = {};
  for (const [, st, n] of m[1].matchAll(/([a-z_]+) (\d+)/g)) out[st] = Number(n);
  return out;
}
