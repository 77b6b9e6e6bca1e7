/**
 * connections.ts: the connections view: one row per socket the model holds, like `ss -tanp` but
 * with history: open sockets and those closed in the last seconds (the model keeps them
 * closedSocketTtlSec; the view dims them). Rows are the model's own SocketEntry objects: a frame
 * allocates the row array and the sort's keys, nothing per socket. The peer (the local process
 * on the other end of a loopback connection) is looked up only for the rows on screen.
 */
import type { SocketModel } from '../model';
import type { SocketEntry } from '../sockets';
import { RowFilter, rowMatches } from '../filter';
import { SortSpec, sortBySpec } from './sort';

/** Narrows the connections view to one remote endpoint or one local port (Enter on a remote or a listener). */
export interface Drill {
  kind: 'remote' | 'lport';
  /** Remote address text (remote) as SocketEntry.remote() gives it without the port. */
  address?: string;
  port: number;
  /** For the header: "remote 10.0.0.1:443", "port 8080". */
  label: string;
}

export interface ConnectionQuery {
  filter: RowFilter;
  drill: Drill | null;
  sortKey: string;
  descending: boolean;
  nowNs: number;
  /** Rows that must be in order (the screen's, and a page more); the rest may follow unsorted. */
  limit?: number;
}

const TWO16 = 65536;

export function connectionSort(model: SocketModel, nowNs: number): SortSpec<SocketEntry> {
  const comm = (s: SocketEntry) => (s.owner ?? model.process(s.pid))?.comm ?? '';
  return {
    numbers: {
      age: (s) => nowNs - s.createdNs, pid: (s) => s.pid, proto: (s) => s.proto * 16 + s.family,
      local: (s) => s.lport * 4294967296 + s.la0, remote: (s) => s.ra0 * TWO16 + s.rport,
      // Open sockets by TCP state (ESTABLISHED first, LISTEN after the handshakes and closings),
      // then the closed ones; the newest first within each.
      state: (s) => (s.open ? s.state || 50 : 100) * 1e12 + Math.floor((nowNs - s.createdNs) / 1e6), tx: (s) => s.sent, rx: (s) => s.received,
      retx: (s) => s.retransmits, rtt: (s) => s.connectNs,
    },
    texts: { comm },
    tie: (s) => s.key,
  };
}

function drillMatches(d: Drill, s: SocketEntry): boolean {
  if (d.kind === 'lport') return s.lport === d.port && s.rport !== 0;
  return s.rport === d.port && s.remoteAddress() === d.address;
}

export function connectionRows(model: SocketModel, q: ConnectionQuery): SocketEntry[] {
  const out: SocketEntry[] = [];
  const f = q.filter;
  const filtering = f.pids !== null || f.comm !== null || f.follow !== null || !!f.container || !!f.netns;
  const d = q.drill;
  model.eachSocket((s) => {
    if (filtering) {
      const owner = s.owner ?? model.process(s.pid);
      if (!rowMatches(f, s.pid, owner?.comm ?? '', owner)) return;
    }
    if (d && !drillMatches(d, s)) return;
    out.push(s);
  });
  return sortBySpec(out, connectionSort(model, q.nowNs), q.sortKey, q.descending, q.limit);
}

/**
 * The socket at the other end of `s` when both ends are on this host (loopback, or two local
 * addresses): for the rows on screen only, one pass over the sockets for all of them.
 */
export function peersOf(model: SocketModel, shown: readonly SocketEntry[]): Map<SocketEntry, SocketEntry> {
  const wanted = new Map<number, SocketEntry[]>();
  for (const s of shown) {
    if (s.rport === 0 || s.lport === 0) continue;
    const k = s.rport * TWO16 + s.lport; // the peer's lport, rport
    const list = wanted.get(k);
    if (list) list.push(s);
    else wanted.set(k, [s]);
  }
  const peers = new Map<SocketEntry, SocketEntry>();
  if (wanted.size === 0) return peers;
  // A bitmap of the local ports wanted: most sockets are passed over with one array read.
  const ports = new Uint8Array(TWO16);
  for (const s of shown) ports[s.rport] = 1;
  model.eachSocket((p) => {
    if (ports[p.lport] === 0) return;
    const list = wanted.get(p.lport * TWO16 + p.rport);
    if (!list) return;
    for (const s of list) {
      if (p === s || p.family !== s.family) continue;
      if (p.la0 !== s.ra0 || p.la1 !== s.ra1 || p.la2 !== s.ra2 || p.la3 !== s.ra3) continue;
      if (p.ra0 !== s.la0 || p.ra1 !== s.la1 || p.ra2 !== s.la2 || p.ra3 !== s.la3) continue;
      // An open peer wins over a closed one that had the same ports before.
      const had = peers.get(s);
      if (!had || (!had.open && p.open)) peers.set(s, p);
    }
  });
  return peers;
}
