/**
 * index.ts: one entry to every view's rows: queryView(model, query) gives the rows of the view
 * the query names, filtered and sorted, and the key each row is selected by. The TUI and batch
 * mode both call it, so a view prints in batch exactly as the TUI shows it.
 */
import type { SocketModel } from '../model';
import type { ProcessRow } from '../processes';
import type { SocketEntry } from '../sockets';
import type { RowFilter } from '../filter';
import { filterSort, isSortKey, SortKey } from '../query';
import { CommandGroup, CommandGrouping, commandRows } from './commands';
import { connectionRows, Drill } from './connections';
import { ListenerRow, listenerRows } from './listeners';
import { RemoteRow, remoteRows } from './remotes';
import { TreeRow, treeRows } from './tree';
import { ViewName, VIEWS } from './registry';

export type { Drill } from './connections';
export type { CommandGrouping } from './commands';
export { HOST_GROUP, nextGrouping } from './commands';

export interface ViewQuery {
  view: ViewName;
  filter: RowFilter;
  sortKey: string;
  descending: boolean;
  /** Exited processes older than this fold into their command (processes and tree views). */
  foldExitedSec: number;
  /** Commands view: by command or by user. */
  groupBy: CommandGrouping;
  /** Tree view: folded pids. */
  folded: ReadonlySet<number>;
  /** Connections view: one remote endpoint or one local port. */
  drill: Drill | null;
  /** Tree view: the name of a parent the model does not hold. */
  nameOf?(pid: number): string | undefined;
  /** Rows that must be in order (connections: the screen's and a page more); default all. */
  limit?: number;
  /** Processes view while paused: frozen copies of the rows instead of the live ones. */
  frozen?: readonly ProcessRow[] | null;
}

export type ViewRows =
  | { view: 'processes'; rows: ProcessRow[] }
  | { view: 'commands'; rows: CommandGroup[] }
  | { view: 'tree'; rows: TreeRow[] }
  | { view: 'connections'; rows: SocketEntry[] }
  | { view: 'remotes'; rows: RemoteRow[] }
  | { view: 'listeners'; rows: ListenerRow[] };

export type ViewResult = ViewRows & {
  /** Exited processes folded out of the processes and tree views (held, or aged out). */
  foldedExited: number;
};

export const DEFAULT_FOLD_EXITED_SEC = 5;

/** The sort key to use in `view`: the asked one if the view has it, else the view's default. */
export function sortKeyFor(view: ViewName, key: string): string {
  return VIEWS[view].sortKeys.includes(key) ? key : VIEWS[view].defaultSort;
}

export function queryView(model: SocketModel, q: ViewQuery): ViewResult {
  const nowNs = model.now;
  const userName = (uid: number) => model.userName(uid);
  const sortKey = sortKeyFor(q.view, q.sortKey);
  const windowSec = model.options.rateWindowSec;
  const base = { filter: q.filter, sortKey, descending: q.descending, nowNs };
  const folded = foldedCount(model, q);
  switch (q.view) {
    case 'commands':
      return { view: 'commands', foldedExited: folded, rows: commandRows(model.rows(), model.retiredCommands(), { ...base, by: q.groupBy, foldExitedSec: q.foldExitedSec, userName }) };
    case 'tree':
      return { view: 'tree', foldedExited: folded, rows: treeRows(model.rows(), { ...base, sortKey: processKey(sortKey), folded: q.folded, foldExitedSec: q.foldExitedSec, userName, nameOf: q.nameOf }) };
    case 'connections':
      return { view: 'connections', foldedExited: folded, rows: connectionRows(model, { ...base, drill: q.drill, limit: q.limit }) };
    case 'remotes':
      return { view: 'remotes', foldedExited: folded, rows: remoteRows(model, { ...base, windowSec }) };
    case 'listeners':
      return { view: 'listeners', foldedExited: folded, rows: listenerRows(model, { ...base, windowSec }) };
    default: {
      const key = processKey(sortKey);
      const all = q.frozen ? filterSort(q.frozen, q.filter, key, q.descending, nowNs, userName) : model.query(q.filter, key, q.descending);
      const foldBefore = nowNs - q.foldExitedSec * 1e9;
      const rows = all.filter((r) => !r.exited || r.exitNs >= foldBefore);
      return { view: 'processes', foldedExited: folded, rows };
    }
  }
}

function processKey(key: string): SortKey {
  return isSortKey(key) ? key : 'conn';
}

/** Exited processes past the fold time that the model still holds, plus those it let go. */
export function foldedCount(model: SocketModel, q: Pick<ViewQuery, 'foldExitedSec'>): number {
  const foldBefore = model.now - q.foldExitedSec * 1e9;
  let n = 0;
  for (const r of model.rows()) if (r.exited && r.exitNs < foldBefore) n++;
  for (const t of model.retiredCommands().values()) n += t.processes;
  return n;
}

/** The key a row is selected by (a pid, a socket id, a command name, an address, a port). */
export function rowKeys(r: ViewRows): (number | string)[] {
  switch (r.view) {
    case 'processes': return r.rows.map((x) => x.pid);
    case 'tree': return r.rows.map((x) => x.row.pid);
    case 'commands': return r.rows.map((x) => x.key);
    case 'connections': return r.rows.map((x) => x.key);
    case 'remotes': return r.rows.map((x) => String(x.stats.key));
    case 'listeners': return r.rows.map((x) => x.stats.port);
  }
}
