/**
 * snapshot.ts: the inet sockets that existed before socktop started, so a server that was already
 * running shows its listening ports and open connections from the first frame.
 *
 * Source: /proc/PID/net/{tcp,tcp6,udp,udp6} (tuple, state, inode) of one process in each network
 * namespace (every namespace some process is in: containers, `ip netns`, `unshare -n`), joined with
 * /proc/PID/fd links ("socket:[inode]", unique across namespaces) for the owner. Each socket carries
 * its namespace (the inode of /proc/PID/ns/net) and its owner's cgroup v2 id (from
 * /proc/PID/cgroup: the cgroup the owner runs in now, which created the socket in all but rare
 * cases). Limits: only sockets some process still holds (TIME_WAIT and orphans have no owner and
 * are skipped); a namespace no process is in (a bind-mounted `ip netns` with nothing running) has
 * no /proc/PID/net to read.
 */
import * as fs from 'fs';
import { cgroupIdOfPath, cgroupPathOfPid, hostCgroupRoot } from './cgroups';
import { AF_INET, AF_INET6, IPPROTO_TCP, IPPROTO_UDP } from './layout';

export interface ExistingSocket {
  family: number;
  proto: number;
  laddr: Uint8Array; // 16 bytes, IPv4 in the first 4
  lport: number;
  raddr: Uint8Array;
  rport: number;
  state: number; // TCP state number; UDP: 7 (CLOSE) or 1 (ESTABLISHED, connected)
  inode: number;
  uid: number;
  pid: number;
  comm: string;
  /** Network namespace inode (0: not known). */
  netns: number;
  /** cgroup v2 id of the owner (0: not known). */
  cgroupId: number;
}

/** Processes kept per namespace to read its tables through (one may end during the scan). */
const MAX_READERS = 3;

const TABLES: Array<{ file: string; family: number; proto: number }> = [
  { file: 'tcp', family: AF_INET, proto: IPPROTO_TCP },
  { file: 'tcp6', family: AF_INET6, proto: IPPROTO_TCP },
  { file: 'udp', family: AF_INET, proto: IPPROTO_UDP },
  { file: 'udp6', family: AF_INET6, proto: IPPROTO_UDP },
];

/**
 * What the snapshot could not see. Listing another process's fds takes ptrace access to it and
 * read access to its /proc/PID/fd (root has both; a capability-only run needs CAP_SYS_PTRACE and
 * CAP_DAC_READ_SEARCH): without them its sockets are in /proc/net with no owner, and left out.
 */
export interface SnapshotSummary {
  /** Sockets in the snapshot (each with its owner). */
  sockets: number;
  /** Processes whose fds could not be listed (EACCES/EPERM). */
  hiddenProcesses: number;
  /** Sockets left out: held (by their uid) by such processes, so no owner was found. */
  hiddenSockets: number;
  /** Network namespaces whose tables were read. */
  namespaces: number;
}

/** Read every inet socket, in every network namespace, that a live process holds. */
export function readExistingSockets(procRoot = '/proc'): ExistingSocket[] {
  return readSnapshot(procRoot).sockets;
}

/** The sockets, and what could not be seen (snapshot.ts's SnapshotSummary). */
export function readSnapshot(procRoot = '/proc'): { sockets: ExistingSocket[]; summary: SnapshotSummary } {
  const { owners, hiddenUids, hiddenProcesses, namespaces } = socketOwners(procRoot);
  const out: ExistingSocket[] = [];
  const cgroups = new CgroupIds(procRoot);
  let hiddenSockets = 0;
  for (const [netns, readers] of namespaces) {
    // Our own namespace through /proc/net (also when /proc/PID/ns/net could not be read at all);
    // another through a process in it (the next one, if that one ended meanwhile).
    const dirs = readers.map((pid) => (pid === 0 ? `${procRoot}/net` : `${procRoot}/${pid}/net`));
    const dir = dirs.find((d) => fs.existsSync(`${d}/tcp`)) ?? dirs[0];
    for (const t of TABLES) {
      for (const row of readTable(`${dir}/${t.file}`, t.family, t.proto)) {
        const owner = owners.get(row.inode);
        if (!owner) {
          // No owner: a socket that came or went during the scan, or one of a process we may not read.
          if (hiddenUids.has(row.uid)) hiddenSockets++;
          continue;
        }
        out.push({ ...row, pid: owner.pid, comm: owner.comm, netns, cgroupId: cgroups.of(owner.pid) });
      }
    }
  }
  return { sockets: out, summary: { sockets: out.length, hiddenProcesses, hiddenSockets, namespaces: namespaces.size } };
}

/** Owners' cgroup ids: /proc/PID/cgroup's path, its directory's inode (one stat per path). */
class CgroupIds {
  private readonly root = hostCgroupRoot();
  private readonly byPath = new Map<string, number>();
  private readonly byPid = new Map<number, number>();

  constructor(private readonly procRoot: string) {}

  of(pid: number): number {
    let id = this.byPid.get(pid);
    if (id !== undefined) return id;
    const path = cgroupPathOfPid(pid, this.procRoot);
    id = 0;
    if (path !== undefined) {
      id = this.byPath.get(path) ?? cgroupIdOfPath(this.root, path);
      this.byPath.set(path, id);
    }
    this.byPid.set(pid, id);
    return id;
  }
}

