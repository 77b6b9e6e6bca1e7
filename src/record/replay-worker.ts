/**
 * replay-worker.ts: runs in a worker_threads Worker started by ReplaySource. Reads a recording and
 * pushes its records into the same SharedRing the live UI drains, paced by the recorded timestamps
 * times the speed (speed 0 = as fast as the consumer drains). Never drops: it only pushes what fits
 * in the ring and waits for room.
 *
 * workerData: { ringSab, path, controlSab, progressIntervalMs? } (speed and paused are read from the
 * control block, replay-control.ts). Messages posted to the parent:
 *   {type:'ready', info}            after the file was opened and validated (ReplayReadyInfo)
 *   {type:'process', info}          a ProcessInfo, before the first record of that pid is pushed
 *   {type:'progress', ...}          a few times per second (ReplayProgress)
 *   {type:'reset', seq}             a backward seek: the consumer must drop what is in the ring and
 *                                   reset its model, then store seq in ResetAck and wake; the worker
 *                                   waits for that before it re-feeds from the start
 *   {type:'end', records}           every record has been pushed (the worker stays for seeks)
 *   {type:'error', code, message}   the file could not be read (RecordingError code)
 *   {type:'stopped'}                after a stop request
 */
import { parentPort, workerData } from 'worker_threads';
import { performance } from 'perf_hooks';
import { SharedRing } from '../capture/ring';
import { RecordingError } from './format';
import { Recording, openRecording } from './reader';
import { Feed, RecordFeeder, ReplayClock } from './replay-feeder';
import { Ctl, Pos, ReplayControl, ReplayState } from './replay-control';
import { firstLine } from '../one-line';

export interface ReplayWorkerData {
  ringSab: SharedArrayBuffer;
  path: string;
  controlSab: SharedArrayBuffer;
  progressIntervalMs?: number;
}

/** What the worker tells the main thread once the file is open. */
export interface ReplayReadyInfo {
  path: string;
  host: string;
  kernel: string;
  startWallMs: number;
  startMonoNs: string;
  socktopVersion: string;
  backend: string;
  formatVersion: number;
  records: number;
  durationNs: number;
  firstTsNs: number;
  warnings: string[];
  truncated: boolean;
  /** Damage was stepped over (reader.ts salvage): the replay is incomplete. */
  damaged: boolean;
  /** Records lost to that damage (also in DROPS records of stage recording). */
  damagedRecords: number;
  finished: boolean;
  processes: number;
  dropRecords: number;
  droppedEvents: number;
  fileSize: number;
}

export interface ReplayProgress {
  /** Replay position, ns after the first record. */
  positionNs: number;
  durationNs: number;
  /** Records pushed into the ring so far (since the last reset). */
  records: number;
  totalRecords: number;
  speed: number;
  paused: boolean;
  ended: boolean;
}

const PROGRESS_EVERY_MS = 250;

/** The file as the ready message describes it. */
function readyInfo(path: string, rec: Recording): ReplayReadyInfo {
  return {
    path,
    host: rec.header.host,
    kernel: rec.header.kernel,
    startWallMs: rec.header.startWallMs,
    startMonoNs: rec.header.startMonoNs.toString(),
    socktopVersion: rec.header.socktopVersion,
    backend: rec.header.backend,
    formatVersion: rec.header.formatVersion,
    records: rec.records,
    durationNs: rec.durationNs,
    firstTsNs: rec.firstTsNs,
    warnings: rec.warnings,
    truncated: rec.truncated,
    damaged: rec.damaged,
    damagedRecords: rec.damagedRecords,
    finished: rec.end !== null,
    processes: rec.processes.length,
    dropRecords: rec.dropRecords,
    droppedEvents: rec.droppedEvents,
    fileSize: rec.fileSize,
  };
}

/** The control loop: reads the control block (replay-control.ts), paces the feeder, reports. */
class ReplayLoop {
  private readonly i32: Int32Array;
  private readonly f64: Float64Array;
  private readonly feeder: RecordFeeder;
  private readonly clock: ReplayClock;
  private seekSeen: number;
  private lastProgress = 0;

  constructor(
    private readonly rec: Recording,
    ring: SharedRing,
    ctl: ReplayControl,
    private readonly post: (m: unknown) => void,
    private readonly progressEvery: number,
  ) {
    this.i32 = ctl.i32;
    this.f64 = ctl.f64;
    this.feeder = new RecordFeeder(rec, ring, (info) => post({ type: 'process', info }));
    this.clock = new ReplayClock(rec.durationNs, this.f64[Pos.Speed], Atomics.load(this.i32, Ctl.Paused) === 1,
      () => this.feeder.lastRel());
    this.seekSeen = Atomics.load(this.i32, Ctl.SeekSeq);
  }

  run(): void {
    const i32 = this.i32;
    for (;;) {
      const wakeVal = Atomics.load(i32, Ctl.Wake);
      if (this.stopRequested()) break;
      this.takeSpeedAndPause();
      const seekSeq = Atomics.load(i32, Ctl.SeekSeq);
      if (seekSeq !== this.seekSeen) {
        this.seekSeen = seekSeq;
        if (!this.seek(this.f64[Pos.SeekTarget])) break;
        Atomics.store(i32, Ctl.SeekDone, seekSeq);
        Atomics.store(i32, Ctl.State, ReplayState.Running);
        this.publish(true);
        continue;
      }
      this.step(wakeVal);
    }
    this.rec.close();
    Atomics.store(i32, Ctl.State, ReplayState.Stopped);
    this.post({ type: 'stopped' });
  }

