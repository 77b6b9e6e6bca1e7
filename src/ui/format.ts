/**
 * format.ts: short, fixed-width figures for the table (top-style: 1.2k, 34M, 85us, 3m).
 * Pure functions, shared by the TUI and batch mode.
 */
import { fitWidth } from '../model/text';

/** Events per second: one decimal below 10, whole numbers below 1000, then k/M. */
export function fmtRate(v: number): string {
  if (!(v > 0)) return '0';
  if (v < 0.05) return '0.0';
  if (v < 10) return v.toFixed(1);
  if (v < 1000) return Math.round(v).toString();
  return scaled(v, 1000, ['k', 'M', 'G']);
}

/** Bytes (or bytes/s) with binary prefixes, no unit letter for plain bytes. */
export function fmtBytes(v: number): string {
  if (!(v > 0)) return '0';
  if (v < 1024) return Math.round(v).toString();
  return scaled(v, 1024, ['K', 'M', 'G', 'T']);
}

function scaled(v: number, base: number, units: string[]): string {
  let i = -1;
  while (v >= base && i < units.length - 1) {
    v /= base;
    i++;
  }
  return (v < 10 ? v.toFixed(1) : Math.round(v).toString()) + units[i];
}

/** A duration in nanoseconds: 850ns, 85us, 12.3ms, 1.2s; '-' when there is none. */
export function fmtLatency(ns: number): string {
  if (!Number.isFinite(ns)) return '-';
  if (ns < 1e3) return `${Math.round(ns)}ns`;
  if (ns < 1e6) return `${Math.round(ns / 1e3)}us`;
  if (ns < 1e9) return ns < 1e7 ? `${(ns / 1e6).toFixed(1)}ms` : `${Math.round(ns / 1e6)}ms`;
  return ns < 1e10 ? `${(ns / 1e9).toFixed(1)}s` : `${Math.round(ns / 1e9)}s`;
}

/** How long ago, from nanoseconds: 0s, 42s, 5m, 3h, 2d. */
export function fmtAge(ns: number): string {
  const s = Math.max(0, Math.floor(ns / 1e9));
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m`;
  if (s < 86400) return `${Math.floor(s / 3600)}h`;
  return `${Math.floor(s / 86400)}d`;
}

/** Uptime as h:mm:ss (or m:ss). */
export function fmtUptime(ms: number): string {
  const total = Math.max(0, Math.floor(ms / 1000));
  const h = Math.floor(total / 3600);
  const m = Math.floor((total % 3600) / 60);
  const s = total % 60;
  const mmss = `${String(m).padStart(h ? 2 : 1, '0')}:${String(s).padStart(2, '0')}`;
  return h ? `${h}:${mmss}` : mmss;
}

/** Listening ports, as many as fit, then +N for the rest. */
export function fmtPorts(ports: readonly number[], width: number): string {
  if (ports.length === 0) return '-';
  let out = '';
  for (let i = 0; i < ports.length; i++) {
    const next = out ? `${out},${ports[i]}` : String(ports[i]);
    const rest = ports.length - i - 1;
    const more = rest > 0 ? `,+${rest}` : '';
    if (next.length + more.length > width) return out ? `${out},+${ports.length - i}` : `+${ports.length}`;
    out = next;
  }
  return out;
}

/**
 * Pad or cut to exactly `width` terminal columns (display width: a CJK character or an emoji
 * takes two, a combining mark none); a cut text ends in `~`. Escape controls first (showText).
 */
export function fit(text: string, width: number, align: 'left' | 'right'): string {
  return fitWidth(text, width, align);
}

/** A server's accept queue as "len/max" (summed over its listeners); empty for a process that
 * listens on nothing socktop saw the queue of. */
export function fmtQueue(r: { queueLen: number; queueMax: number; listen: Map<number, number> | null }): string {
  if (!r.listen?.size && r.queueLen === 0) return '';
  if (r.queueMax === 0 && r.queueLen === 0) return '-'; // a listener whose queue was not told
  return `${r.queueLen}/${r.queueMax || '?'}`;
}