type Row = Omit<ExistingSocket, 'pid' | 'comm' | 'netns' | 'cgroupId'>;

function readTable(path: string, family: number, proto: number): Row[] {
  let text: string;
  try {
    text = fs.readFileSync(path, 'latin1');
  } catch {
    return []; // e.g. IPv6 disabled
  }
  const rows: Row[] = [];
  for (const line of text.split('\n').slice(1)) {
    const f = line.trim().split(/\s+/);
    if (f.length < 10) continue;
    const [laddrHex, lportHex] = f[1].split(':');
    const [raddrHex, rportHex] = f[2].split(':');
    const inode = Number(f[9]);
    if (!inode) continue;
    rows.push({
      family, proto, inode,
      laddr: parseProcAddress(laddrHex),
      lport: parseInt(lportHex, 16),
      raddr: parseProcAddress(raddrHex),
      rport: parseInt(rportHex, 16),
      state: parseInt(f[3], 16),
      uid: Number(f[7]),
    });
  }
  return rows;
}

/**
 * /proc/net prints each address as 32-bit words in host byte order ("0100007F" is 127.0.0.1 on a
 * little-endian machine): turn them back into network-order bytes.
 */
export function parseProcAddress(hex: string): Uint8Array {
  const out = new Uint8Array(16);
  for (let w = 0; w * 8 < hex.length; w++) {
    const word = parseInt(hex.slice(w * 8, w * 8 + 8), 16);
    out[w * 4] = word & 0xff;
    out[w * 4 + 1] = (word >>> 8) & 0xff;
    out[w * 4 + 2] = (word >>> 16) & 0xff;
    out[w * 4 + 3] = (word >>> 24) & 0xff;
  }
  return out;
}

interface Owners {
  /** inode -> the first process found holding "socket:[inode]". */
  owners: Map<number, { pid: number; comm: string }>;
  /** Processes whose fds could not be listed or read for lack of permission, and their uids. */
  hiddenProcesses: number;
  hiddenUids: Set<number>;
  /** netns inode -> a few pids in it whose /proc/PID/net shows it (0: read /proc/net, our own). */
  namespaces: Map<number, number[]>;
}

function deniedError(e: unknown): boolean {
  const code = (e as { code?: unknown }).code;
  return code === 'EACCES' || code === 'EPERM';
}

function socketOwners(procRoot: string): Owners {
  const owners = new Map<number, { pid: number; comm: string }>();
  const hiddenUids = new Set<number>();
  const namespaces = new Map<number, number[]>();
  const own = inodeOf(`${procRoot}/self/ns/net`);
  namespaces.set(own, [0]);
  let hiddenProcesses = 0;
  const hide = (name: string): void => {
    hiddenProcesses++;
    try {
      hiddenUids.add(fs.statSync(`${procRoot}/${name}`).uid); // /proc/PID itself: anyone may stat it
    } catch {
      // gone meanwhile
    }
  };
  for (const name of safeReaddir(procRoot)) {
    if (!/^\d+$/.test(name)) continue;
    const pid = Number(name);
    // Each namespace is read once, through a process found in it (kernel threads and processes we
    // may not inspect give EACCES/ENOENT: their namespaces, if any, come from others).
    const netns = inodeOf(`${procRoot}/${name}/ns/net`);
    const readers = namespaces.get(netns);
    if (netns !== 0 && !readers) namespaces.set(netns, [pid]);
    else if (netns !== 0 && readers!.length < MAX_READERS && readers![0] !== 0) readers!.push(pid);
    let comm: string | undefined;
    let fds: string[];
    try {
      fds = fs.readdirSync(`${procRoot}/${name}/fd`);
    } catch (e) {
      if (deniedError(e)) hide(name);
      continue; // else: the process ended meanwhile
    }
    for (const fd of fds) {
      let link: string;
      try {
        link = fs.readlinkSync(`${procRoot}/${name}/fd/${fd}`);
      } catch (e) {
        if (deniedError(e)) {
          hide(name); // the directory was readable (CAP_DAC_READ_SEARCH) but the links need ptrace access
          break;
        }
        continue; // the fd closed meanwhile
      }
      const m = /^socket:\[(\d+)\]$/.exec(link);
      if (!m) continue;
      const inode = Number(m[1]);
      if (owners.has(inode)) continue;
      comm ??= readComm(procRoot, name);
      owners.set(inode, { pid, comm });
    }
  }
  return { owners, hiddenProcesses, hiddenUids, namespaces };
}

function inodeOf(path: string): number {
  try {
    return fs.statSync(path).ino;
  } catch {
    return 0;
  }
}

/**
 * The comm as bytes in a latin1 string (one char per byte): writeOwner (attribution.ts) writes
 * them back into records unchanged, and readComm (decode.ts) decodes them as UTF-8. Only the
 * newline /proc adds goes: trim() would also eat a trailing 0xA0 byte, the end of a UTF-8 'à'.
 */
function readComm(procRoot: string, pid: string): string {
  try {
    return fs.readFileSync(`${procRoot}/${pid}/comm`, 'latin1').replace(/\n$/, '');
  } catch {
    return '';
  }
}

function safeReaddir(dir: string): string[] {
  try {
    return fs.readdirSync(dir);
  } catch {
    return [];
  }
}
