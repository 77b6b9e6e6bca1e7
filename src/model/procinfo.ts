/**
 * procinfo.ts: the detail view's process header (what a get_pid_info would return), read from
 * /proc while the process lives. Field names match the recording's process records
 * (src/record/format.ts ProcessInfo) so a replay can supply the same object. Values are the text
 * as /proc has it (UTF-8, invalid bytes as U+FFFD), controls included: whoever shows them escapes
 * them with showText (src/model/text.ts), as the detail view does for both sources.
 */
import * as fs from 'fs';

export interface ProcessDetails {
  pid: number;
  ppid?: number;
  comm?: string;
  cmdline?: string;
  uid?: number;
  user?: string;
  start_wall_ms?: number;
  threads?: number;
  /** R, S, D, Z... from /proc/<pid>/stat. */
  state?: string;
  from_proc?: boolean;
}

type ReadFile = (path: string) => string;

const readText: ReadFile = (p) => fs.readFileSync(p, 'utf8');

/** Boot time in ms since the epoch, from /proc/stat's btime (cached). */
let bootWallMs: number | undefined;

function bootTime(read: ReadFile): number | undefined {
  if (bootWallMs === undefined) {
    const m = /^btime\s+(\d+)/m.exec(read('/proc/stat'));
    if (m) bootWallMs = Number(m[1]) * 1000;
  }
  return bootWallMs;
}

/** undefined when the process is gone (or /proc is not readable). */
export function readProcDetails(pid: number, read: ReadFile = readText, clkTck = 100): ProcessDetails | undefined {
  try {
    const stat = read(`/proc/${pid}/stat`);
    // comm sits in parentheses and may itself contain spaces or ')': split after the last ')'.
    const close = stat.lastIndexOf(')');
    const comm = stat.slice(stat.indexOf('(') + 1, close);
    const rest = stat.slice(close + 2).split(' ');
    const status = read(`/proc/${pid}/status`);
    const uid = /^Uid:\s+(\d+)/m.exec(status);
    const cmdline = read(`/proc/${pid}/cmdline`).split('\0').filter((s) => s.length > 0).join(' ');
    const boot = bootTime(read);
    return {
      pid,
      comm,
      state: rest[0],
      ppid: Number(rest[1]),
      threads: Number(rest[17]),
      start_wall_ms: boot === undefined ? undefined : boot + (Number(rest[19]) / clkTck) * 1000,
      uid: uid ? Number(uid[1]) : undefined,
      cmdline,
      from_proc: true,
    };
  } catch {
    return undefined;
  }
}
