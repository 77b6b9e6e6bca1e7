/**
 * detail.ts: one process (Enter on a row): who it is, its totals, its sockets (4-tuple, state,
 * age, bytes each way) and its recent events, newest first. Esc or q goes back.
 */
import * as blessed from 'blessed';
import type { EventJson } from '../../capture/decode';
import type { SocketModel } from '../../model/model';
import type { ProcessDetails } from '../../capture/procfs';
import type { SocketEntry } from '../../model/sockets';
import type { ProcessRow } from '../../model/processes';
import type { UdpFlowRow } from '../../model/udp-flows';
import { errnoName } from '../../capture/errno';
import { formatFailures } from '../../model/failures';
import { fit, fmtAge, fmtBytes, fmtLatency, fmtRate } from '../format';
import { Color, esc, Theme } from './theme';
import { TcpState } from '../../capture/layout';
import { Line } from './line';
import { cutToWidth, showText } from '../../model/text';

const MAX_SOCKETS = 500;

export interface DetailInput {
  model: SocketModel;
  pid: number;
  info: ProcessDetails | undefined;
  theme: Theme;
  width: number;
  nowNs: number;
}

export function detailLines(d: DetailInput): string[] {
  const t = d.theme;
  const row = d.model.process(d.pid);
  if (!row) return [esc(`process ${d.pid} is gone (exited and aged out, or evicted)`), '', esc('Esc or q: back to the table')];
  const user = d.info?.user ?? d.model.userName(row.uid);
  const out: string[] = [];
  const who = new Line().add(`PID ${row.pid}`, (s) => t.bold(s)).add(`  ${row.comm}`, (s) => t.bold(s)).add(`  user ${user}`);
  if (d.info?.state) who.add(`  state ${d.info.state}`);
  if (d.info?.ppid !== undefined) who.add(`  ppid ${d.info.ppid}`);
  if (d.info?.threads !== undefined) who.add(`  threads ${d.info.threads}`);
  if (d.info?.start_wall_ms) who.add(`  started ${new Date(d.info.start_wall_ms).toLocaleString()}`);
  if (row.exited) who.add(`  exited ${fmtAge(d.nowNs - row.exitNs)} ago (code ${row.exitCode})`, (s) => t.fg('yellow', s));
  out.push(who.toString());
  if (d.info?.cmdline) out.push(esc(cutToWidth(showText(`cmdline: ${d.info.cmdline}`), d.width).text));
  out.push(...placeLines(row, d.width));
  const errnos = row.errnos ? [...row.errnos].map(([e, n]) => `${errnoName(e)} ${n}`).join(', ') : '';
  out.push(esc(`totals: accepts ${row.accepts}  connects ok ${row.connectsOk} failed ${row.connectsFailed}`
    + `  closes ${row.closes}  sent ${fmtBytes(row.bytesSent)}  received ${fmtBytes(row.bytesReceived)}`
    + `  retransmits ${row.retransmits}  resets sent ${row.resetsSent} received ${row.resetsReceived}`));
  out.push(esc(`rates: conn ${fmtRate(row.connRate)}/s  acc ${fmtRate(row.accRate)}/s  close ${fmtRate(row.closeRate)}/s`
    + `  err ${fmtRate(row.errRate)}/s  tx ${fmtBytes(row.txRate)}/s  rx ${fmtBytes(row.rxRate)}/s`
    + `  connect latency p50 ${fmtLatency(row.p50Ns)} p99 ${fmtLatency(row.p99Ns)} (${row.latency?.count ?? 0} samples)`));
  if (errnos) out.push(t.fg('red', esc(`errors: ${errnos}`)));
  const fails = formatFailures(row.fails);
  if (fails) out.push(t.fg('red', esc(`failed connects by reason: ${fails}`)));
  out.push(...queueLines(d, row.queueAlarm));
  out.push('');
  out.push(...socketLines(d.model.socketsOf(d.pid), d, row.open));
  const flows = d.model.udpFlowsOf(d.pid);
  if (flows.length > 0) {
    out.push('');
    out.push(...udpFlowLines(flows, d));
  }
  out.push('');
  out.push(...eventLines(d.model.recentEvents(d.pid), d));
  return out;
}

/** Where the process lives: netns, cgroup path, container and pod (what is known). */
export function placeLines(row: ProcessRow, width: number): string[] {
  const p = row.place;
  const where = [`netns ${row.netns || '?'}`, `cgroup ${p?.path ?? (row.cgroupId ? `id ${row.cgroupId}` : '?')}`];
  const out = [esc(cutToWidth(showText(where.join('  ')), width).text)];
  const who: string[] = [];
  if (p?.containerId) {
    const named = row.containerName ? ` "${row.containerName}"` : '';
    who.push(`container ${p.runtime ?? ''}${p.monitor ? ' monitor of' : ''}${named} ${p.containerId}`);
  }
  if (p?.podUid) who.push(`pod ${p.podUid}${p.qos ? ` (${p.qos})` : ''}`);
  if (p?.unit && !p.containerId) who.push(`unit ${p.unit}`);
  if (p?.userUid !== undefined) who.push(`user slice ${p.userUid}`);
  if (who.length) out.push(esc(cutToWidth(showText(who.join('  ')), width).text));
  return out;
}

