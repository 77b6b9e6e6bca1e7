import { describeFamilies, Families } from './families';

/**
 * filter.ts: the PID list filter (`123,456`, ranges `100-200`, `!123` excludes) and the command
 * name filter, shared by the TUI prompt, `-p`/`--comm`, batch mode and `--json`.
 */

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
  /** Socket families shown (--family, u): null or absent for all. The model applies it at ingest. */
  families?: Families;
}

export const NO_FILTER: RowFilter = { pids: null, comm: null, follow: null };

export function rowMatches(f: RowFilter, pid: number, comm: string): boolean {
  if (f.follow !== null && pid !== f.follow) return false;
  if (f.pids && !f.pids.matches(pid)) return false;
  return commMatches(f.comm, comm);
}

export function describeFilter(f: RowFilter): string {
  const parts: string[] = [];
  if (f.follow !== null) parts.push(`follow ${f.follow}`);
  if (f.pids) parts.push(`pid ${f.pids.text}`);
  if (f.comm) parts.push(`comm ~ ${f.comm}`);
  if (f.families) parts.push(`family ${describeFamilies(f.families)}`);
  return parts.join(', ');
}
