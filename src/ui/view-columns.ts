/**
 * view-columns.ts: the columns of every view but the processes one (columns.ts), and how each
 * view's rows look (dimmed, coloured cells). Data only: the TUI table (views/table.ts) and batch
 * mode (cli/run/batch.ts) draw any view from its ViewSpec with the same code.
 */
import type { ProcessRow } from '../model/processes';
import type { SocketEntry } from '../model/sockets';
import type { CommandGroup } from '../model/views/commands';
import type { TreeRow } from '../model/views/tree';
import type { RemoteRow } from '../model/views/remotes';
import { ListenerRow, topClients } from '../model/views/listeners';
import type { ViewName } from '../model/views/registry';
import { errnoName } from '../capture/errno';
import { TcpState } from '../capture/layout';
import { showText } from '../model/text';
import { CellContext, Column, COLUMNS } from './columns';
import { fmtAge, fmtBytes, fmtLatency, fmtRate } from './format';
import type { Color } from './views/theme';

export interface ViewSpec<R> {
  columns: readonly Column<R>[];
  /** Room the COMM-like flexible column takes first when there is room to spare. */
  commWidth: number;
  /** Dimmed: exited processes, closed sockets, ports nobody listens on any more. */
  dim(row: R): boolean;
  /** A cell's colour, if it has one. */
  color?(id: string, row: R): Color | null;
  /** The whole row lights up (a server not keeping up with its accept queue). */
  alarm?(row: R): boolean;
}

const n = (v: number) => String(Math.max(0, v));

// ------------------------------------------------------------------ processes and tree

export const PROCESS_SPEC: ViewSpec<ProcessRow> = {
  columns: COLUMNS,
  commWidth: 15,
  dim: (r) => r.exited,
  color: (id, r) => {
    if ((id === 'err' && r.errors > 0) || (id === 'fail' && r.failTotal > 0)) return 'red';
    if ((id === 'queue' || id === 'ovfl') && r.queueAlarm) return 'red';
    return id === 'listen' && r.listen?.size ? 'cyan' : null;
  },
  alarm: (r) => r.queueAlarm && !r.exited,
};

/** The process columns over tree rows, with a PPID column and the branches before the name. */
const TREE_COLUMNS: Column<TreeRow>[] = COLUMNS.flatMap((c): Column<TreeRow>[] => {
  // A placeholder (a parent not seen using sockets) has a pid and a name, no figures.
  const wrapped: Column<TreeRow> = { ...c, text: (t, ctx, w) => (t.placeholder && c.id !== 'pid' ? '' : c.text(t.row, ctx, w)) };
  if (c.id === 'comm') {
    wrapped.width = 16;
    wrapped.text = (t) => `${t.prefix}${t.folded ? `+${t.hidden} ` : ''}${t.placeholder ? `(${showText(t.row.comm)})` : showText(t.row.comm)}`;
  }
  if (c.id !== 'pid') return [wrapped];
  return [wrapped, { id: 'ppid', title: 'PPID', width: 7, align: 'right', priority: 3, text: (t) => (t.row.ppid >= 0 ? String(t.row.ppid) : '?') }];
});

export const TREE_SPEC: ViewSpec<TreeRow> = {
  columns: TREE_COLUMNS,
  commWidth: 40,
  dim: (t) => t.row.exited || t.placeholder,
  color: (id, t) => (PROCESS_SPEC.color ? PROCESS_SPEC.color(id, t.row) : null),
  alarm: (t) => !t.placeholder && t.row.queueAlarm && !t.row.exited,
};

// ------------------------------------------------------------------ commands

