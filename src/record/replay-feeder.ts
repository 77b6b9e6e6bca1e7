/**
 * replay-feeder.ts: the replay worker's two moving parts, apart from its control loop:
 * - ReplayClock: where the replay is (ns after the first record), from the wall clock, the speed
 *   and pauses;
 * - RecordFeeder: pushes the recording's records into the shared ring in order, as far as they are
 *   due and the ring has room, announcing each process before its first record. Never drops.
 */
import { performance } from 'perf_hooks';
import { RECORD_SIZE } from '../capture/layout';
import type { SharedRing } from '../capture/ring';
import type { ProcessInfo } from './format';
import { RecordBatch, Recording, tsAt } from './reader';
import type { RecordCursor } from './record-cursor';

/** Records per pushBatch at most (bounded so controls are checked often). */
const STEP_RECORDS = 4096;

export const enum Feed {
  /** The limit (or the end) is reached. */
  Limit = 0,
  /** The ring is full. */
  Full = 1,
  /** The next record is not due yet. */
  NotDue = 2,
}

export class ReplayClock {
  speed: number;
  paused: boolean;
  ended = false;
  private basePos = 0;
  private baseWall = performance.now();

  /** `lastRel`: how far the records pushed so far reach (the position at speed 0). */
  constructor(readonly durationNs: number, speed: number, paused: boolean, private readonly lastRel: () => number) {
    this.speed = speed;
    this.paused = paused;
  }

  position(): number {
    if (this.ended) return this.durationNs;
    if (this.paused) return this.basePos;
    if (this.speed === 0) return this.lastRel();
    return this.clamp(this.basePos + (performance.now() - this.baseWall) * 1e6 * this.speed);
  }

  /** A new speed or pause state from now on, continuing from the current position. */
  change(speed: number, paused: boolean): void {
    this.moveTo(this.position());
    this.speed = speed >= 0 && Number.isFinite(speed) ? speed : 1;
    this.paused = paused;
  }

  moveTo(positionNs: number): void {
    this.basePos = positionNs;
    this.baseWall = performance.now();
  }

  clamp(p: number): number {
    return p < 0 ? 0 : p > this.durationNs ? this.durationNs : p;
  }
}

export class RecordFeeder {
  private readonly cursor: RecordCursor;
  private pending: RecordBatch | null = null;
  private pendDone = 0;
  /** Running maximum timestamp of the records pushed (they are not strictly ordered across CPUs). */
  private runMax = -Infinity;
  private procIdx = 0;

  constructor(
    private readonly rec: Recording,
    private readonly ring: SharedRing,
    private readonly announce: (info: ProcessInfo) => void,
  ) {
    this.cursor = rec.cursor();
  }

  /** Index of the next record to push. */
  pushedIndex(): number {
    return this.pending ? this.pending.first + this.pendDone : this.cursor.position;
  }

  /** How far the pushed records reach, ns after the first record. */
  lastRel(): number {
    return this.runMax === -Infinity ? 0 : Math.min(this.rec.durationNs, this.runMax - this.rec.firstTsNs);
  }

  atEnd(): boolean {
    return (!this.pending || this.pendDone >= this.pending.count) && this.cursor.atEnd();
  }

  /** When the next record is due, ns after the first record (NaN when none waits). */
  nextDueRel(): number {
    if (!this.pending || this.pendDone >= this.pending.count) return Number.NaN;
    return Math.max(this.runMax, tsAt(this.pending.bytes, this.pendDone * RECORD_SIZE)) - this.rec.firstTsNs;
  }

  /** Back to the first record (a backward seek, once the consumer has reset). */
  rewind(): void {
    this.cursor.seek(0);
    this.pending = null;
    this.pendDone = 0;
    this.runMax = -Infinity;
    this.procIdx = 0;
  }

  /** Announce every process described before record `before`. */
  announceUntil(before: number): void {
    const procs = this.rec.processes;
    while (this.procIdx < procs.length && procs[this.procIdx].atRecord < before) {
      this.announce(procs[this.procIdx].info);
      this.procIdx++;
    }
  }

  /**
   * Push records with index < limit whose running-maximum timestamp is at most dueRel after the
   * first record, as far as the ring has room.
   */
  feed(limit: number, dueRel: number): Feed {
    const ring = this.ring;
    for (;;) {
      if (!this.pending || this.pendDone >= this.pending.count) {
        if (this.cursor.position >= limit) return Feed.Limit;
        this.pending = this.cursor.next(Math.min(limit - this.cursor.position, STEP_RECORDS));
        this.pendDone = 0;
        if (!this.pending) return Feed.Limit;
      }
      const pending = this.pending;
      const start = pending.first + this.pendDone;
      if (start >= limit) return Feed.Limit;
      const free = ring.capacity - ring.available();
      if (free <= 0) return Feed.Full;
      const stop = this.pendDone + Math.min(pending.count - this.pendDone, free, limit - start);
      const { k, max } = this.dueRun(pending.bytes, this.pendDone, stop, this.rec.firstTsNs + dueRel);
      if (k === this.pendDone) return Feed.NotDue;
      this.announceUntil(pending.first + k);
      ring.pushBatch(pending.bytes.subarray(this.pendDone * RECORD_SIZE, k * RECORD_SIZE), k - this.pendDone);
      this.runMax = max;
      this.pendDone = k;
      if (k < stop) return Feed.NotDue;
    }
  }

  /** The records from `from` (before `stop`) that are due by `dueAbs`: up to index k, running max. */
  private dueRun(b: Uint8Array, from: number, stop: number, dueAbs: number): { k: number; max: number } {
    let m = this.runMax;
    let k = from;
    for (let at = k * RECORD_SIZE; k < stop; k++, at += RECORD_SIZE) {
      const t = tsAt(b, at);
      const mm = t > m ? t : m;
      if (mm > dueAbs) break;
      m = mm;
    }
    return { k, max: m };
  }
}
