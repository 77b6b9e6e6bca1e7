/**
 * snapshot.ts: the inet sockets that existed before socktop started, so a server that was already
 * running shows its listening ports and open connections from the first frame.
 *
 * Source: /proc/net/{tcp,tcp6,udp,udp6} (tuple, state, inode) joined with /proc/PID/fd links
 * ("socket:[inode]") for the owner. Limits: only the network namespace socktop runs in, and only
 * sockets some process still holds (TIME_WAIT and orphans have no owner and are skipped).
 */
import * as fs from 'fs';
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
}

const TABLES: Array<{ file: string; family: number; proto: number }> = [
  { file: 'tcp', family: AF_INET, proto: IPPROTO_TCP },
  { file: 'tcp6', family: AF_INET6, proto: IPPROTO_TCP },
  { file: 'udp', family: AF_INET, proto: IPPROTO_UDP },
  { file: 'udp6', family: AF_INET6, proto: IPPROTO_UDP },
];

/** Read every inet socket of this network namespace that a live process holds. */
export function readExistingSockets(procRoot = '/proc'): ExistingSocket[] {
  const owners = socketOwners(procRoot);
  const out: ExistingSocket[] = [];
  for (const t of TABLES) {
    for (const row of readTable(`${procRoot}/net/${t.file}`, t.family, t.proto)) {
      const owner = owners.get(row.inode);
      if (!owner) continue;
      out.push({ ...row, pid: owner.pid, comm: owner.comm });
    }
  }
  return out;
}

type Row = Omit<ExistingSocket, 'pid' | 'comm'>;

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

/** inode -> the first process found holding "socket:[inode]". */
function socketOwners(procRoot: string): Map<number, { pid: number; comm: string }> {
  const owners = new Map<number, { pid: number; comm: string }>();
  for (const name of safeReaddir(procRoot)) {
    if (!/^\d+$/.test(name)) continue;
    const pid = Number(name);
    let comm: string | undefined;
    for (const fd of safeReaddir(`${procRoot}/${name}/fd`)) {
      let link: string;
      try {
        link = fs.readlinkSync(`${procRoot}/${name}/fd/${fd}`);
      } catch {
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
  return owners;
}

function readComm(procRoot: string, pid: string): string {
  try {
    return fs.readFileSync(`${procRoot}/${pid}/comm`, 'latin1').trim();
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