export const COMMAND_SPEC: ViewSpec<CommandGroup> = {
  columns: [
    { id: 'comm', title: 'COMMAND', width: 10, flex: true, align: 'left', priority: 1, sort: 'comm', text: (g) => showText(g.comm) },
    { id: 'user', title: 'USER', width: 8, align: 'left', priority: 6, sort: 'user', text: (g, c) => (g.uid < 0 ? '*' : showText(c.userName(g.uid))) },
    { id: 'procs', title: 'PROCS', width: 5, align: 'right', priority: 1, sort: 'procs', text: (g) => n(g.processes) },
    { id: 'live', title: 'LIVE', width: 5, align: 'right', priority: 2, sort: 'live', text: (g) => n(g.live) },
    { id: 'exited', title: 'EXITED', width: 6, align: 'right', priority: 2, sort: 'exited', text: (g) => n(g.exited) },
    { id: 'open', title: 'OPEN', width: 5, align: 'right', priority: 3, sort: 'open', text: (g) => n(g.open) },
    { id: 'conns', title: 'CONNS', width: 6, align: 'right', priority: 2, sort: 'conns', text: (g) => n(g.connects) },
    { id: 'failed', title: 'FAILED', width: 6, align: 'right', priority: 3, sort: 'failed', text: (g) => n(g.connectsFailed) },
    { id: 'conn', title: 'CONN/s', width: 7, align: 'right', priority: 2, sort: 'conn', text: (g) => fmtRate(g.connRate) },
    { id: 'acc', title: 'ACC/s', width: 6, align: 'right', priority: 3, sort: 'acc', text: (g) => fmtRate(g.accRate) },
    { id: 'close', title: 'CLOSE/s', width: 8, align: 'right', priority: 5, sort: 'close', text: (g) => fmtRate(g.closeRate) },
    { id: 'err', title: 'ERR', width: 5, align: 'right', priority: 3, sort: 'err', text: (g) => n(g.errors) },
    { id: 'tx', title: 'TX/s', width: 6, align: 'right', priority: 4, sort: 'tx', text: (g) => fmtBytes(g.txRate) },
    { id: 'rx', title: 'RX/s', width: 6, align: 'right', priority: 4, sort: 'rx', text: (g) => fmtBytes(g.rxRate) },
    { id: 'txt', title: 'TX', width: 6, align: 'right', priority: 6, text: (g) => fmtBytes(g.bytesSent) },
    { id: 'rxt', title: 'RX', width: 6, align: 'right', priority: 6, text: (g) => fmtBytes(g.bytesReceived) },
    { id: 'p50', title: 'LAT-p50', width: 8, align: 'right', priority: 7, sort: 'p50', text: (g) => fmtLatency(g.p50Ns) },
    { id: 'p99', title: 'LAT-p99', width: 8, align: 'right', priority: 5, sort: 'p99', text: (g) => fmtLatency(g.p99Ns) },
    { id: 'age', title: 'AGE', width: 4, align: 'right', priority: 7, sort: 'age', text: (g, c) => fmtAge(c.nowNs - g.lastNs) },
  ],
  commWidth: 15,
  dim: (g) => g.live === 0,
  color: (id, g) => ((id === 'err' && g.errors > 0) || (id === 'failed' && g.connectsFailed > 0) ? 'red' : null),
};

// ------------------------------------------------------------------ connections

function owner(s: SocketEntry, c: CellContext): string {
  const row = s.owner ?? c.processOf?.(s.pid);
  return row ? `${showText(row.comm)}[${s.pid}]` : String(s.pid);
}

function peer(s: SocketEntry, c: CellContext): string {
  const p = c.peers?.get(s);
  return p ? owner(p, c) : '-';
}

