/**
 * batch.ts: `socktop -b [-n N] [--view NAME]`, like `top -b`: N plain-text snapshots of a view
 * (the process table by default) on stdout, `-d` seconds apart, no TUI; filters apply. Each
 * snapshot starts with a header line (time, events, drops per stage). formatSnapshot() is pure so tests render synthetic models. Nothing
 * from outside reaches the terminal raw: names go through showText (src/model/text.ts) and the
 * columns are fitted by display width, as in the TUI.
 */
import { formatDrops } from '../../capture/layout';
import { describeFilter, RowFilter } from '../../model/filter';
import { SocketModel } from '../../model/model';
import { headerLine, layoutColumns, rowCells } from '../../ui/columns';
import { readParentPid, readProcComm } from '../../capture/procfs';
import { CommandGrouping, DEFAULT_FOLD_EXITED_SEC, queryView, sortKeyFor } from '../../model/views';
import { peersOf } from '../../model/views/connections';
import { ViewName, VIEWS } from '../../model/views/registry';
import { VIEW_SPECS } from '../../ui/view-columns';
import { fmtRate, fmtUptime } from '../../ui/format';
import { showText } from '../../model/text';
import { dropsPerStage, Pump } from '../../ui/pump';
import type { DataSource, SourceInfo } from '../../source';
import type { CommonOptions } from '../options';
import { stopSignal } from '../shutdown';
import type { AlertStatus } from '../../model/alerts/evaluator';
import { alertTextLine, statusText } from '../../model/alerts/format';
import type { AlertRule } from '../../model/alerts/grammar';
import { alertEvaluator, alertTick, exitStatus } from './alerts';

export interface SnapshotInput {
  model: SocketModel;
  info: SourceInfo;
  drops: readonly number[];
  filter: RowFilter;
  /** A sort key of the view (another falls back to the view's default). */
  sortKey: string;
  descending: boolean;
  /** The view to print (default: processes). */
  view?: ViewName;
  /** Exited processes older than this fold into their command (default 5 s). */
  foldExitedSec?: number;
  /** Commands view: by command (default) or by user. */
  groupBy?: CommandGrouping;
  /** Characters per line; Infinity = every column. */
  width: number;
  wallTime: Date;
  uptimeMs: number;
  /** Tree view: the name of a parent the model does not hold. */
  nameOf?(pid: number): string | undefined;
  /** Most rows to print (top -b prints them all). */
  maxRows?: number;
  /** --alert: each condition's state, one summary line under the two header lines. */
  alerts?: readonly AlertStatus[];
}

function clock(d: Date): string {
  return d.toTimeString().slice(0, 8);
}

/** One snapshot: two summary lines, the column header, the rows; refresh() the model first. */
export function formatSnapshot(s: SnapshotInput): string {
  const st = s.model.stats();
  const drops = formatDrops(s.drops);
  const view = s.view ?? 'processes';
  const sortKey = sortKeyFor(view, s.sortKey);
  const result = queryView(s.model, {
    view, filter: s.filter, sortKey, descending: s.descending, foldExitedSec: s.foldExitedSec ?? DEFAULT_FOLD_EXITED_SEC,
    groupBy: s.groupBy ?? 'command', folded: new Set(), drill: null, nameOf: s.nameOf,
  });
  const rows = result.rows;
  const filter = describeFilter(s.filter);
  const folded = result.foldedExited ? `, ${result.foldedExited} exited folded into their command` : '';
  // The host and kernel come from a recording's header in a replay, the filter from the command
  // line: shown through showText like the names in the table (controls as visible escapes).
  const lines = [
    showText(`socktop - ${clock(s.wallTime)} up ${fmtUptime(s.uptimeMs)}, ${s.info.host}, kernel ${s.info.kernel}, `
      + `probe ${s.info.backend}, events ${st.events} (${fmtRate(st.eventsPerSec)}/s), drops: ${drops}`),
    showText(`Processes: ${st.processes} total, ${view === 'processes' ? rows.length : st.processes} shown${folded}, `
      + `sockets open ${st.openSockets}, unattributed events ${st.unattributed}` + (filter ? `, filter: ${filter}` : '')),
  ];
  // The processes view keeps the format scripts know; the others say what they are.
  if (view !== 'processes') lines.push(`View: ${view} (${VIEWS[view].describe}), ${rows.length} rows`);
  if (s.alerts && s.alerts.length > 0) lines.push(showText(`Alerts: ${s.alerts.map(statusText).join('; ')}`));
  lines.push('');
  const spec = VIEW_SPECS[view];
  const placed = layoutColumns(s.width, spec.columns, spec.commWidth);
  lines.push(headerLine(placed, sortKey, s.descending).trimEnd());
  const shown: readonly unknown[] = s.maxRows === undefined ? rows : rows.slice(0, s.maxRows);
  const model = s.model;
  const ctx = {
    nowNs: model.now, userName: (uid: number) => model.userName(uid), processOf: (pid: number) => model.process(pid),
    peers: result.view === 'connections' ? peersOf(model, shown as typeof result.rows) : undefined,
  };
  for (const row of shown) lines.push(rowCells(row, placed, ctx).join(' ').trimEnd());
  return lines.join('\n') + '\n';
}

