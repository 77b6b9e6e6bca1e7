/**
 * replay-source.ts: the main-thread side of a replay. Starts the replay worker, owns the SharedRing
 * it feeds (the UI drains it exactly like the live capture's ring) and exposes the replay controls.
 *
 *     const src = await ReplaySource.open(file, { speed: 1, paused: false });
 *     src.on('reset', () => model.reset());          // backward seek: start over (see below)
 *     src.on('process', (info) => model.setProcessInfo(info));
 *     src.on('end', () => ...);
 *     every tick: src.ring.drain(visitor); bar = src.progress();
 *     keys: src.togglePause(); src.faster(); src.slower(); src.seekBy(±10e9); src.seekStart(); src.seekEnd();
 *     await src.stop();
 *
 * Backward seeks: the worker posts 'reset' after the last record it pushed before the seek; this
 * class then discards whatever is still in the ring (on the consumer thread, so nothing of the new
 * pass is lost), emits 'reset' so the model starts over, and acknowledges; only then does the worker
 * re-feed from the start up to the target, at full speed. Listeners of 'reset' must run
 * synchronously.
 */
import { EventEmitter } from 'events';
import * as path from 'path';
import { Worker } from 'worker_threads';
import { RECORD_SIZE } from '../capture/layout';
import { SharedRing } from '../capture/ring';
import { cgroupPathsOf, ProcessInfo, RecordingError, RecordingErrorCode, formatClock } from './format';
import { Ctl, Pos, ReplayControl } from './replay-control';
import type { ReplayProgress, ReplayReadyInfo, ReplayWorkerData } from './replay-worker';
import type { DataSource, ReplayAction, SourceInfo, SourceStats } from '../source';
import { firstLine } from '../one-line';

export type { ReplayProgress, ReplayReadyInfo } from './replay-worker';

export interface ReplayOptions {
  /** 1 = real time, 2 = twice as fast, 0 = as fast as the consumer drains. Default 1. */
  speed?: number;
  /** Start paused (nothing pushed until resume or a seek). Default false. */
  paused?: boolean;
  /** Ring capacity in records (rounded up to a power of two). Default 65536. */
  ringCapacity?: number;
  /** Use an existing ring instead of creating one. */
  ring?: SharedRing;
  progressIntervalMs?: number;
  /** Abandon the open when this aborts (Ctrl-C): the worker is terminated, open() rejects EINTR. */
  signal?: AbortSignal;
}

/** ReplayAction (src/ui/source.ts) plus the replay keys it may not list yet. */
export type ReplayControlAction =
  | ReplayAction | 'toggle-pause' | 'pause' | 'resume' | 'seek-start' | 'seek-end';

export interface ReplayStats {
  /** Records pushed into the ring since the last reset. */
  events: number;
  totalRecords: number;
  /** Ring drops: always 0 for a replay (the worker waits for room), kept for the live shape. */
  drops: number;
  /** DROPS records in the recording and the events they say were lost while recording. */
  recordedDropRecords: number;
  recordedDroppedEvents: number;
  ringFill: number;
  ringCapacity: number;
}

/** Speeds the +/- keys step through. */
export const SPEEDS = [0.1, 0.25, 0.5, 1, 2, 4, 8, 16, 32, 64, 128];

export class ReplaySource extends EventEmitter implements DataSource {
  readonly kind = 'replay' as const;
  readonly ring: SharedRing;
  readonly path: string;
  info!: ReplayReadyInfo;
  private readonly ctl: ReplayControl;
  private readonly worker: Worker;
  private readonly procs = new Map<number, ProcessInfo>();
  /** cgroup id -> path, from the recording's PROCESS frames (their "cgroups" and "cgroup" keys). */
  private readonly cgroups = new Map<number, string>();
  private lastProgress: ReplayProgress | null = null;
  private stopped = false;
  private exited: Promise<void>;
  private endedFlag = false;
  private failure: RecordingError | null = null;

  /** Start a replay; resolves once the worker has validated the file (rejects with RecordingError). */
  static open(file: string, opts: ReplayOptions = {}): Promise<ReplaySource> {
    const src = new ReplaySource(file, opts);
    return new Promise((resolve, reject) => {
      const cleanup = (): void => {
        src.off('ready', onReady);
        src.off('error', onError);
        opts.signal?.removeEventListener('abort', onAbort);
      };
      const onReady = (): void => {
        cleanup();
        resolve(src);
      };
      const onError = (e: Error): void => {
        cleanup();
        void src.stop();
        reject(e);
      };
      const onAbort = (): void => {
        cleanup();
        // The worker may be deep in a long scan: do not wait for it to notice a stop request.
        src.stopped = true;
        void src.worker.terminate();
        reject(new RecordingError('EINTR', `${file}: interrupted`));
      };
      src.once('ready', onReady);
      src.once('error', onError);
      if (opts.signal?.aborted) onAbort();
      else opts.signal?.addEventListener('abort', onAbort, { once: true });
    });
  }

