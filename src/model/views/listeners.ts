/**
 * listeners.ts: the listening ports view: each port a process listens on (or listened on and
 * accepted from), with its process, accepts (total and per second), connections open now and its
 * clients by remote address. Accepts are counted at ingest (endpoints.ts); a frame counts the open
 * accepted sockets in one pass.
 */
import type { SocketModel } from '../model';
import type { ListenerStats } from '../endpoints';
import { EndpointSeries } from '../endpoints';
import { RowFilter, rowMatches } from '../filter';
import { SortSpec, sortBySpec } from './sort';

export interface ListenerRow {
  stats: ListenerStats;
  /** A process listens on the port now. */
  listening: boolean;
  pid: number;
  comm: string;
  uid: number;
  accRate: number;
  open: number;
}

export interface ListenerQuery {
  filter: RowFilter;
  sortKey: string;
  descending: boolean;
  nowNs: number;
  windowSec: number;
}

export const LISTENER_SORT: SortSpec<ListenerRow> = {
  numbers: {
    port: (r) => r.stats.port, pid: (r) => r.pid, acc: (r) => r.accRate, accepts: (r) => r.stats.accepts,
    open: (r) => r.open, clients: (r) => r.stats.clients.size + r.stats.otherClients, age: (r) => -r.stats.lastNs,
  },
  texts: { comm: (r) => r.comm },
  tie: (r) => r.stats.port,
};

/** Clients by remote address, most connections first: "127.0.0.1 x12, 10.0.0.2 x3". */
export function topClients(l: ListenerStats, max: number): [string, number][] {
  return [...l.clients].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1)).slice(0, max);
}

export function listenerRows(model: SocketModel, q: ListenerQuery): ListenerRow[] {
  const rows: ListenerRow[] = [];
  // Open accepted connections per port: counted on the entries themselves (no lookup per socket).
  for (const stats of model.listeners()) stats.open = 0;
  model.eachSocket((s) => {
    if (s.open && s.listenerStats !== null) s.listenerStats.open++;
  });
  for (const stats of model.listeners()) {
    const owner = model.listenerOf(stats.port);
    const pid = owner ? owner.pid : stats.pid;
    const comm = owner ? owner.comm : stats.comm;
    if (!rowMatches(q.filter, pid, comm, owner ?? model.process(pid))) continue;
    const row: ListenerRow = {
      stats, listening: owner !== undefined, pid, comm, uid: owner ? owner.uid : stats.uid, open: stats.open,
      accRate: stats.rates.rate(EndpointSeries.Events, q.nowNs, q.windowSec),
    };
    rows.push(row);
  }
  return sortBySpec(rows, LISTENER_SORT, q.sortKey, q.descending);
}
