/**
 * remotes.ts: the remote endpoints view: who this host connects to, by remote address and port:
 * connect results (ok, failed by errno), bytes each way, handshake latency p50/p99, open
 * connections now, and which processes. Counted at ingest (endpoints.ts); a frame only evaluates
 * rates and percentiles and counts the open sockets (one pass, no allocation per socket).
 */
import type { SocketModel } from '../model';
import type { RemoteStats } from '../endpoints';
import { EndpointSeries } from '../endpoints';
import { RowFilter, commMatches } from '../filter';
import { SortSpec, sortBySpec } from './sort';

/** A remote endpoint's figures as of the frame. */
export interface RemoteRow {
  stats: RemoteStats;
  /** Connects per second over the model's rate window. */
  connRate: number;
  errRate: number;
  p50Ns: number;
  p99Ns: number;
  open: number;
}

export interface RemoteQuery {
  filter: RowFilter;
  sortKey: string;
  descending: boolean;
  nowNs: number;
  windowSec: number;
}

const Q = new Float64Array(2);

export const REMOTE_SORT: SortSpec<RemoteRow> = {
  numbers: {
    conns: (r) => r.stats.connects, port: (r) => r.stats.port, open: (r) => r.open, failed: (r) => r.stats.failed,
    conn: (r) => r.connRate, tx: (r) => r.stats.bytesSent, rx: (r) => r.stats.bytesReceived,
    p50: (r) => r.p50Ns, p99: (r) => r.p99Ns, procs: (r) => r.stats.pids.size, age: (r) => -r.stats.lastNs,
  },
  texts: { remote: (r) => r.stats.address },
  tie: (r) => r.stats.port,
};

function matches(f: RowFilter, r: RemoteStats): boolean {
  if (f.pids === null && f.comm === null && f.follow === null) return true;
  for (const [pid, comm] of r.comms) {
    if (f.follow !== null && pid !== f.follow) continue;
    if (f.pids && !f.pids.matches(pid)) continue;
    if (commMatches(f.comm, comm)) return true;
  }
  return false;
}

export function remoteRows(model: SocketModel, q: RemoteQuery): RemoteRow[] {
  const rows: RemoteRow[] = [];
  // Open connections per endpoint: counted on the entries themselves (no lookup per socket).
  for (const stats of model.remotes()) stats.open = 0;
  model.eachSocket((s) => {
    if (s.open && s.remoteStats !== null) s.remoteStats.open++;
  });
  for (const stats of model.remotes()) {
    if (!matches(q.filter, stats)) continue;
    stats.latency.quantilesNs(0.5, 0.99, Q);
    const row: RemoteRow = {
      stats, open: stats.open, p50Ns: Q[0], p99Ns: Q[1],
      connRate: stats.rates.rate(EndpointSeries.Events, q.nowNs, q.windowSec),
      errRate: stats.rates.rate(EndpointSeries.Errors, q.nowNs, q.windowSec),
    };
    rows.push(row);
  }
  return sortBySpec(rows, REMOTE_SORT, q.sortKey, q.descending);
}
