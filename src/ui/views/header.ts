/**
 * header.ts: the header lines: where and how we capture, the event flow with drops per stage,
 * socktop's own cost plus the active filter, and the views (the one shown highlighted); with
 * --alert, one more: every condition and its state (firing ones first, bold red; no data in
 * yellow; ok plain), cut to the width with a count of those that did not fit.
 */
import * as blessed from 'blessed';
import { fmtLatency, fmtRate, fmtUptime } from '../format';
import { DROP_STAGES, STAGE_NAMES } from '../../capture/layout';
import { Frame } from './frame';
import { Line } from './line';
import type { AlertStatus } from '../../model/alerts/evaluator';
import { statusText } from '../../model/alerts/format';
import type { Theme } from './theme';
import { VIEW_NAMES, VIEWS } from '../../model/views/registry';

export const HEADER_HEIGHT = 4;

/** Header lines for a run with (or without) --alert conditions. */
export function headerHeight(alerts: boolean): number {
  return HEADER_HEIGHT + (alerts ? 1 : 0);
}

/** The alert line: "alerts: refused>10/s FIRING 12/s  lost>0 ok". */
export function alertLine(alerts: readonly AlertStatus[], t: Theme, width: number): string {
  const order = [...alerts].sort((a, b) => rank(a) - rank(b));
  const firing = alerts.filter((a) => a.state === 'firing').length;
  const line = new Line().add('alerts', (s) => t.bold(s)).add(firing ? ` (${firing} firing):` : ':');
  for (let i = 0; i < order.length; i++) {
    const a = order[i];
    const text = `  ${statusText(a)}`;
    const more = order.length - i - 1;
    const reserve = more > 0 ? `  +${more} more`.length : 0;
    if (line.length + text.length + reserve > width) {
      line.add(`  +${order.length - i} more`);
      break;
    }
    if (a.state === 'firing') line.add(text, (s) => t.bold(t.fg('red', s)));
    else if (a.state === 'no_data') line.add(text, (s) => t.fg('yellow', s));
    else line.add(text);
  }
  return line.toString();
}

function rank(a: AlertStatus): number {
  return a.state === 'firing' ? 0 : a.state === 'no_data' ? 1 : 2;
}

export function headerLines(f: Frame): string[] {
  const t = f.theme;
  const st = f.model.stats();
  const l1 = new Line()
    .add('socktop', (s) => t.bold(s))
    .add(`  ${f.info.host}  kernel ${f.info.kernel}  probe ${f.info.backend}  up ${fmtUptime(f.uptimeMs)}`);
  if (f.info.recordingTo) l1.add(`  recording to ${f.info.recordingTo}`);
  // What this run cannot see that a root run would (a capability-only run, live.ts): the whole note
  // where it fits, else as much as fits (`socktop check` and the --json line have it all); the
  // status on the right keeps its 9 columns and the line never wraps.
  const limits = (f.info.limits ?? []).map((l) => `  ${l}`).join('');
  const room = f.width - l1.length - 9;
  if (limits && room > 4) l1.add(limits.length <= room ? limits : `${limits.slice(0, room - 1)}…`, (s) => t.bold(t.fg('yellow', s)));
  const l2 = new Line().add(`events ${fmtRate(st.eventsPerSec)}/s, ${st.events} total  drops:`);
  for (const stage of DROP_STAGES) {
    const n = f.drops[stage] ?? 0;
    l2.add(` ${STAGE_NAMES[stage]} `).add(String(n), n > 0 ? (s) => t.bold(t.fg('red', s)) : undefined);
  }
  l2.add(`  unattributed ${st.unattributed}`);
  const recordingError = f.stats?.recordingError;
  if (recordingError) l2.add(`  recording: ${recordingError}`, (s) => t.bold(t.fg('red', s)));
  const l3 = new Line().add(`procs ${st.processes}`);
  if (f.foldedExited) l3.add(`  folded ${f.foldedExited} exited`, (s) => t.fg('gray', s));
  l3.add(`  sockets open ${st.openSockets}  cost: cpu ${f.cost.cpuPct.toFixed(1)}%`);
  l3.add(Number.isFinite(f.cost.bpfNsPerEvent)
    ? `  bpf ${fmtLatency(f.cost.bpfNsPerEvent)}/event ${f.cost.bpfCpuPct.toFixed(1)}%`
    : '  bpf stats off');
  if (st.evictedProcesses || st.evictedSockets) l3.add(`  evicted ${st.evictedProcesses}p/${st.evictedSockets}s`);
  const filter = f.state.filterText();
  if (filter) l3.add('  filter: ').add(filter, (s) => t.bold(t.fg('cyan', s)));
  const lines = [l1.withRight(status(f, f.width - l1.length - 1), f.width), l2.toString(), l3.toString(), viewBar(f)];
  if (f.alerts && f.alerts.length > 0) lines.push(alertLine(f.alerts, t, f.width - 1));
  return lines;
}