/** Per listening port: accept queue, its limit, SYN queue, overflows; accept wait percentiles. */
function queueLines(d: DetailInput, alarm: boolean): string[] {
  const t = d.theme;
  const row = d.model.process(d.pid)!;
  const queues = d.model.listenQueues(d.pid);
  if (queues.length === 0 && !row.acceptWait) return [];
  const out: string[] = [];
  const wait = row.acceptWait
    ? `  accept wait p50 ${fmtLatency(row.acceptP50Ns)} p99 ${fmtLatency(row.acceptP99Ns)} (${row.acceptWait.count} accepts)` : '';
  const head = `listen queues: overflows ${row.overflows}${wait}${alarm ? '  NOT KEEPING UP' : ''}`;
  out.push(alarm ? t.bold(t.fg('red', esc(head))) : esc(head));
  for (const q of queues) {
    const text = `  port ${q.port}: queue ${q.len}/${q.max || '?'}  syn queue ${q.synQueue}  overflows ${q.overflows}${q.full ? '  FULL' : ''}`;
    out.push(q.full || q.overflows ? t.fg('red', esc(text)) : esc(text));
  }
  return out;
}

function socketLines(socks: SocketEntry[], d: DetailInput, open: number): string[] {
  const t = d.theme;
  const closed = socks.filter((s) => !s.open).length;
  const out = [t.bold(esc(`SOCKETS: ${Math.max(0, open)} open, ${closed} recently closed`))];
  const addrW = Math.max(21, Math.min(47, Math.floor((d.width - 40) / 2)));
  out.push(t.underline(esc(`${fit('PROTO', 5, 'left')} ${fit('LOCAL', addrW, 'left')} ${fit('REMOTE', addrW, 'left')} `
    + `${fit('STATE', 11, 'left')} ${fit('AGE', 5, 'right')} ${fit('TX', 6, 'right')} ${fit('RX', 6, 'right')}`)));
  // A busy server can hold thousands: show the first MAX_SOCKETS (open first), then a count.
  for (const s of socks.slice(0, MAX_SOCKETS)) {
    const age = fmtAge(d.nowNs - s.createdNs);
    const state = s.open ? s.stateName() : 'closed';
    const local = s.isUnix ? unixAddress(d.model, s.pathId) : s.local();
    const remote = s.isUnix ? peerText(d.model, s.peerPid) : s.remote();
    const text = `${fit(s.isUnix ? 'unix' : s.protoName(), 5, 'left')} ${fit(local, addrW, 'left')} `
      + `${fit(remote, addrW, 'left')} ${fit(state, 11, 'left')} ${fit(age, 5, 'right')} `
      + `${fit(fmtBytes(s.sent), 6, 'right')} ${fit(fmtBytes(s.received), 6, 'right')}`;
    const color = s.open ? stateColor(s.state) : 'gray';
    out.push(color ? t.fg(color, esc(text)) : esc(text));
  }
  if (socks.length > MAX_SOCKETS) out.push(esc(`... and ${socks.length - MAX_SOCKETS} more`));
  if (socks.length === 0) out.push(esc('(no sockets seen)'));
  return out;
}

/** The process's UDP flows: peer, datagrams and bytes each way, first and last seen. */
function udpFlowLines(flows: UdpFlowRow[], d: DetailInput): string[] {
  const t = d.theme;
  const out = [t.bold(esc(`UDP FLOWS: ${flows.length} (one per socket and peer; totals since first seen)`))];
  const peerW = Math.max(21, Math.min(47, d.width - 62));
  out.push(t.underline(esc(`${fit('PEER', peerW, 'left')} ${fit('DGRAM TX', 8, 'right')} ${fit('TX', 6, 'right')} `
    + `${fit('DGRAM RX', 8, 'right')} ${fit('RX', 6, 'right')} ${fit('FIRST', 6, 'right')} ${fit('LAST', 6, 'right')}`)));
  for (const f of flows.slice(0, MAX_SOCKETS)) {
    out.push(esc(`${fit(f.peer ?? 'peer unknown', peerW, 'left')} ${fit(String(f.datagramsSent), 8, 'right')} `
      + `${fit(fmtBytes(f.bytesSent), 6, 'right')} ${fit(String(f.datagramsReceived), 8, 'right')} `
      + `${fit(fmtBytes(f.bytesReceived), 6, 'right')} ${fit(`-${fmtAge(d.nowNs - f.firstNs)}`, 6, 'right')} `
      + `${fit(`-${fmtAge(d.nowNs - f.lastNs)}`, 6, 'right')}`));
  }
  if (flows.length > MAX_SOCKETS) out.push(esc(`... and ${flows.length - MAX_SOCKETS} more`));
  return out;
}

/** A unix socket's address for the screen (untrusted bytes: controls escaped). */
export function unixAddress(model: SocketModel, pathId: number): string {
  if (pathId === 0) return '(unnamed)';
  return showText(model.unixPath(pathId) ?? `path#${pathId.toString(16).padStart(8, '0')}`);
}

