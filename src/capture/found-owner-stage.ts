/**
 * found-owner-stage.ts: the process name of a socket socktop's walk found (a unix listener: the
 * kernel gives its listen() caller's pid, SO_PEERCRED, but no comm, as no process context ran the
 * walk). For a record marked inferred with a pid and an empty comm, this stage fills comm and uid
 * from /proc/PID, as the bytes /proc has them (whoever shows a comm escapes it: decode.ts). A
 * process gone by then keeps its empty comm. Cached per pid for a second (a walk reports many
 * sockets of one process at once). A process that started after the record was made is not the
 * one it names (a reused pid): its name is not used.
 */
import * as fs from 'fs';
import type { BatchStage } from './pipeline';
import { COMM_LEN, Flag2, Offset, RECORD_SIZE } from './layout';

interface Known {
  comm: Buffer;
  uid: number;
  /** When the process started, ns since boot (the clock of ts_ns, give or take suspend time). */
  startNs: bigint;
}

const CACHE_MS = 1000;
const TICK_NS = 10_000_000n; // USER_HZ 100: /proc's start times are in ticks

export class FoundOwnerStage implements BatchStage {
  private readonly known = new Map<number, Known | null>();
  private cacheStartMs = 0;

  constructor(private readonly procRoot = '/proc') {}

  batch(_staging: Uint8Array, view: DataView, count: number): void {
    for (let i = 0; i < count; i++) {
      const off = i * RECORD_SIZE;
      if ((view.getUint8(off + Offset.flags2) & Flag2.Inferred) === 0) continue;
      const pid = view.getUint32(off + Offset.pid, true);
      if (pid === 0 || view.getUint8(off + Offset.comm) !== 0) continue;
      const owner = this.owner(pid);
      if (owner && owner.startNs <= view.getBigUint64(off + Offset.ts_ns, true) + TICK_NS) writeOwner(view, off, owner);
    }
  }

  private owner(pid: number): Known | null {
    const now = Date.now();
    if (now - this.cacheStartMs > CACHE_MS) {
      this.known.clear();
      this.cacheStartMs = now;
    }
    let found = this.known.get(pid);
    if (found === undefined) {
      found = readOwner(this.procRoot, pid);
      this.known.set(pid, found);
    }
    return found;
  }
}

function readOwner(procRoot: string, pid: number): Known | null {
  try {
    const raw = fs.readFileSync(`${procRoot}/${pid}/comm`);
    const end = raw.indexOf(0x0a);
    const comm = raw.subarray(0, end < 0 ? raw.length : end).subarray(0, COMM_LEN - 1);
    const status = fs.readFileSync(`${procRoot}/${pid}/status`, 'utf8');
    const uid = /^Uid:\s+(\d+)/m.exec(status);
    // stat: comm in parentheses may hold anything: fields after the last ')'; starttime is field 22
    const stat = fs.readFileSync(`${procRoot}/${pid}/stat`, 'utf8');
    const startTicks = stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19];
    return { comm, uid: uid ? Number(uid[1]) : 0, startNs: BigInt(startTicks ?? '0') * TICK_NS };
  } catch {
    return null; // gone: the record keeps what the kernel said
  }
}

function writeOwner(view: DataView, off: number, owner: Known): void {
  for (let i = 0; i < COMM_LEN; i++) view.setUint8(off + Offset.comm + i, i < owner.comm.length ? owner.comm[i] : 0);
  view.setUint32(off + Offset.uid, owner.uid, true);
}
