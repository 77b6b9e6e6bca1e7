/**
 * registry.ts: the views' names, their keys, their sort keys (the default first) and which sort
 * keys read best smallest-first. The TUI, batch mode (`-b --view NAME`) and the help all read
 * this one list.
 */
import { SORT_KEYS as PROCESS_SORT_KEYS } from '../query';

export const VIEW_NAMES = ['processes', 'commands', 'tree', 'connections', 'remotes', 'listeners'] as const;
export type ViewName = (typeof VIEW_NAMES)[number];

export interface ViewInfo {
  name: ViewName;
  /** The key that shows it in the TUI. */
  key: string;
  /** Short title for the tab bar. */
  title: string;
  /** What a row is, for the help and the README. */
  describe: string;
  sortKeys: readonly string[];
  defaultSort: string;
  /** Sort keys that read best smallest-first (names, addresses, ages). */
  ascending: readonly string[];
}

export const VIEWS: Record<ViewName, ViewInfo> = {
  processes: {
    name: 'processes', key: '1', title: 'processes', describe: 'one row per process',
    sortKeys: PROCESS_SORT_KEYS, defaultSort: 'conn', ascending: ['pid', 'user', 'comm', 'age'],
  },
  commands: {
    name: 'commands', key: '2', title: 'commands', describe: 'processes grouped by command (u: by user, by container)',
    sortKeys: ['conns', 'comm', 'user', 'procs', 'live', 'exited', 'open', 'conn', 'acc', 'close', 'failed', 'err', 'tx', 'rx', 'p50', 'p99', 'age'],
    defaultSort: 'conns', ascending: ['comm', 'user', 'age'],
  },
  tree: {
    name: 'tree', key: '3', title: 'tree', describe: 'processes under their parents (+/- fold)',
    sortKeys: PROCESS_SORT_KEYS, defaultSort: 'pid', ascending: ['pid', 'user', 'comm', 'age'],
  },
  connections: {
    name: 'connections', key: '4', title: 'connections', describe: 'one row per socket, recently closed ones dimmed',
    sortKeys: ['state', 'age', 'pid', 'comm', 'proto', 'local', 'remote', 'tx', 'rx', 'retx', 'rtt'],
    defaultSort: 'state', ascending: ['age', 'pid', 'comm', 'proto', 'local', 'remote', 'state'],
  },
  remotes: {
    name: 'remotes', key: '5', title: 'remotes', describe: 'remote endpoints this host connects to',
    sortKeys: ['conns', 'remote', 'port', 'open', 'failed', 'conn', 'tx', 'rx', 'p50', 'p99', 'procs', 'age'],
    defaultSort: 'conns', ascending: ['remote', 'port', 'age'],
  },
  listeners: {
    name: 'listeners', key: '6', title: 'listening', describe: 'listening ports, their accepts and clients',
    sortKeys: ['port', 'pid', 'comm', 'acc', 'accepts', 'open', 'clients', 'age'],
    defaultSort: 'port', ascending: ['port', 'pid', 'comm', 'age'],
  },
};

/** Other names a user may type after --view. */
const ALIASES: Record<string, ViewName> = {
  procs: 'processes', process: 'processes', p: 'processes',
  command: 'commands', cmds: 'commands', comm: 'commands',
  conns: 'connections', connection: 'connections', sockets: 'connections', socks: 'connections',
  remote: 'remotes', endpoints: 'remotes', peers: 'remotes',
  listen: 'listeners', listening: 'listeners', ports: 'listeners',
};

export function viewByName(text: string): ViewName | undefined {
  const t = text.trim().toLowerCase();
  if ((VIEW_NAMES as readonly string[]).includes(t)) return t as ViewName;
  return ALIASES[t];
}

export function viewByKey(key: string): ViewName | undefined {
  return VIEW_NAMES.find((v) => VIEWS[v].key === key);
}

/** The view after (step 1) or before (step -1) `v`, wrapping around. */
export function nextView(v: ViewName, step: number): ViewName {
  const i = VIEW_NAMES.indexOf(v);
  return VIEW_NAMES[(i + step + VIEW_NAMES.length) % VIEW_NAMES.length];
}