export const CONNECTION_SPEC: ViewSpec<SocketEntry> = {
  columns: [
    { id: 'proto', title: 'PROTO', width: 5, align: 'left', priority: 2, sort: 'proto', text: (s) => (s.proto === 17 ? 'udp' : 'tcp') + (s.family === 10 ? '6' : '') },
    { id: 'local', title: 'LOCAL', width: 21, flex: true, max: 47, align: 'left', priority: 1, sort: 'local', text: (s) => s.local() },
    { id: 'remote', title: 'REMOTE', width: 21, flex: true, max: 47, align: 'left', priority: 1, sort: 'remote', text: (s) => s.remote() },
    { id: 'state', title: 'STATE', width: 11, align: 'left', priority: 1, sort: 'state', text: (s) => (s.open ? s.stateName() : 'CLOSED') },
    { id: 'pid', title: 'PID', width: 7, align: 'right', priority: 2, sort: 'pid', text: (s) => String(s.pid) },
    { id: 'comm', title: 'OWNER', width: 15, align: 'left', priority: 2, sort: 'comm', text: (s, c) => showText((s.owner ?? c.processOf?.(s.pid))?.comm ?? '?') },
    { id: 'peer', title: 'PEER', width: 18, align: 'left', priority: 4, text: peer },
    { id: 'age', title: 'AGE', width: 4, align: 'right', priority: 3, sort: 'age', text: (s, c) => fmtAge((s.open ? c.nowNs : s.closedNs) - s.createdNs) },
    { id: 'tx', title: 'TX', width: 6, align: 'right', priority: 3, sort: 'tx', text: (s) => fmtBytes(s.sent) },
    { id: 'rx', title: 'RX', width: 6, align: 'right', priority: 3, sort: 'rx', text: (s) => fmtBytes(s.received) },
    { id: 'retx', title: 'RETX', width: 4, align: 'right', priority: 5, sort: 'retx', text: (s) => String(s.retransmits) },
    { id: 'rtt', title: 'RTT', width: 6, align: 'right', priority: 5, sort: 'rtt', text: (s) => fmtLatency(s.connectNs) },
  ],
  commWidth: 15,
  dim: (s) => !s.open,
  color: (id, s) => {
    if (id !== 'state' || !s.open) return null;
    if (s.state === TcpState.Listen) return 'cyan';
    if (s.state === TcpState.Established) return 'green';
    return s.state === TcpState.SynSent ? 'yellow' : null;
  },
};

// ------------------------------------------------------------------ remote endpoints

function failures(r: RemoteRow): string {
  if (r.stats.failed === 0) return '-';
  return [...r.stats.errnos].sort((a, b) => b[1] - a[1]).map(([e, k]) => `${errnoName(e)} ${k}`).join(', ');
}

/** "curl x26, wget[311]": a command with several processes by count, a single one by pid. */
function processes(r: RemoteRow): string {
  const byComm = new Map<string, number[]>();
  for (const [pid, comm] of r.stats.comms) {
    const pids = byComm.get(comm);
    if (pids) pids.push(pid);
    else byComm.set(comm, [pid]);
  }
  return [...byComm].sort((a, b) => b[1].length - a[1].length)
    .map(([comm, pids]) => (pids.length === 1 ? `${showText(comm)}[${pids[0]}]` : `${showText(comm)} x${pids.length}`)).join(', ');
}

export const REMOTE_SPEC: ViewSpec<RemoteRow> = {
  columns: [
    { id: 'remote', title: 'REMOTE', width: 15, flex: true, max: 25, align: 'left', priority: 1, sort: 'remote', text: (r) => r.stats.address },
    { id: 'port', title: 'PORT', width: 5, align: 'right', priority: 1, sort: 'port', text: (r) => String(r.stats.port) },
    { id: 'conns', title: 'CONNS', width: 6, align: 'right', priority: 1, sort: 'conns', text: (r) => String(r.stats.connects) },
    { id: 'ok', title: 'OK', width: 6, align: 'right', priority: 2, text: (r) => String(r.stats.ok) },
    { id: 'failed', title: 'FAILED', width: 6, align: 'right', priority: 1, sort: 'failed', text: (r) => String(r.stats.failed) },
    { id: 'open', title: 'OPEN', width: 5, align: 'right', priority: 3, sort: 'open', text: (r) => String(r.open) },
    { id: 'conn', title: 'CONN/s', width: 7, align: 'right', priority: 3, sort: 'conn', text: (r) => fmtRate(r.connRate) },
    { id: 'tx', title: 'TX', width: 6, align: 'right', priority: 4, sort: 'tx', text: (r) => fmtBytes(r.stats.bytesSent) },
    { id: 'rx', title: 'RX', width: 6, align: 'right', priority: 4, sort: 'rx', text: (r) => fmtBytes(r.stats.bytesReceived) },
    { id: 'p50', title: 'LAT-p50', width: 8, align: 'right', priority: 5, sort: 'p50', text: (r) => fmtLatency(r.p50Ns) },
    { id: 'p99', title: 'LAT-p99', width: 8, align: 'right', priority: 4, sort: 'p99', text: (r) => fmtLatency(r.p99Ns) },
    { id: 'why', title: 'FAILURES', width: 12, flex: true, max: 24, align: 'left', priority: 2, text: failures },
    { id: 'procs', title: 'PROCESSES', width: 12, flex: true, max: 80, align: 'left', priority: 3, sort: 'procs', text: processes },
    { id: 'age', title: 'AGE', width: 4, align: 'right', priority: 6, sort: 'age', text: (r, c) => fmtAge(c.nowNs - r.stats.lastNs) },
  ],
  commWidth: 15,
  dim: (r) => r.open === 0 && r.connRate === 0,
  color: (id, r) => ((id === 'failed' || id === 'why') && r.stats.failed > 0 ? 'red' : null),
};

