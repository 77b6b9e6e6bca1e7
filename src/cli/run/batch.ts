/**
 * batch.ts: `socktop -b [-n N]`, like `top -b`: N plain-text snapshots of the process table on
 * stdout, `-d` seconds apart, no TUI; filters apply. Each snapshot starts with a header line (time,
 * events, drops per stage). formatSnapshot() is pure so tests render synthetic models. Nothing
 * from outside reaches the terminal raw: names go through showText (src/model/text.ts) and the
 * columns are fitted by display width, as in the TUI.
 */
import { formatDrops } from '../../capture/layout';
import { describeFilter, RowFilter } from '../../model/filter';
import { SocketModel } from '../../model/model';
import type { SortKey } from '../../model/query';
import { headerLine, layoutColumns, rowCells } from '../../ui/columns';
import { fmtRate, fmtUptime } from '../../ui/format';
import { showText } from '../../model/text';
import { dropsPerStage, Pump } from '../../ui/pump';
import type { DataSource, SourceInfo } from '../../source';
import type { CommonOptions } from '../options';
import { stopSignal } from '../shutdown';

export interface SnapshotInput {
  model: SocketModel;
  info: SourceInfo;
  drops: readonly number[];
  filter: RowFilter;
  sortKey: SortKey;
  descending: boolean;
  /** Characters per line; Infinity = every column. */
  width: number;
  wallTime: Date;
  uptimeMs: number;
  /** Most rows to print (top -b prints them all). */
  maxRows?: number;
}

function clock(d: Date): string {
  return d.toTimeString().slice(0, 8);
}

/** One snapshot: two summary lines, the column header, the rows; refresh() the model first. */
export function formatSnapshot(s: SnapshotInput): string {
  const st = s.model.stats();
  const drops = formatDrops(s.drops);
  const rows = s.model.query(s.filter, s.sortKey, s.descending);
  const filter = describeFilter(s.filter);
  // The host and kernel come from a recording's header in a replay, the filter from the command
  // line: shown through showText like the names in the table (controls as visible escapes).
  const lines = [
    showText(`socktop - ${clock(s.wallTime)} up ${fmtUptime(s.uptimeMs)}, ${s.info.host}, kernel ${s.info.kernel}, `
      + `probe ${s.info.backend}, events ${st.events} (${fmtRate(st.eventsPerSec)}/s), drops: ${drops}`),
    showText(`Processes: ${st.processes} total, ${rows.length} shown, sockets open ${st.openSockets}, unattributed events ${st.unattributed}`
      + (filter ? `, filter: ${filter}` : '')),
    '',
  ];
  const placed = layoutColumns(s.width);
  lines.push(headerLine(placed, s.sortKey, s.descending).trimEnd());
  const ctx = { nowNs: s.model.now, userName: (uid: number) => s.model.userName(uid) };
  const shown = s.maxRows === undefined ? rows : rows.slice(0, s.maxRows);
  for (const row of shown) lines.push(rowCells(row, placed, ctx).join(' ').trimEnd());
  return lines.join('\n') + '\n';
}

export interface BatchOptions {
  delaySec: number;
  iterations?: number;
  filter: RowFilter;
  sortKey?: SortKey;
  descending?: boolean;
  out?: NodeJS.WritableStream;
  signal?: AbortSignal;
  width?: number;
}

/**
 * Snapshots of `source` until N are printed or a signal arrives. A finite source (a replay) that
 * has run dry ends the run after its snapshot when no -n was given; with -n N the N snapshots are
 * all printed, `-d` apart, as `top -b -n N` does on a quiet host (`replay --speed 0 -b -n 2` plays
 * the whole file before the first one: both show its final state, the second d seconds later).
 */
export async function runBatch(source: DataSource, o: BatchOptions): Promise<void> {
  const out = o.out ?? process.stdout;
  const signal = o.signal ?? stopSignal;
  const model = new SocketModel();
  model.setFamilies(o.filter.families ?? null);
  const pump = new Pump(source, model);
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
    const text = formatSnapshot({
      model, info: source.describe(), drops: dropsPerStage(model, source.stats(), source.ring.drops()),
      filter: o.filter, sortKey: o.sortKey ?? 'conn', descending: o.descending ?? true,
      width: o.width ?? Infinity, wallTime: new Date(), uptimeMs: Date.now() - started,
    });
    if (!out.write(`${text}\n`)) await new Promise((r) => out.once('drain', r));
    if (ended && o.iterations === undefined) break;
  }
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

export async function batchCommand(o: CommonOptions): Promise<void> {
  const { openHeadlessLive } = await import('../live');
  const live = await openHeadlessLive(o);
  await runBatch(live.source, {
    delaySec: o.delaySec, iterations: o.iterations, signal: live.stop.signal,
    filter: { pids: o.pids, comm: o.comm, follow: null, families: o.families },
  });
  live.throwIfDied();
}