export interface BatchOptions {
  delaySec: number;
  iterations?: number;
  filter: RowFilter;
  sortKey?: string;
  descending?: boolean;
  view?: ViewName;
  foldExitedSec?: number;
  out?: NodeJS.WritableStream;
  signal?: AbortSignal;
  width?: number;
  /** --alert: evaluated at each snapshot; a change of state is printed as one line before it. */
  alerts?: readonly AlertRule[];
}

/**
 * Snapshots of `source` until N are printed or a signal arrives. Resolves to the exit status: 0, or
 * ALERT_EXIT_CODE (3) when an --alert fired during the run. A finite source (a replay) that
 * has run dry ends the run after its snapshot when no -n was given; with -n N the N snapshots are
 * all printed, `-d` apart, as `top -b -n N` does on a quiet host (`replay --speed 0 -b -n 2` plays
 * the whole file before the first one: both show its final state, the second d seconds later).
 */
export async function runBatch(source: DataSource, o: BatchOptions): Promise<number> {
  const out = o.out ?? process.stdout;
  const signal = o.signal ?? stopSignal;
  const live = source.describe().mode === 'live';
  const model = new SocketModel({
    // The tree needs parents: recorded in a replay, from /proc at first sight live.
    parentOf: (pid) => source.processInfo?.(pid)?.ppid ?? (live ? readParentPid(pid) ?? null : undefined),
  });
  model.setFamilies(o.filter.families ?? null);
  const pump = new Pump(source, model);
  const alerts = alertEvaluator(o.alerts, model);
  const view = o.view ?? 'processes';
  source.onReset?.(() => undefined); // batch never seeks
  const started = Date.now();
  const n = o.iterations ?? Infinity;
  let ended = false;
  for (let i = 0; i < n && !signal.aborted; i++) {
    if (ended) await sleep(o.delaySec * 1000, signal);
    else ended = await waitDraining(o.delaySec * 1000, pump, source, signal);
    if (signal.aborted) break;
    pump.drain();
    model.refresh(source.clockNs?.());
    // An alert's change of state: one line each ("ALERT refused>10/s firing: 12/s"), before the
    // snapshot that shows it, so `grep ^ALERT` finds every firing once.
    const changes = alerts ? alertTick(alerts, model, source).map((t) => `${showText(alertTextLine(t))}\n`).join('') : '';
    const text = changes + formatSnapshot({
      model, info: source.describe(), drops: dropsPerStage(model, source.stats(), source.ring.drops()),
      filter: o.filter, view, foldExitedSec: o.foldExitedSec,
      nameOf: (pid) => source.processInfo?.(pid)?.comm ?? (live ? readProcComm(pid) : undefined),
      sortKey: o.sortKey ?? VIEWS[view].defaultSort, descending: o.descending ?? !VIEWS[view].ascending.includes(o.sortKey ?? VIEWS[view].defaultSort),
      width: o.width ?? Infinity, wallTime: new Date(), uptimeMs: Date.now() - started, alerts: alerts?.statuses,
    });
    if (!out.write(`${text}\n`)) await new Promise((r) => out.once('drain', r));
    if (ended && o.iterations === undefined) break;
  }
  return exitStatus(0, alerts);
}

/** Sleep `ms`, draining the ring every 100 ms; true when a finite source has nothing more. */
async function waitDraining(ms: number, pump: Pump, source: DataSource, signal: AbortSignal): Promise<boolean> {
  const until = Date.now() + ms;
  while (!signal.aborted) {
    pump.drain();
    if (source.finished?.() && source.ring.available() === 0) return true;
    const left = until - Date.now();
    if (left <= 0) return false;
    await sleep(Math.min(100, left), signal);
  }
  return false;
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const t = setTimeout(done, ms);
    function done() {
      clearTimeout(t);
      signal.removeEventListener('abort', done);
      resolve();
    }
    signal.addEventListener('abort', done, { once: true });
  });
}

/** Live -b; resolves to the exit status (3 when an --alert fired). */
export async function batchCommand(o: CommonOptions): Promise<number> {
  const { openHeadlessLive } = await import('../live');
  const live = await openHeadlessLive(o);
  const code = await runBatch(live.source, {
    delaySec: o.delaySec, iterations: o.iterations, signal: live.stop.signal,
    filter: { pids: o.pids, comm: o.comm, follow: null, container: o.container, netns: o.netns, families: o.families },
    alerts: o.alerts, view: o.view, foldExitedSec: o.foldExitedSec,
  });
  live.throwIfDied();
  return code;
}
