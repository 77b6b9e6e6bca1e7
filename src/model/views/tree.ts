/**
 * tree.ts: the tree view: processes under their parents (htop's F5), siblings in the sort order
 * the user chose, so a forking server and its children, or a script and the tools it runs, read
 * as one family. A parent the model does not hold (a shell or a supervisor that never touched a
 * socket) of two or more processes shown is drawn as a placeholder row (no figures of its own) so
 * its children still read as one family; a process with an unknown parent is a root. A filter keeps the matching processes and their
 * ancestors (the family stays readable); a folded process hides its descendants.
 */
import { ProcessRow } from '../processes';
import { RowFilter, rowMatches } from '../filter';
import { sortRows, SortKey } from '../query';

export interface TreeRow {
  row: ProcessRow;
  depth: number;
  /** The branch drawing before the name: "│  ├─ ". */
  prefix: string;
  /** Direct children held (shown or folded). */
  children: number;
  /** Descendants hidden by folding this row. */
  hidden: number;
  folded: boolean;
  /** A parent the model does not hold, drawn to group its children. */
  placeholder: boolean;
}

export interface TreeQuery {
  filter: RowFilter;
  sortKey: SortKey;
  descending: boolean;
  nowNs: number;
  /** Pids folded by the user (-). */
  folded: ReadonlySet<number>;
  /** Exited processes older than this are left out (folded into their command). */
  foldExitedSec: number;
  userName(uid: number): string;
  /** The name of a parent the model does not hold (live: /proc; replay: the recording). */
  nameOf?(pid: number): string | undefined;
}

const NO_FILTER_ACTIVE = (f: RowFilter) => f.pids === null && f.comm === null && f.follow === null;

export function treeRows(rows: Iterable<ProcessRow>, q: TreeQuery): TreeRow[] {
  const foldBefore = q.nowNs - q.foldExitedSec * 1e9;
  const byPid = new Map<number, ProcessRow>();
  for (const row of rows) {
    if (row.exited && row.exitNs < foldBefore) continue;
    byPid.set(row.pid, row);
  }
  const keep = NO_FILTER_ACTIVE(q.filter) ? null : keptWithAncestors(byPid, q.filter);
  const children = new Map<number, ProcessRow[]>();
  const roots: ProcessRow[] = [];
  const placeholders = new Set<ProcessRow>();
  addPlaceholders(byPid, keep, placeholders, q);
  for (const row of byPid.values()) {
    if (keep && !keep.has(row.pid)) continue;
    const parent = row.ppid >= 0 && row.ppid !== row.pid ? byPid.get(row.ppid) : undefined;
    if (parent === undefined || (keep && !keep.has(parent.pid))) {
      roots.push(row);
      continue;
    }
    const list = children.get(parent.pid);
    if (list) list.push(row);
    else children.set(parent.pid, [row]);
  }
  const out: TreeRow[] = [];
  const sort = (list: ProcessRow[]) => sortRows(list, q.sortKey, q.descending, q.nowNs, q.userName);
  const seen = new Set<number>();
  const visit = (row: ProcessRow, depth: number, lead: string, last: boolean): void => {
    if (seen.has(row.pid)) return;
    seen.add(row.pid);
    const kids = children.get(row.pid);
    const folded = q.folded.has(row.pid) && kids !== undefined;
    const prefix = depth === 0 ? '' : `${lead}${last ? '└─ ' : '├─ '}`;
    const t: TreeRow = { row, depth, prefix, children: kids ? kids.length : 0, hidden: 0, folded, placeholder: placeholders.has(row) };
    out.push(t);
    if (!kids) return;
    if (folded) {
      t.hidden = hideDescendants(row.pid, children, seen);
      return;
    }
    const next = depth === 0 ? '' : `${lead}${last ? '   ' : '│  '}`;
    sort(kids);
    for (let i = 0; i < kids.length; i++) visit(kids[i], depth + 1, next, i === kids.length - 1);
  };
  sort(roots);
  for (const r of roots) visit(r, 0, '', true);
  // Parents in a cycle (pid reuse can make one) have no root above them: shown as roots.
  if (seen.size < byPid.size) {
    for (const row of byPid.values()) if (!seen.has(row.pid) && (!keep || keep.has(row.pid))) visit(row, 0, '', true);
  }
  return out;
}

/**
 * Placeholder rows for parents not held that have two or more children shown, added to `byPid`
 * (and to `keep`): a few per frame, each a bare row with a name and no figures.
 */
function addPlaceholders(byPid: Map<number, ProcessRow>, keep: Set<number> | null, out: Set<ProcessRow>, q: TreeQuery): void {
  const orphans = new Map<number, number>();
  for (const row of byPid.values()) {
    if (keep && !keep.has(row.pid)) continue;
    if (row.ppid > 0 && row.ppid !== row.pid && !byPid.has(row.ppid)) orphans.set(row.ppid, (orphans.get(row.ppid) ?? 0) + 1);
  }
  for (const [ppid, n] of orphans) {
    if (n < 2) continue;
    const ghost = new ProcessRow(ppid, 1);
    ghost.comm = q.nameOf?.(ppid) ?? '?';

    byPid.set(ppid, ghost);
    keep?.add(ppid);
    out.add(ghost);
  }
}

/** Pids that match the filter, and every ancestor of one. */
function keptWithAncestors(byPid: Map<number, ProcessRow>, f: RowFilter): Set<number> {
  const keep = new Set<number>();
  for (const row of byPid.values()) {
    if (!rowMatches(f, row.pid, row.comm, row)) continue;
    let r: ProcessRow | undefined = row;
    // A cycle (pid reuse can make one) ends at the first pid kept already.
    while (r && !keep.has(r.pid)) {
      keep.add(r.pid);
      r = r.ppid >= 0 ? byPid.get(r.ppid) : undefined;
    }
  }
  return keep;
}

/** Mark a folded row's descendants as placed (hidden); returns how many. */
function hideDescendants(pid: number, children: Map<number, ProcessRow[]>, seen: Set<number>): number {
  let n = 0;
  const stack = [pid];
  while (stack.length) {
    for (const c of children.get(stack.pop()!) ?? []) {
      if (seen.has(c.pid)) continue;
      seen.add(c.pid);
      n++;
      stack.push(c.pid);
    }
  }
  return n;
}