/** The views by key, the one shown in inverse: " 1 processes  2 commands  3 tree ... ". */
function viewBar(f: Frame): string {
  const t = f.theme;
  const line = new Line();
  for (const name of VIEW_NAMES) {
    const v = VIEWS[name];
    const label = ` ${v.key} ${v.title} `;
    if (line.length + label.length + 1 > f.width) break;
    line.add(label, name === f.state.view ? (s) => t.inverse(t.bold(s)) : (s) => s).add(' ');
  }
  const extra = f.state.view === 'commands' ? `by ${f.state.groupBy} (u)` : f.state.view === 'tree' ? '+/- unfold/fold' : '';
  if (extra && line.length + extra.length + 8 <= f.width) line.add(`  Tab: next  ${extra}`, (s) => t.fg('gray', s));
  else if (line.length + 11 <= f.width) line.add('  Tab: next', (s) => t.fg('gray', s));
  return line.toString();
}

const BAR_MAX = 30;

/** A progress bar of `width` cells, `fraction` (0..1) of them full. */
export function progressBar(fraction: number, width: number): string {
  const full = Math.round(Math.max(0, Math.min(1, Number.isFinite(fraction) ? fraction : 0)) * width);
  return '█'.repeat(full) + '░'.repeat(width - full);
}

/** LIVE, PAUSED, or the replay's progress bar, position/duration, speed (and PAUSED or END). */
function status(f: Frame, room: number): Line {
  const t = f.theme;
  const r = f.stats?.replay;
  const line = new Line();
  const paused = f.state.paused || (r !== undefined && r.paused && !r.ended);
  if (r) {
    const speed = r.speed === 0 ? 'max' : `${r.speed}x`;
    const text = `${fmtUptime(r.positionNs / 1e6)}/${fmtUptime(r.durationNs / 1e6)} ${speed} `;
    // Every status ends in a space, as the terminal's last column is best left alone.
    const tail = text.length + (r.ended ? 5 : paused ? 8 : 0);
    const barWidth = Math.min(BAR_MAX, room - 'REPLAY  '.length - tail);
    line.add('REPLAY ', (s) => t.bold(t.fg('cyan', s)));
    if (barWidth >= 5) line.add(progressBar(r.durationNs > 0 ? r.positionNs / r.durationNs : 1, barWidth), (s) => t.fg('cyan', s)).add(' ');
    line.add(text, (s) => t.bold(t.fg('cyan', s)));
    if (r.ended) line.add(' END ', (s) => t.bold(s));
  }
  if (paused) line.add(' PAUSED ', (s) => t.inverse(t.bold(t.fg('yellow', s))));
  else if (!r) line.add(' LIVE ', (s) => t.bold(t.fg('green', s)));
  return line;
}

export class HeaderView {
  readonly box: blessed.Widgets.BoxElement;

  constructor(screen: blessed.Widgets.Screen, readonly height = HEADER_HEIGHT) {
    this.box = blessed.box({ parent: screen, top: 0, left: 0, height, width: '100%', tags: true });
  }

  render(f: Frame): void {
    this.box.setContent(headerLines(f).join('\n'));
  }
}
