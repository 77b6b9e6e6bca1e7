/**
 * socket-table.ts: what the exporter remembers per socket, in typed arrays (no object per socket):
 * bytes reported so far (a CLOSE carries the socket's totals: only what SEND/RECV did not report is
 * added then), the TCP state (the open-sockets gauge is kept as counts per state, updated as states
 * change, so a scrape reads 12 numbers), and the owner's comm (for records made in softirq, which
 * carry none, and for the listen-sockets gauge).
 *
 * A closed socket is remembered a little longer (CLOSED_KEEP of them) so a second end-of-socket
 * report for it is not counted twice; the kernel reuses a freed socket's memory at once, so an
 * entry whose serial or ports differ from the record's is another socket.
 *
 * Sockets are found by their id's two 32-bit halves in an open-addressing table of Int32s, not a
 * Map: a 53-bit id is a heap number in V8, and a Map lookup with one allocates on every record
 * (measured: a minor GC every ~100k records, none with this table).
 */
import { Offset, TcpState } from '../capture/layout';

export const DEFAULT_MAX_SOCKETS = 65536;
const CLOSED_KEEP = 4096;
const STATES = 13;

export class SocketTable {
  /** Open TCP sockets per state (index: TCP state number; CLOSE and 0 are not counted). */
  readonly tcpStateCounts = new Float64Array(STATES);
  /** Open sockets dropped from the table because it was full (their close may count bytes twice). */
  evicted = 0;

  /** Hash slot -> entry (-1: empty); linear probing, backward-shift deletion. */
  private readonly slots: Int32Array;
  private readonly slotMask: number;
  private readonly keyLo: Uint32Array;
  private readonly keyHi: Uint32Array;
  private readonly used: Uint8Array;
  private count = 0;
  /** Next entry a full table evicts (round robin: roughly the longest known). */
  private evictHand = 0;
  private readonly open: Uint8Array;
  private readonly tcp: Uint8Array;
  private readonly state: Uint8Array;
  private readonly serial: Uint32Array;
  private readonly ports: Uint16Array;
  readonly comm: Uint32Array;
  /** The owner's place index (place-labels.ts), beside its comm. */
  readonly place: Int32Array;
  readonly sent: Float64Array;
  readonly received: Float64Array;
  private readonly generation: Uint32Array;
  private readonly free: Int32Array;
  private freeTop: number;
  private readonly closedIdx = new Int32Array(CLOSED_KEEP);
  private readonly closedGen = new Uint32Array(CLOSED_KEEP);
  private closedHead = 0;
  private closedCount = 0;

  constructor(readonly capacity = DEFAULT_MAX_SOCKETS) {
    let slots = 2;
    while (slots < capacity * 2) slots *= 2;
    this.slots = new Int32Array(slots).fill(-1);
    this.slotMask = slots - 1;
    this.keyLo = new Uint32Array(capacity);
    this.keyHi = new Uint32Array(capacity);
    this.used = new Uint8Array(capacity);
    this.open = new Uint8Array(capacity);
    this.tcp = new Uint8Array(capacity);
    this.state = new Uint8Array(capacity);
    this.serial = new Uint32Array(capacity);
    this.ports = new Uint16Array(capacity * 2);
    this.comm = new Uint32Array(capacity * 4);
    this.place = new Int32Array(capacity);
    this.sent = new Float64Array(capacity);
    this.received = new Float64Array(capacity);
    this.generation = new Uint32Array(capacity);
    this.free = new Int32Array(capacity);
    for (let i = 0; i < capacity; i++) this.free[i] = capacity - 1 - i;
    this.freeTop = capacity;
  }

  get size(): number {
    return this.count;
  }

  /** The entry of the record's socket (open, or recently closed), or -1. */
  find(view: DataView, off: number): number {
    const idx = this.lookup(view.getUint32(off + Offset.sock, true), view.getUint32(off + Offset.sock + 4, true));
    if (idx < 0) return -1;
    return this.sameSocket(idx, view, off) ? idx : -1;
  }

  isOpen(idx: number): boolean {
    return this.open[idx] === 1;
  }

  /** The record's socket as an open entry: `idx` if that is it and open, else a fresh one. */
  openEntry(idx: number, view: DataView, off: number): number {
    if (idx >= 0 && this.open[idx] === 1) {
      this.learnIdentity(idx, view, off);
      return idx;
    }
    const lo = view.getUint32(off + Offset.sock, true);
    const hi = view.getUint32(off + Offset.sock + 4, true);
    let entry = this.lookup(lo, hi);
    if (entry < 0) {
      entry = this.allocate();
      this.keyLo[entry] = lo;
      this.keyHi[entry] = hi;
      this.insert(entry);
    } else if (this.open[entry] === 1) {
      this.setState(entry, 0); // another socket under this key: the old one's end was missed
    }
    this.generation[entry]++;
    this.open[entry] = 1;
    this.tcp[entry] = view.getUint8(off + Offset.proto) === 6 ? 1 : 0;
    this.state[entry] = 0;
    this.sent[entry] = 0;
    this.received[entry] = 0;
    this.serial[entry] = 0;
    this.ports[entry * 2] = 0;
    this.ports[entry * 2 + 1] = 0;
    this.comm[entry * 4] = 0;
    this.place[entry] = 0;
    this.learnIdentity(entry, view, off);
    return entry;
  }

