import { describeFamilies, Families } from './families';

/**
 * filter.ts: the PID list filter (`123,456`, ranges `100-200`, `!123` excludes), the command
 * name filter and the place filters (`--container`, `--netns`), shared by the TUI prompt,
 * `-p`/`--comm`, batch mode and `--json`.
 */
import { Placement, placementMatches } from './container';

/** Linux's highest possible pid_max (PID_MAX_LIMIT on 64-bit). */
export const PID_MAX = 4194304;

export class PidFilterError extends Error {}

interface Span { lo: number; hi: number }

export class PidFilter {
  constructor(
    readonly include: readonly Span[],
    readonly exclude: readonly Span[],
    readonly text: string,
  ) {}

  matches(pid: number): boolean {
    if (this.include.length > 0 && !inSpans(this.include, pid)) return false;
    return !inSpans(this.exclude, pid);
  }
}

function inSpans(spans: readonly Span[], pid: number): boolean {
  for (const s of spans) if (pid >= s.lo && pid <= s.hi) return true;
  return false;
}

/**
 * Parse a PID list. Returns null for an empty list (no filter); throws PidFilterError with a
 * one-line message naming the bad item.
 */
export function parsePidFilter(text: string): PidFilter | null {
  const items = text.split(/[,\s]+/).filter((s) => s.length > 0);
  if (items.length === 0) return null;
  const include: Span[] = [];
  const exclude: Span[] = [];
  for (const item of items) {
    const negated = item.startsWith('!');
    (negated ? exclude : include).push(parseSpan(negated ? item.slice(1) : item, item));
  }
  return new PidFilter(include, exclude, items.join(','));
}

function parseSpan(body: string, item: string): Span {
  const m = /^(\d+)(?:-(\d+))?$/.exec(body);
  if (!m) throw new PidFilterError(`bad PID '${item}' (use 123,456 or ranges 100-200; !123 excludes)`);
  const lo = Number(m[1]);
  const hi = m[2] === undefined ? lo : Number(m[2]);
  for (const n of [lo, hi]) {
    if (n < 1 || n > PID_MAX) throw new PidFilterError(`PID ${n} in '${item}' is out of range (1-${PID_MAX})`);
  }
  if (hi < lo) throw new PidFilterError(`PID range '${item}' is backwards`);
  return { lo, hi };
}

/** Case-insensitive substring match on the command name; empty or null matches everything. */
export function commMatches(filter: string | null, comm: string): boolean {
  if (!filter) return true;
  return comm.toLowerCase().includes(filter.toLowerCase());
}

/** What the views filter rows by. */
export interface RowFilter {
  pids: PidFilter | null;
  comm: string | null;
  /** Only this pid (F, follow). */
  follow: number | null;
  /** Only processes in a container / unit this names (container.ts placementMatches). */
  container?: string | null;
  /** Only processes in this network namespace (inode). */
  netns?: number | null;
  /** Socket families shown (--family, f): null or absent for all. The model applies it at ingest. */
  families?: Families;
}

/** Where a row's process lives, for the place filters. */
export interface RowPlace {
  netns: number;
  place: Placement | undefined;
  /** The container's name from its runtime, when known: --container matches it too. */
  containerName?: string;
}

export const NO_FILTER: RowFilter = { pids: null, comm: null, follow: null };

function nameMatches(query: string, name: string | undefined): boolean {
  return name !== undefined && name.toLowerCase().includes(query.toLowerCase());
}

export function rowMatches(f: RowFilter, pid: number, comm: string, at?: RowPlace): boolean {
  if (f.follow !== null && pid !== f.follow) return false;
  if (f.pids && !f.pids.matches(pid)) return false;
  if (f.netns && at?.netns !== f.netns) return false;
  if (f.container && !placementMatches(f.container, at?.place) && !nameMatches(f.container, at?.containerName)) return false;
  return commMatches(f.comm, comm);
}

/** `--netns`: an inode number (what `lsns -t net` and `stat -L -c %i /proc/PID/ns/net` show). */
export function parseNetns(text: string): number | null {
  const t = text.trim().replace(/^net:\[(\d+)\]$/, '$1');
  if (t === '') return null;
  if (!/^\d+$/.test(t) || Number(t) < 1 || Number(t) > 0xffffffff) {
    throw new PidFilterError(`bad network namespace '${text}' (an inode number, as lsns -t net shows it)`);
  }
  return Number(t);
}

export function describeFilter(f: RowFilter): string {
  const parts: string[] = [];
  if (f.follow !== null) parts.push(`follow ${f.follow}`);
  if (f.pids) parts.push(`pid ${f.pids.text}`);
  if (f.comm) parts.push(`comm ~ ${f.comm}`);
  if (f.container) parts.push(`container ${f.container}`);
  if (f.netns) parts.push(`netns ${f.netns}`);
  if (f.families) parts.push(`family ${describeFamilies(f.families)}`);
  return parts.join(', ');
}
