/**
 * columns.ts: the process table's columns (title, width, what they show, which sort key) and the
 * choice of columns that fit a given width. Pure (no blessed): the TUI table and batch mode both
 * build their lines here, so they always agree. Names (COMM, USER) are shown through showText()
 * (controls as visible escapes) and cells are fitted by display width (wide characters).
 */
import { ProcessRow } from '../model/processes';
import type { SocketEntry } from '../model/sockets';
import { SortKey } from '../model/query';
import { fit, fmtAge, fmtBytes, fmtLatency, fmtPorts, fmtQueue, fmtRate } from './format';
import { showText } from '../model/text';

export interface CellContext {
  nowNs: number;
  userName(uid: number): string;
  /** The process row of a pid (connections: owners and peers). */
  processOf?(pid: number): ProcessRow | undefined;
  /** Connections: the local socket at the other end of each row on screen. */
  peers?: Map<SocketEntry, SocketEntry>;
}

/** A column of any view's table: `R` is the view's row type. */
export interface Column<R = ProcessRow> {
  id: string;
  title: string;
  /** Minimum width; flexible columns share what is left. */
  width: number;
  flex?: boolean;
  /** A flexible column grows up to this (default: COMM to the view's name width, the others without bound). */
  max?: number;
  align: 'left' | 'right';
  /** 1 = always shown; narrower terminals drop the higher numbers first. */
  priority: number;
  /** The sort key this column sorts by (s < > and the arrow in the header). */
  sort?: string;
  text(row: R, ctx: CellContext, width: number): string;
}

export const COLUMNS: readonly Column<ProcessRow>[] = [
  { id: 'pid', title: 'PID', width: 7, align: 'right', priority: 1, sort: 'pid', text: (r) => String(r.pid) },
  { id: 's', title: 'S', width: 1, align: 'left', priority: 2, text: (r) => (r.exited ? 'X' : ' ') },
  { id: 'user', title: 'USER', width: 8, align: 'left', priority: 6, sort: 'user', text: (r, c) => showText(c.userName(r.uid)) },
  { id: 'comm', title: 'COMM', width: 10, flex: true, align: 'left', priority: 1, sort: 'comm', text: (r) => showText(r.comm) },
  { id: 'listen', title: 'LISTEN', width: 9, flex: true, align: 'left', priority: 4, sort: 'listen', text: (r, _c, w) => fmtPorts(r.listenPorts(), w) },
  { id: 'open', title: 'OPEN', width: 5, align: 'right', priority: 3, sort: 'open', text: (r) => String(Math.max(0, r.open)) },
  { id: 'conn', title: 'CONN/s', width: 7, align: 'right', priority: 2, sort: 'conn', text: (r) => fmtRate(r.connRate) },
  { id: 'acc', title: 'ACC/s', width: 6, align: 'right', priority: 2, sort: 'acc', text: (r) => fmtRate(r.accRate) },
  { id: 'close', title: 'CLOSE/s', width: 8, align: 'right', priority: 3, sort: 'close', text: (r) => fmtRate(r.closeRate) },
  { id: 'err', title: 'ERR', width: 5, align: 'right', priority: 3, sort: 'err', text: (r) => String(r.errors) },
  { id: 'fail', title: 'FAIL', width: 5, align: 'right', priority: 3, sort: 'fail', text: (r) => String(r.failTotal) },
  { id: 'queue', title: 'QUEUE', width: 7, align: 'right', priority: 4, sort: 'queue', text: (r) => fmtQueue(r) },
  { id: 'ovfl', title: 'OVFL', width: 5, align: 'right', priority: 5, sort: 'ovfl', text: (r) => (r.listen?.size || r.overflows ? String(r.overflows) : '') },
  { id: 'accp99', title: 'ACCW-p99', width: 8, align: 'right', priority: 7, sort: 'accp99', text: (r) => fmtLatency(r.acceptP99Ns) },
  { id: 'retx', title: 'RETX', width: 5, align: 'right', priority: 6, sort: 'retx', text: (r) => String(r.retransmits) },
  { id: 'tx', title: 'TX/s', width: 6, align: 'right', priority: 4, sort: 'tx', text: (r) => fmtBytes(r.txRate) },
  { id: 'rx', title: 'RX/s', width: 6, align: 'right', priority: 4, sort: 'rx', text: (r) => fmtBytes(r.rxRate) },
  { id: 'p50', title: 'LAT-p50', width: 8, align: 'right', priority: 7, sort: 'p50', text: (r) => fmtLatency(r.p50Ns) },
  { id: 'p99', title: 'LAT-p99', width: 8, align: 'right', priority: 5, sort: 'p99', text: (r) => fmtLatency(r.p99Ns) },
  { id: 'age', title: 'AGE', width: 4, align: 'right', priority: 7, sort: 'age', text: (r, c) => fmtAge(c.nowNs - r.lastNs) },
  // Where the process lives: a container's short id or a systemd unit (empty: the host's root
  // cgroup, or not known yet), its network namespace, its Kubernetes pod's UID. The first to go
  // on a narrow terminal.
  { id: 'container', title: 'CONTAINER', width: 12, align: 'left', priority: 8, text: (r) => showText(r.containerName ?? r.place?.name ?? '') },
  { id: 'netns', title: 'NETNS', width: 10, align: 'right', priority: 9, text: (r) => (r.netns ? String(r.netns) : '') },
  { id: 'pod', title: 'POD', width: 36, align: 'left', priority: 10, text: (r) => r.place?.podUid ?? '' },
];

export interface PlacedColumn<R = ProcessRow> {
  col: Column<R>;
  width: number;
}

/** The columns that fit `total` characters (one space between), in display order. */
export function layoutColumns<R = ProcessRow>(total: number, columns: readonly Column<R>[] = COLUMNS as unknown as Column<R>[], commWidth = 15): PlacedColumn<R>[] {
  const byPriority = [...columns].sort((a, b) => a.priority - b.priority);
  const chosen = new Set<Column<R>>();
  let used = -1;
  for (const col of byPriority) {
    if (used + 1 + col.width > total) continue;
    chosen.add(col);
    used += 1 + col.width;
  }
  const placed = columns.filter((c) => chosen.has(c)).map((col) => ({ col, width: col.width }));
  const flex = placed.filter((p) => p.col.flex);
  // Unbounded (batch to a file or pipe): each flexible column as wide as it may grow (a whole
  // comm, a few ports, a whole address).
  let spare = Number.isFinite(total) ? total - used
    : flex.reduce((n, p) => n + (p.col.id === 'comm' ? commWidth : p.col.max ?? p.width + 12) - p.width, 0);
  // Give spare room to COMM first (up to the 15 characters a comm can have), then the others.
  for (const p of flex) {
    const want = p.col.id === 'comm' ? commWidth - p.width : p.col.max !== undefined ? p.col.max - p.width : spare;
    const add = Math.max(0, Math.min(spare, want));
    p.width += add;
    spare -= add;
  }
  return placed;
}

/** The header line; the sort column's title carries an arrow. */
export function headerLine<R>(placed: readonly PlacedColumn<R>[], sort: string, descending: boolean): string {
  return placed.map(({ col, width }) => {
    const title = col.sort === sort ? `${col.title}${descending ? '↓' : '↑'}` : col.title;
    return fit(title, width, col.align);
  }).join(' ');
}

/** Cells of one row, each padded to its width. */
export function rowCells<R>(row: R, placed: readonly PlacedColumn<R>[], ctx: CellContext): string[] {
  return placed.map(({ col, width }) => fit(col.text(row, ctx, width), width, col.align));
}