/** The process at the other end of a unix socket: "pid 123 redis-server". */
function peerText(model: SocketModel, pid: number): string {
  if (pid === 0) return 'peer ?';
  const comm = model.process(pid)?.comm;
  return comm ? `pid ${pid} ${showText(comm)}` : `pid ${pid}`;
}

/** Listening cyan, established green, closing states yellow, the rest in the terminal's colour. */
function stateColor(state: number): Color | null {
  if (state === TcpState.Listen) return 'cyan';
  if (state === TcpState.Established) return 'green';
  if (state >= TcpState.FinWait1 && state !== TcpState.SynRecv && state !== TcpState.NewSynRecv) return 'yellow';
  return null;
}

function eventLines(events: EventJson[], d: DetailInput): string[] {
  const t = d.theme;
  const out = [t.bold(esc('RECENT EVENTS (newest first; send/recv are summed into the sockets above)'))];
  for (const e of events) {
    const ago = `-${fmtLatency(Math.max(0, d.nowNs - e.ts_ns))}`;
    const text = `${fit(ago, 9, 'right')}  ${fit(e.kind, 13, 'left')} ${describeEvent(e, (id) => unixAddress(d.model, id))}`;
    out.push(e.error ? t.fg('red', esc(text)) : esc(text));
  }
  if (events.length === 0) out.push(esc('(none yet)'));
  return out;
}

/** A duration in microseconds; "?" where its start was not seen (null: unknown, not zero). */
function fmtDuration(us: number | null): string {
  return us === null ? '?' : fmtLatency(us * 1000);
}

/** The interesting part of an event in one short phrase. `path`: a unix address by its id. */
export function describeEvent(e: EventJson, path?: (id: number) => string): string {
  let local = e.laddr !== undefined ? `${e.family === 'inet6' ? `[${e.laddr}]` : e.laddr}:${e.lport}` : '';
  let remote = e.raddr !== undefined ? `${e.family === 'inet6' ? `[${e.raddr}]` : e.raddr}:${e.rport}` : '';
  if (e.family === 'unix') {
    const id = e.path_id ? Number.parseInt(e.path_id, 16) : 0;
    local = `unix/${e.type} ${path ? path(id) : e.path_id ?? '(unnamed)'}`;
    remote = e.peer_pid ? `pid ${e.peer_pid}` : '';
  }
  const parts: string[] = [];
  switch (e.kind) {
    case 'exit': return `exit code ${e.exit_code}`;
    case 'drops': return `${e.dropped} lost at ${e.stage}`;
    case 'state': parts.push(`${e.old_state} -> ${e.new_state}`, local, remote ? `-> ${remote}` : ''); break;
    case 'connect': parts.push(`${local} -> ${remote}`, e.reason ?? e.error ?? 'ok', e.reason && e.error ? e.error : '',
      e.latency_us === undefined ? '' : fmtDuration(e.latency_us), e.syn_retries ? `${e.syn_retries} SYN retries` : ''); break;
    case 'accept': parts.push(`${local} <- ${remote}`, e.queue_wait_us ? `waited ${fmtDuration(e.queue_wait_us)}` : ''); break;
    case 'queue': parts.push(local, `queue ${e.queue_len ?? 0}/${e.queue_max ?? '?'}`, `syn ${e.syn_queue ?? 0}`,
      e.overflows ? `${e.overflows} overflows` : ''); break;
    case 'close': parts.push(`${local} ${remote}`, `sent ${fmtBytes(e.bytes_sent ?? 0)} received ${fmtBytes(e.bytes_received ?? 0)}`,
      `lived ${fmtDuration(e.duration_us ?? null)}`, e.ended_by ? `by ${e.ended_by}` : '', e.reason ?? ''); break;
    case 'reset': parts.push(`${e.reset}`, local, remote); break;
    case 'udp_flow': parts.push(`${local} ${e.peer ? '<- peer unknown' : `<-> ${remote}`}`,
      `sent ${e.datagrams_sent} (${fmtBytes(e.bytes_sent ?? 0)}) received ${e.datagrams_received} (${fmtBytes(e.bytes_received ?? 0)})`); break;
    case 'sock_error': parts.push(local, e.peer ? '(peer unknown)' : `-> ${remote}`, e.error ?? ''); break;
    default: parts.push(local, remote ? `-> ${remote}` : '', e.bytes !== undefined ? `${e.bytes} bytes` : '', e.error ?? '');
  }
  if (e.snapshot) parts.push('(existed at start)');
  if (e.inferred) parts.push('(inferred by the 1 s walk)');
  return parts.filter((p) => p).join('  ');
}

export class DetailView {
  readonly box: blessed.Widgets.BoxElement;

  constructor(screen: blessed.Widgets.Screen) {
    this.box = blessed.box({ parent: screen, tags: true, wrap: false, hidden: true });
  }

  /** Show `lines` from `scroll`; returns the scroll actually used (clamped to the content). */
  render(lines: string[], scroll: number): number {
    const h = this.box.height as number;
    const s = Math.max(0, Math.min(scroll, lines.length - h));
    this.box.setContent(lines.slice(s, s + h).join('\n'));
    return s;
  }
}
