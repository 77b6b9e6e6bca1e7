/**
 * drill.ts: what Enter does on a row of each view: a process (processes, tree) or a socket's
 * owner (connections) opens the process detail; a command shows its processes; a remote endpoint
 * or a listening port shows its connections.
 */
import { HOST_GROUP, type ViewResult } from '../model/views';
import type { UiState } from './state';

export function drillInto(shown: ViewResult, state: UiState): void {
  const i = state.selectedIndex;
  switch (shown.view) {
    case 'processes': state.openDetail(shown.rows[i]?.pid ?? null); return;
    case 'tree': state.openDetail(shown.rows[i]?.row.pid ?? null); return;
    case 'connections': state.openDetail(shown.rows[i]?.pid ?? null); return;
    case 'commands': {
      const g = shown.rows[i];
      if (!g) return;
      state.showView('processes');
      if (state.groupBy === 'command') state.filter = { ...state.filter, comm: g.comm };
      else if (state.groupBy === 'container') state.filter = { ...state.filter, pids: null, container: g.key === HOST_GROUP ? null : g.key };
      else state.filter = { ...state.filter, pids: null };
      return;
    }
    case 'remotes': {
      const r = shown.rows[i];
      if (!r) return;
      const ep = r.stats.family === 10 ? `[${r.stats.address}]:${r.stats.port}` : `${r.stats.address}:${r.stats.port}`;
      state.showView('connections', { kind: 'remote', address: r.stats.address, port: r.stats.port, label: `remote ${ep}` });
      return;
    }
    case 'listeners': {
      const l = shown.rows[i];
      if (!l) return;
      state.showView('connections', { kind: 'lport', port: l.stats.port, label: `local port ${l.stats.port}` });
    }
  }
}
