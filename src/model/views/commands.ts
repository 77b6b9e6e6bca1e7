/**
 * commands.ts: the commands view: processes grouped by command name (or by user), live and
 * exited, with their summed counts and rates, plus the totals of processes the model no longer
 * holds (retired.ts): 51 short-lived curls are one row that says 51 processes.
 */
import type { ProcessRow } from '../processes';
import { addTotals, type RetiredCommands, type Totals } from '../retired';
import { RowFilter, rowMatches, commMatches } from '../filter';
import { LatencyHistogram } from '../latency';
import { SortSpec, sortBySpec } from './sort';

export type CommandGrouping = 'command' | 'user' | 'container';
/** The grouping after `g` (the u key): command -> user -> container -> command. */
export function nextGrouping(g: CommandGrouping): CommandGrouping {
  return g === 'command' ? 'user' : g === 'user' ? 'container' : 'command';
}
/** The group of processes in no container (the host's cgroups: services, sessions, the root). */
export const HOST_GROUP = '(host)';

/** Scratch for the percentiles. */
const Q = new Float64Array(2);

/**
 * Histograms reused from frame to frame (a typed array per group per frame cost more than the
 * merging): only the percentiles computed from them are read once a frame is built.
 */
const histograms: LatencyHistogram[] = [];
let histogramsUsed = 0;

function histogram(): LatencyHistogram {
  let h = histograms[histogramsUsed];
  if (h === undefined) {
    h = new LatencyHistogram();
    histograms.push(h);
  } else h.reset();
  histogramsUsed++;
  return h;
}

export class CommandGroup implements Totals {
  processes = 0;
  live = 0;
  exited = 0;
  /** Exited processes the processes view folded into this row. */
  folded = 0;
  open = 0;
  listening = 0;
  accepts = 0;
  connectsOk = 0;
  connectsFailed = 0;
  closes = 0;
  errors = 0;
  retransmits = 0;
  bytesSent = 0;
  bytesReceived = 0;
  connRate = 0;
  accRate = 0;
  closeRate = 0;
  errRate = 0;
  txRate = 0;
  rxRate = 0;
  p50Ns = NaN;
  p99Ns = NaN;
  lastNs = 0;
  /** The users of its processes (-1 once there are several). */
  uid: number;
  /** Pids of its processes held by the model, when grouped by user (Enter shows them). */
  readonly pids: number[] = [];
  /** Connect latency of all its processes (made when one has any). */
  latency: LatencyHistogram | null = null;

  /** key: the command name, or the uid as text when grouped by user. */
  constructor(readonly key: string, readonly comm: string, uid: number, readonly order: number, private readonly keepPids: boolean) {
    this.uid = uid;
  }

  mergeLatency(h: LatencyHistogram): void {
    if (h.count === 0) return;
    if (!this.latency) this.latency = histogram();
    this.latency.merge(h);
  }

  get connects(): number {
    return this.connectsOk + this.connectsFailed;
  }

  addRow(row: ProcessRow, foldBeforeNs: number): void {
    this.processes++;
    if (row.exited) {
      this.exited++;
      if (row.exitNs < foldBeforeNs) this.folded++;
    } else this.live++;
    if (this.keepPids) this.pids.push(row.pid);
    this.open += Math.max(0, row.open);
    this.listening += row.listen ? row.listen.size : 0;
    addTotals(this, row);
    this.connRate += row.connRate;
    this.accRate += row.accRate;
    this.closeRate += row.closeRate;
    this.errRate += row.errRate;
    this.txRate += row.txRate;
    this.rxRate += row.rxRate;
    if (row.latency) this.mergeLatency(row.latency);
    if (this.uid !== row.uid) this.uid = -1;
  }

  finish(): void {
    if (!this.latency) return;
    this.latency.quantilesNs(0.5, 0.99, Q);
    this.p50Ns = Q[0];
    this.p99Ns = Q[1];
  }
}

export interface CommandQuery {
  filter: RowFilter;
  by: CommandGrouping;
  sortKey: string;
  descending: boolean;
  nowNs: number;
  /** Exited processes older than this fold (counted in `folded`). */
  foldExitedSec: number;
  userName(uid: number): string;
}

/** The container a row's process runs in, as the CONTAINER column names it; HOST_GROUP if none. */
function containerOf(row: ProcessRow): string {
  return row.place?.containerId ? (row.containerName ?? row.place.name) : HOST_GROUP;
}

function group(
  groups: Map<string, CommandGroup>, by: CommandGrouping, comm: string, uid: number, userName: (uid: number) => string,
  container = HOST_GROUP,
): CommandGroup {
  const key = by === 'user' ? `${uid}` : by === 'container' ? container : comm;
  let g = groups.get(key);
  if (g === undefined) {
    g = new CommandGroup(key, by === 'user' ? userName(uid) : key, uid, groups.size, by !== 'command');
    groups.set(key, g);
  }
  return g;
}

export const COMMAND_SORT: SortSpec<CommandGroup> = {
  numbers: {
    conns: (g) => g.connects, procs: (g) => g.processes, live: (g) => g.live, exited: (g) => g.exited,
    open: (g) => g.open, conn: (g) => g.connRate, acc: (g) => g.accRate, close: (g) => g.closeRate,
    failed: (g) => g.connectsFailed, err: (g) => g.errors, tx: (g) => g.txRate, rx: (g) => g.rxRate,
    p50: (g) => g.p50Ns, p99: (g) => g.p99Ns, age: (g) => -g.lastNs,
  },
  texts: { comm: (g) => g.comm, user: (g) => String(g.uid) },
  tie: (g) => g.order,
};

/** The groups of `rows` (and of retired processes, when no pid filter narrows the view). */
export function commandRows(rows: Iterable<ProcessRow>, retired: RetiredCommands | null, q: CommandQuery): CommandGroup[] {
  const groups = new Map<string, CommandGroup>();
  histogramsUsed = 0;
  const foldBefore = q.nowNs - q.foldExitedSec * 1e9;
  for (const row of rows) {
    if (!rowMatches(q.filter, row.pid, row.comm, row)) continue;
    group(groups, q.by, row.comm, row.uid, q.userName, containerOf(row)).addRow(row, foldBefore);
  }
  // Retired totals know command and user, not the container: by container, only held processes.
  if (retired && q.by !== 'container' && q.filter.pids === null && q.filter.follow === null) {
    for (const t of retired.values()) {
      if (!commMatches(q.filter.comm, t.comm)) continue;
      const g = group(groups, q.by, t.comm, t.uid, q.userName);
      g.processes += t.processes;
      g.exited += t.processes;
      g.folded += t.processes;
      addTotals(g, t);
      g.mergeLatency(t.latency);
      if (g.uid !== t.uid) g.uid = -1;
    }
  }
  const out = [...groups.values()];
  for (const g of out) g.finish();
  // The pooled histograms go back for the next call: no group keeps one past its percentiles.
  for (const g of out) g.latency = null;
  return sortBySpec(out, COMMAND_SORT, q.sortKey, q.descending);
}