  /** One turn of the loop without a seek: end, pause, or feed what is due, then wait a little. */
  private step(wakeVal: number): void {
    const { i32, clock, feeder } = this;
    if (feeder.atEnd()) {
      if (!clock.ended) {
        feeder.announceUntil(Infinity);
        clock.ended = true;
        Atomics.store(i32, Ctl.State, ReplayState.Ended);
        this.publish(true);
        this.post({ type: 'end', records: feeder.pushedIndex() });
      }
      this.publish(false);
      Atomics.wait(i32, Ctl.Wake, wakeVal, 250);
      return;
    }
    this.publish(false);
    if (clock.paused) {
      Atomics.wait(i32, Ctl.Wake, wakeVal, 250);
      return;
    }
    if (clock.speed === 0) {
      if (feeder.feed(this.rec.records, Infinity) === Feed.Full) Atomics.wait(i32, Ctl.Wake, wakeVal, 1);
      return;
    }
    const pos = clock.position();
    const st = feeder.feed(this.rec.records, pos);
    if (st === Feed.Full) {
      Atomics.wait(i32, Ctl.Wake, wakeVal, 1);
    } else if (st === Feed.NotDue) {
      const ms = (feeder.nextDueRel() - pos) / 1e6 / clock.speed;
      if (ms > 0.05) Atomics.wait(i32, Ctl.Wake, wakeVal, Math.min(ms, 100));
    }
  }

  private takeSpeedAndPause(): void {
    const speed = this.f64[Pos.Speed];
    const paused = Atomics.load(this.i32, Ctl.Paused) === 1;
    if (speed === this.clock.speed && paused === this.clock.paused) return;
    this.clock.change(speed, paused);
    this.publish(true);
  }

  private stopRequested(): boolean {
    return Atomics.load(this.i32, Ctl.Stop) === 1;
  }

  private publish(force: boolean): void {
    const { f64, clock } = this;
    f64[Pos.Position] = clock.position();
    f64[Pos.Pushed] = this.feeder.pushedIndex();
    const now = performance.now();
    if (!force && now - this.lastProgress < this.progressEvery) return;
    this.lastProgress = now;
    const p: ReplayProgress = {
      positionNs: f64[Pos.Position], durationNs: clock.durationNs, records: f64[Pos.Pushed],
      totalRecords: this.rec.records, speed: clock.speed, paused: clock.paused, ended: clock.ended,
    };
    this.post({ type: 'progress', ...p });
  }

  /** Seek to `target` ns after the first record. Returns false when a stop came meanwhile. */
  private seek(target: number): boolean {
    const { i32, feeder } = this;
    const T = this.clock.clamp(Number.isFinite(target) ? target : 0);
    const want = this.rec.recordsUntil(T);
    if (want < feeder.pushedIndex()) {
      if (!this.resetConsumer()) return false;
      feeder.rewind();
    }
    while (feeder.pushedIndex() < want) {
      const st = feeder.feed(want, Infinity);
      if (st === Feed.Limit) break;
      if (this.stopRequested()) return false;
      if (st === Feed.Full) Atomics.wait(i32, Ctl.Wake, Atomics.load(i32, Ctl.Wake), 1);
    }
    this.clock.ended = false;
    this.clock.moveTo(T);
    return true;
  }

  /** Backwards: the consumer drops what it has, resets its model, acknowledges. False on stop. */
  private resetConsumer(): boolean {
    const i32 = this.i32;
    const seq = Atomics.load(i32, Ctl.ResetSeq) + 1;
    Atomics.store(i32, Ctl.ResetSeq, seq);
    this.post({ type: 'reset', seq });
    for (;;) {
      const w = Atomics.load(i32, Ctl.Wake);
      if (Atomics.load(i32, Ctl.ResetAck) >= seq) return true;
      if (this.stopRequested()) return false;
      Atomics.wait(i32, Ctl.Wake, w, 100);
    }
  }
}

function run(): void {
  const data = workerData as ReplayWorkerData;
  const port = parentPort!;
  const post = (m: unknown): void => port.postMessage(m);
  const ctl = new ReplayControl(data.controlSab);
  let rec: Recording;
  try {
    // Salvage: replay around damage (warnings, DROPS records for what was lost), as replay --json.
    rec = openRecording(data.path, { salvage: true });
  } catch (e) {
    const err = e as RecordingError;
    Atomics.store(ctl.i32, Ctl.State, ReplayState.Failed);
    post({ type: 'error', code: err.code ?? 'EIO', message: firstLine(String(err.message ?? err)) });
    return;
  }
  ctl.f64[Pos.Duration] = rec.durationNs;
  ctl.f64[Pos.Total] = rec.records;
  post({ type: 'ready', info: readyInfo(data.path, rec) });
  Atomics.store(ctl.i32, Ctl.State, ReplayState.Running);
  new ReplayLoop(rec, new SharedRing(data.ringSab), ctl, post, data.progressIntervalMs ?? PROGRESS_EVERY_MS).run();
}

try {
  run();
} catch (e) {
  const err = e as RecordingError;
  parentPort?.postMessage({
    type: 'error', code: err?.code ?? 'EIO', message: firstLine(String(err?.message ?? err)),
  });
}