  /** Take the record's owner as the socket's (records from process context). */
  setComm(idx: number, view: DataView, off: number, place = 0): void {
    this.place[idx] = place;
    const c = off + Offset.comm;
    const i = idx * 4;
    this.comm[i] = view.getUint32(c, true);
    this.comm[i + 1] = view.getUint32(c + 4, true);
    this.comm[i + 2] = view.getUint32(c + 8, true);
    this.comm[i + 3] = view.getUint32(c + 12, true);
  }

  setState(idx: number, newState: number): void {
    if (this.tcp[idx] === 1 && this.open[idx] === 1) {
      const old = this.state[idx];
      if (counted(old)) this.tcpStateCounts[old]--;
      if (counted(newState)) this.tcpStateCounts[newState]++;
    }
    this.state[idx] = newState;
  }

  stateOf(idx: number): number {
    return this.state[idx];
  }

  /** The socket ended: out of the gauges, remembered a while against a second report. */
  close(idx: number): void {
    this.setState(idx, TcpState.Close);
    this.open[idx] = 0;
    if (this.closedCount === CLOSED_KEEP) this.forgetOldestClosed();
    const at = (this.closedHead + this.closedCount) % CLOSED_KEEP;
    this.closedIdx[at] = idx;
    this.closedGen[at] = this.generation[idx];
    this.closedCount++;
  }

  /** Walk the open entries (scrape time only). */
  forEachOpen(visit: (idx: number, state: number) => void): void {
    for (let idx = 0; idx < this.capacity; idx++) if (this.used[idx] === 1 && this.open[idx] === 1) visit(idx, this.state[idx]);
  }

  private home(lo: number, hi: number): number {
    return (Math.imul(lo ^ Math.imul(hi, 0x9e3779b1), 0x85ebca6b) ^ (lo >>> 15)) & this.slotMask;
  }

  private lookup(lo: number, hi: number): number {
    for (let i = this.home(lo, hi); ; i = (i + 1) & this.slotMask) {
      const e = this.slots[i];
      if (e < 0) return -1;
      if (this.keyLo[e] === lo && this.keyHi[e] === hi) return e;
    }
  }

  private insert(entry: number): void {
    let i = this.home(this.keyLo[entry], this.keyHi[entry]);
    while (this.slots[i] >= 0) i = (i + 1) & this.slotMask;
    this.slots[i] = entry;
    this.used[entry] = 1;
    this.count++;
  }

  /** Take `entry` out of the hash (backward-shift deletion: no tombstones to slow lookups). */
  private remove(entry: number): void {
    const mask = this.slotMask;
    let i = this.home(this.keyLo[entry], this.keyHi[entry]);
    while (this.slots[i] !== entry) i = (i + 1) & mask;
    for (let j = (i + 1) & mask; this.slots[j] >= 0; j = (j + 1) & mask) {
      const e = this.slots[j];
      const k = this.home(this.keyLo[e], this.keyHi[e]);
      // e may fill the hole at i if its home is not within (i, j] cyclically.
      if (((j - k) & mask) >= ((j - i) & mask)) {
        this.slots[i] = e;
        i = j;
      }
    }
    this.slots[i] = -1;
    this.used[entry] = 0;
    this.count--;
  }

  private forgetOldestClosed(): void {
    const idx = this.closedIdx[this.closedHead];
    const gen = this.closedGen[this.closedHead];
    this.closedHead = (this.closedHead + 1) % CLOSED_KEEP;
    this.closedCount--;
    // Reopened since (a new socket under the same key): it is not ours to forget.
    if (this.open[idx] === 0 && this.generation[idx] === gen) this.release(idx);
  }

  private release(idx: number): void {
    this.remove(idx);
    this.generation[idx]++;
    this.free[this.freeTop++] = idx;
  }

  private allocate(): number {
    if (this.freeTop === 0) this.evictOldest();
    return this.free[--this.freeTop];
  }

  /** Full: drop the entry under the round-robin hand (entries are handed out in order, so it
   *  is roughly the longest known). */
  private evictOldest(): void {
    const idx = this.evictHand;
    this.evictHand = (idx + 1) % this.capacity;
    if (this.open[idx] === 1) {
      this.setState(idx, 0);
      this.open[idx] = 0;
      this.evicted++;
    }
    this.release(idx);
  }

  private learnIdentity(idx: number, view: DataView, off: number): void {
    const serial = view.getUint32(off + Offset.serial, true);
    if (serial !== 0) this.serial[idx] = serial;
    const lport = view.getUint16(off + Offset.lport, true);
    const rport = view.getUint16(off + Offset.rport, true);
    if (lport !== 0) this.ports[idx * 2] = lport;
    if (rport !== 0) this.ports[idx * 2 + 1] = rport;
  }

  /** False when the record names another socket than the entry (freed memory reused). */
  private sameSocket(idx: number, view: DataView, off: number): boolean {
    const serial = view.getUint32(off + Offset.serial, true);
    if (serial !== 0 && this.serial[idx] !== 0) return serial === this.serial[idx];
    if (this.open[idx] === 1) return true;
    const lport = view.getUint16(off + Offset.lport, true);
    const rport = view.getUint16(off + Offset.rport, true);
    const known = this.ports;
    return !((lport !== 0 && known[idx * 2] !== 0 && lport !== known[idx * 2])
      || (rport !== 0 && known[idx * 2 + 1] !== 0 && rport !== known[idx * 2 + 1]));
  }
}

function counted(state: number): boolean {
  return state !== 0 && state !== TcpState.Close && state < STATES;
}