// ------------------------------------------------------------------ listening ports

function clients(r: ListenerRow, width: number): string {
  const top = topClients(r.stats, 4).map(([addr, k]) => `${addr} x${k}`);
  const more = r.stats.clients.size - top.length + (r.stats.otherClients ? 1 : 0);
  const text = top.join(', ') + (more > 0 ? `, +${more}` : '');
  return text.length > width && top.length > 1 ? `${top[0]}, +${r.stats.clients.size - 1 + (r.stats.otherClients ? 1 : 0)}` : text || '-';
}

export const LISTENER_SPEC: ViewSpec<ListenerRow> = {
  columns: [
    { id: 'port', title: 'PORT', width: 5, align: 'right', priority: 1, sort: 'port', text: (r) => String(r.stats.port) },
    { id: 'local', title: 'LOCAL', width: 21, align: 'left', priority: 4, text: (r) => r.stats.local || '-' },
    { id: 'pid', title: 'PID', width: 7, align: 'right', priority: 1, sort: 'pid', text: (r) => String(r.pid) },
    { id: 'comm', title: 'COMM', width: 10, flex: true, align: 'left', priority: 1, sort: 'comm', text: (r) => showText(r.comm) },
    { id: 'user', title: 'USER', width: 8, align: 'left', priority: 6, text: (r, c) => showText(c.userName(r.uid)) },
    { id: 'state', title: 'STATE', width: 6, align: 'left', priority: 3, text: (r) => (r.listening ? 'LISTEN' : 'closed') },
    { id: 'accepts', title: 'ACCEPTS', width: 7, align: 'right', priority: 1, sort: 'accepts', text: (r) => String(r.stats.accepts) },
    { id: 'acc', title: 'ACC/s', width: 6, align: 'right', priority: 2, sort: 'acc', text: (r) => fmtRate(r.accRate) },
    { id: 'open', title: 'OPEN', width: 5, align: 'right', priority: 2, sort: 'open', text: (r) => String(r.open) },
    { id: 'clients', title: 'CLIENTS', width: 12, flex: true, max: 80, align: 'left', priority: 3, sort: 'clients', text: (r, _c, w) => clients(r, w) },
    { id: 'age', title: 'AGE', width: 4, align: 'right', priority: 6, sort: 'age', text: (r, c) => fmtAge(c.nowNs - r.stats.lastNs) },
  ],
  commWidth: 15,
  dim: (r) => !r.listening,
  color: (id, r) => (id === 'state' && r.listening ? 'cyan' : null),
};

export const VIEW_SPECS: Record<ViewName, ViewSpec<unknown>> = {
  processes: PROCESS_SPEC,
  commands: COMMAND_SPEC,
  tree: TREE_SPEC,
  connections: CONNECTION_SPEC,
  remotes: REMOTE_SPEC,
  listeners: LISTENER_SPEC,
};