  private constructor(file: string, opts: ReplayOptions) {
    super();
    this.path = file;
    this.ring = opts.ring ?? SharedRing.create(opts.ringCapacity ?? 1 << 16, RECORD_SIZE);
    const speed = opts.speed ?? 1;
    if (!(speed >= 0) || !Number.isFinite(speed)) throw new RangeError(`invalid speed ${speed}`);
    this.ctl = ReplayControl.create(speed, opts.paused ?? false);
    const data: ReplayWorkerData = {
      ringSab: this.ring.sab,
      path: file,
      controlSab: this.ctl.sab,
      progressIntervalMs: opts.progressIntervalMs,
    };
    this.worker = new Worker(path.join(__dirname, 'replay-worker.js'), { workerData: data });
    this.worker.on('message', (m) => this.onMessage(m));
    this.exited = new Promise((resolve) => {
      this.worker.once('exit', () => resolve());
    });
    this.worker.on('error', (e) => {
      this.failure = new RecordingError('EIO', `replay worker failed: ${firstLine(String(e.message))}`);
      if (this.listenerCount('error') > 0) this.emit('error', this.failure);
    });
  }

  private onMessage(m: { type: string; [k: string]: unknown }): void {
    switch (m.type) {
      case 'ready':
        this.info = m.info as ReplayReadyInfo;
        this.emit('ready', this.info);
        break;
      case 'process': {
        const info = m.info as ProcessInfo;
        this.noteCgroups(info);
        const old = this.procs.get(info.pid);
        // A process described from /proc is better than the record-only fallback of a late event.
        if (!old || info.from_proc !== false || old.from_proc === false) this.procs.set(info.pid, info);
        this.emit('process', info);
        break;
      }
      case 'progress': {
        const { type: _t, ...p } = m;
        this.lastProgress = p as unknown as ReplayProgress;
        this.emit('progress', this.lastProgress);
        break;
      }
      case 'reset': {
        // Everything in the ring now was pushed before the seek: drop it, then let the model reset.
        this.ring.drain(() => undefined);
        this.endedFlag = false;
        this.emit('reset');
        this.ctl.set(Ctl.ResetAck, m.seq as number);
        this.ctl.wake();
        break;
      }
      case 'end':
        this.endedFlag = true;
        this.emit('end', m.records as number);
        break;
      case 'error':
        this.failure = new RecordingError(m.code as RecordingErrorCode, String(m.message));
        if (this.listenerCount('error') > 0) this.emit('error', this.failure);
        break;
      case 'stopped':
        break;
    }
  }

  /** One line: file, host, kernel, when, records, duration. */
  summary(): string {
    const i = this.info;
    if (!i) return `replay of ${this.path}`;
    const when = i.startWallMs ? new Date(i.startWallMs).toISOString().replace('T', ' ').slice(0, 19) : '?';
    return `replay of ${path.basename(this.path)}: ${i.host} (${i.kernel}), ${when} UTC, ` +
      `${i.records} events over ${formatClock(i.durationNs)}, ${i.backend || 'unknown'} backend`;
  }

  /** DataSource: what the header shows. */
  describe(): SourceInfo {
    const i = this.info;
    return {
      mode: 'replay',
      backend: i?.backend ?? '',
      host: i?.host ?? '',
      kernel: i?.kernel ?? '',
      detail: this.summary(),
    };
  }

  /** DataSource: cheap, once per frame. */
  stats(): SourceStats {
    const p = this.progress();
    return {
      sharedRingDrops: this.ring.drops(),
      replay: { positionNs: p.positionNs, durationNs: p.durationNs, speed: p.speed, paused: p.paused, ended: p.ended },
    };
  }

  /** DataSource: "now" on the recorded clock: first record's timestamp + position. */
  clockNs(): number {
    return (this.info?.firstTsNs ?? 0) + this.ctl.f64[Pos.Position];
  }

  /** DataSource: everything pushed (the worker stays for seeks until stop()). */
  finished(): boolean {
    return this.endedFlag;
  }

  /** DataSource: the replay keys. */
  control(action: ReplayControlAction): void {
    switch (action) {
      case 'speed-up': this.faster(); break;
      case 'speed-down': this.slower(); break;
      case 'seek-back': this.seekBy(-10e9); break;
      case 'seek-forward': this.seekBy(10e9); break;
      case 'toggle-pause': this.togglePause(); break;
      case 'pause': this.pause(); break;
      case 'resume': this.resume(); break;
      case 'seek-start': this.seekStart(); break;
      case 'seek-end': this.seekEnd(); break;
    }
  }

