/**
 * procfs.ts: what /proc says about a live process (comm, cmdline, ppid, uid and user, start time,
 * threads, state): the one /proc reader, used by the recorder (PROCESS frames) and by the detail
 * view of a live session. Values are the text as /proc has it (UTF-8, invalid bytes as U+FFFD),
 * controls included: whoever shows them escapes them (src/model/text.ts showText).
 */
import * as fs from 'fs';
import { UserNames } from './users';
import { cgroupIdOfPath, cgroupPathOfPid, hostCgroupRoot, netnsOfPid } from './cgroups';

export interface ProcessDetails {
  pid: number;
  ppid?: number;
  comm?: string;
  /** Command line, arguments joined by spaces (empty for kernel threads). */
  cmdline?: string;
  uid?: number;
  user?: string;
  /** Process start, ms since the epoch. */
  start_wall_ms?: number;
  threads?: number;
  /** R, S, D, Z... from /proc/<pid>/stat. */
  state?: string;
  /** False when /proc/<pid> had gone already: only what an event record said is known. */
  from_proc?: boolean;
  /** Network namespace inode (/proc/<pid>/ns/net). */
  netns?: number;
  /** cgroup v2 path relative to the cgroup root (/proc/<pid>/cgroup), and its id (directory inode). */
  cgroup?: string;
  cgroup_id?: number;
}

let cgroupRoot: string | null | undefined;

const CLK_TCK = 100; // USER_HZ on every Linux architecture socktop runs on
const hostUsers = new UserNames();
const bootWallMs = new Map<string, number | undefined>();

/** Boot time in ms since the epoch, from <procRoot>/stat's btime (read once per root). */
function bootTime(procRoot: string): number | undefined {
  if (!bootWallMs.has(procRoot)) {
    let ms: number | undefined;
    try {
      const m = /^btime\s+(\d+)/m.exec(fs.readFileSync(`${procRoot}/stat`, 'utf8'));
      if (m) ms = Number(m[1]) * 1000;
    } catch {
      ms = undefined; // unknown: no start times
    }
    bootWallMs.set(procRoot, ms);
  }
  return bootWallMs.get(procRoot);
}

/** undefined when the process has gone (or /proc is not readable). */
export function readProcDetails(pid: number, procRoot = '/proc', users: UserNames = hostUsers): ProcessDetails | undefined {
  let stat: string;
  let status: string;
  try {
    stat = fs.readFileSync(`${procRoot}/${pid}/stat`, 'utf8');
    status = fs.readFileSync(`${procRoot}/${pid}/status`, 'utf8');
  } catch {
    return undefined;
  }
  const info: ProcessDetails = { pid, from_proc: true };
  // comm sits in parentheses and may itself contain spaces or ')': split after the last ')'.
  const open = stat.indexOf('(');
  const close = stat.lastIndexOf(')');
  if (open >= 0 && close > open) {
    info.comm = stat.slice(open + 1, close);
    const f = stat.slice(close + 2).split(' ');
    // f[0] = state (field 3), f[1] = ppid (4), f[17] = num_threads (20), f[19] = starttime (22)
    info.state = f[0];
    info.ppid = Number(f[1]);
    info.threads = Number(f[17]);
    const startTicks = Number(f[19]);
    const boot = bootTime(procRoot);
    if (boot !== undefined && Number.isFinite(startTicks)) {
      info.start_wall_ms = Math.round(boot + (startTicks * 1000) / CLK_TCK);
    }
  }
  const uid = /^Uid:\s+(\d+)/m.exec(status);
  if (uid) {
    info.uid = Number(uid[1]);
    info.user = users.name(info.uid);
  }
  const netns = netnsOfPid(pid, procRoot);
  if (netns) info.netns = netns;
  const cgroup = cgroupPathOfPid(pid, procRoot);
  if (cgroup !== undefined) {
    info.cgroup = cgroup;
    if (cgroupRoot === undefined) cgroupRoot = hostCgroupRoot();
    const id = procRoot === '/proc' ? cgroupIdOfPath(cgroupRoot, cgroup) : 0;
    if (id) info.cgroup_id = id;
  }
  try {
    const raw = fs.readFileSync(`${procRoot}/${pid}/cmdline`, 'utf8');
    info.cmdline = raw.replace(/\0+$/, '').split('\0').join(' ');
  } catch {
    info.cmdline = '';
  }
  return info;
}

/**
 * The parent pid of a live process from <procRoot>/<pid>/stat alone (one small read, for the tree
 * view at a process's first sight); undefined when it has gone.
 */
export function readParentPid(pid: number, procRoot = '/proc'): number | undefined {
  let stat: string;
  try {
    stat = fs.readFileSync(`${procRoot}/${pid}/stat`, 'latin1');
  } catch {
    return undefined;
  }
  // After the comm's closing parenthesis: " S 1234 ..." (state, then ppid).
  const close = stat.lastIndexOf(')');
  if (close < 0) return undefined;
  const ppid = Number.parseInt(stat.slice(close + 4), 10);
  return Number.isInteger(ppid) && ppid >= 0 ? ppid : undefined;
}

/** The command name of a live process from <procRoot>/<pid>/comm; undefined when it has gone. */
export function readProcComm(pid: number, procRoot = '/proc'): string | undefined {
  try {
    return fs.readFileSync(`${procRoot}/${pid}/comm`, 'utf8').replace(/\n$/, '');
  } catch {
    return undefined;
  }
}
