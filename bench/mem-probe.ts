/**
 * bench/mem-probe.ts: what the memory benches (memory.ts, floor.ts) share: the RSS of a pid and its
 * parts from /proc, a sampler, medians, and a program in its own tmux pane (160x50, no colour).
 */
import { execFileSync, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';

export const MB = 1 << 20;
const SAMPLE_MS = 250;

export interface Rss { rss: number; anon: number; file: number; shmem: number }

/** RSS of pid and its parts, in bytes (null once it is gone). */
export function readRss(pid: number): Rss | null {
  let text: string;
  try {
    text = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
  } catch {
    return null;
  }
  const kb = (key: string): number => Number(new RegExp(`^${key}:\\s+(\\d+) kB`, 'm').exec(text)?.[1] ?? 0) * 1024;
  return { rss: kb('VmRSS'), anon: kb('RssAnon'), file: kb('RssFile'), shmem: kb('RssShmem') };
}

/** Samples the RSS of one pid until stopped. */
export class Sampler {
  readonly samples: Array<{ t: number; r: Rss }> = [];
  private timer: NodeJS.Timeout;
  constructor(private readonly pid: number) {
    this.timer = setInterval(() => this.take(), SAMPLE_MS);
    this.take();
  }
  take(): Rss | null {
    const r = readRss(this.pid);
    if (r) this.samples.push({ t: Date.now(), r });
    return r;
  }
  mark(): number {
    return Date.now();
  }
  /** Samples taken in [from, to). */
  between(from: number, to = Infinity): Rss[] {
    return this.samples.filter((s) => s.t >= from && s.t < to).map((s) => s.r);
  }
  stop(): void {
    clearInterval(this.timer);
  }
}

export function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  if (s.length === 0) return NaN;
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

export function medianRss(rs: Rss[]): Rss {
  return { rss: median(rs.map((r) => r.rss)), anon: median(rs.map((r) => r.anon)), file: median(rs.map((r) => r.file)), shmem: median(rs.map((r) => r.shmem)) };
}

export function peakRss(rs: Rss[]): Rss {
  return rs.reduce((a, b) => (b.rss > a.rss ? b : a), { rss: 0, anon: 0, file: 0, shmem: 0 });
}

/** A program in its own tmux server (never anyone else's), 160x50. */
export class Pane {
  private readonly socket = `socktop-mem-${process.pid}-${Math.random().toString(36).slice(2, 8)}`;
  private tmux(args: string[]): string {
    return execFileSync('tmux', ['-L', this.socket, ...args], { encoding: 'utf8' });
  }
  /** Starts `argv` (exec'd: the pane's pid is the program's) and returns its pid. */
  start(argv: string[]): number {
    const cmd = `exec ${argv.map((a) => `'${a.replace(/'/g, `'\\''`)}'`).join(' ')}`;
    this.tmux(['new-session', '-d', '-s', 'mem', '-x', '160', '-y', '50', '-e', 'NO_COLOR=1', cmd]);
    return Number(this.tmux(['display-message', '-p', '-t', 'mem', '#{pane_pid}']).trim());
  }
  screen(): string[] {
    return this.tmux(['capture-pane', '-p', '-t', 'mem']).split('\n');
  }
  async waitFor(what: string, ok: (s: string[]) => boolean, ms = 30000): Promise<void> {
    const until = Date.now() + ms;
    while (Date.now() < until) {
      try {
        if (ok(this.screen())) return;
      } catch {
        /* the session may not be up yet */
      }
      await sleep(200);
    }
    throw new Error(`timed out waiting for ${what}: ${this.screen().join('\n')}`);
  }
  keys(...k: string[]): void {
    this.tmux(['send-keys', '-t', 'mem', ...k]);
  }
  kill(): void {
    spawnSync('tmux', ['-L', this.socket, 'kill-server']);
  }
}