  /** DataSource: called (synchronously) when a backward seek starts the replay over. */
  onReset(listener: () => void): void {
    this.on('reset', listener);
  }

  /** Counters beyond the DataSource stats. */
  replayStats(): ReplayStats {
    return {
      events: this.ctl.f64[Pos.Pushed],
      totalRecords: this.ctl.f64[Pos.Total],
      drops: this.ring.drops(),
      recordedDropRecords: this.info?.dropRecords ?? 0,
      recordedDroppedEvents: this.info?.droppedEvents ?? 0,
      ringFill: this.ring.available(),
      ringCapacity: this.ring.capacity,
    };
  }

  get warnings(): string[] {
    return this.info?.warnings ?? [];
  }

  /** Current position, read from shared memory (fresh, no message needed). */
  progress(): ReplayProgress {
    const f = this.ctl.f64;
    return {
      positionNs: f[Pos.Position],
      durationNs: f[Pos.Duration],
      records: f[Pos.Pushed],
      totalRecords: f[Pos.Total],
      speed: f[Pos.Speed],
      paused: this.ctl.get(Ctl.Paused) === 1,
      ended: this.endedFlag,
    };
  }

  private noteCgroups(info: ProcessInfo): void {
    for (const [id, path] of cgroupPathsOf(info)) this.cgroups.set(id, path);
  }

  /** The recorded path of a cgroup id (names containers in a replay on any host). */
  cgroupPath(cgroupId: number): string | undefined {
    return this.cgroups.get(cgroupId);
  }

  /** Process metadata recorded for pid (the latest seen so far in the replay). */
  processInfo(pid: number): ProcessInfo | undefined {
    return this.procs.get(pid);
  }

  processes(): ReadonlyMap<number, ProcessInfo> {
    return this.procs;
  }

  get paused(): boolean {
    return this.ctl.get(Ctl.Paused) === 1;
  }
  get speed(): number {
    return this.ctl.f64[Pos.Speed];
  }
  get ended(): boolean {
    return this.endedFlag;
  }

  pause(): void {
    this.ctl.set(Ctl.Paused, 1);
    this.ctl.wake();
  }
  resume(): void {
    this.ctl.set(Ctl.Paused, 0);
    this.ctl.wake();
  }
  togglePause(): void {
    if (this.paused) this.resume();
    else this.pause();
  }

  setSpeed(speed: number): void {
    if (!(speed >= 0) || !Number.isFinite(speed)) throw new RangeError(`invalid speed ${speed}`);
    this.ctl.f64[Pos.Speed] = speed;
    this.ctl.wake();
  }
  /** Next faster step (after 128 comes 0 = as fast as possible). */
  faster(): number {
    const s = this.speed;
    const next = s === 0 ? 0 : SPEEDS.find((x) => x > s + 1e-9) ?? 0;
    this.setSpeed(next);
    return next;
  }
  slower(): number {
    const s = this.speed;
    const next = s === 0 ? SPEEDS[SPEEDS.length - 1] : [...SPEEDS].reverse().find((x) => x < s - 1e-9) ?? SPEEDS[0];
    this.setSpeed(next);
    return next;
  }

  /** Seek to `positionNs` after the first record (clamped to [0, duration]). */
  seekTo(positionNs: number): void {
    const f = this.ctl.f64;
    f[Pos.SeekTarget] = Math.max(0, Math.min(positionNs, f[Pos.Duration]));
    Atomics.add(this.ctl.i32, Ctl.SeekSeq, 1);
    this.ctl.wake();
  }
  /** Seek relative to the current position (or to the pending target of a seek not done yet). */
  seekBy(deltaNs: number): void {
    const pendingSeek = this.ctl.get(Ctl.SeekSeq) !== this.ctl.get(Ctl.SeekDone);
    const from = pendingSeek ? this.ctl.f64[Pos.SeekTarget] : this.ctl.f64[Pos.Position];
    this.seekTo(from + deltaNs);
  }
  seekStart(): void {
    this.seekTo(0);
  }
  seekEnd(): void {
    this.seekTo(Infinity);
  }
  /** True while a seek request is being carried out. */
  seeking(): boolean {
    return this.ctl.get(Ctl.SeekSeq) !== this.ctl.get(Ctl.SeekDone);
  }

  /** Stop the worker (idempotent). */
  async stop(): Promise<void> {
    if (!this.stopped) {
      this.stopped = true;
      this.ctl.set(Ctl.Stop, 1);
      this.ctl.wake();
      this.ring.requestStop();
      const t = setTimeout(() => void this.worker.terminate(), 2000);
      await this.exited;
      clearTimeout(t);
    }
    await this.exited;
  }
}
