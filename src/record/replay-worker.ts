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
import { RECORD_SIZE } from '../capture/layout';
import { SharedRing } from '../capture/ring';
import { RecordingError } from './format';
import { RecordBatch, Recording, openRecording, tsAt } from './reader';
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

/** Records per pushBatch at most (bounded so controls are checked often). */
const STEP_RECORDS = 4096;
const FEED_LIMIT = 0;
const FEED_FULL = 1;
const FEED_NOT_DUE = 2;

function run(): void {
  const data = workerData as ReplayWorkerData;
  const port = parentPort!;
  const post = (m: unknown): void => port.postMessage(m);
  const ring = new SharedRing(data.ringSab);
  const ctl = new ReplayControl(data.controlSab);
  const i32 = ctl.i32;
  const f64 = ctl.f64;
  const progressEvery = data.progressIntervalMs ?? 250;

  let rec: Recording;
  try {
    // Salvage: replay around damage (warnings, DROPS records for what was lost), as replay --json.
    rec = openRecording(data.path, { salvage: true });
  } catch (e) {
    const err = e as RecordingError;
    Atomics.store(i32, Ctl.State, ReplayState.Failed);
    post({ type: 'error', code: err.code ?? 'EIO', message: firstLine(String(err.message ?? err)) });
    return;
  }

  const t0 = rec.firstTsNs;
  const duration = rec.durationNs;
  const total = rec.records;
  const procs = rec.processes;
  f64[Pos.Duration] = duration;
  f64[Pos.Total] = total;
  const ready: ReplayReadyInfo = {
    path: data.path,
    host: rec.header.host,
    kernel: rec.header.kernel,
    startWallMs: rec.header.startWallMs,
    startMonoNs: rec.header.startMonoNs.toString(),
    socktopVersion: rec.header.socktopVersion,
    backend: rec.header.backend,
    formatVersion: rec.header.formatVersion,
    records: total,
    durationNs: duration,
    firstTsNs: t0,
    warnings: rec.warnings,
    truncated: rec.truncated,
    damaged: rec.damaged,
    damagedRecords: rec.damagedRecords,
    finished: rec.end !== null,
    processes: procs.length,
    dropRecords: rec.dropRecords,
    droppedEvents: rec.droppedEvents,
    fileSize: rec.fileSize,
  };
  post({ type: 'ready', info: ready });
  Atomics.store(i32, Ctl.State, ReplayState.Running);

  const cursor = rec.cursor();
  let pending = null as RecordBatch | null;
  let pendDone = 0;
  let runMax = -Infinity;
  let procIdx = 0;
  let speed = f64[Pos.Speed];
  let paused = Atomics.load(i32, Ctl.Paused) === 1;
  let basePos = 0;
  let baseWall = performance.now();
  let seekSeen = Atomics.load(i32, Ctl.SeekSeq);
  let ended = false;
  let lastProgress = 0;

  const pushedIndex = (): number => (pending ? pending.first + pendDone : cursor.position);
  const lastRel = (): number => (runMax === -Infinity ? 0 : Math.min(duration, runMax - t0));
  const clamp = (p: number): number => (p < 0 ? 0 : p > duration ? duration : p);
  function position(): number {
    if (ended) return duration;
    if (paused) return basePos;
    if (speed === 0) return lastRel();
    return clamp(basePos + (performance.now() - baseWall) * 1e6 * speed);
  }
  function rebase(): void {
    basePos = position();
    baseWall = performance.now();
  }
  function postProcesses(before: number): void {
    while (procIdx < procs.length && procs[procIdx].atRecord < before) {
      post({ type: 'process', info: procs[procIdx].info });
      procIdx++;
    }
  }
  function publish(force: boolean): void {
    f64[Pos.Position] = position();
    f64[Pos.Pushed] = pushedIndex();
    const now = performance.now();
    if (force || now - lastProgress >= progressEvery) {
      lastProgress = now;
      const p: ReplayProgress = {
        positionNs: f64[Pos.Position], durationNs: duration, records: f64[Pos.Pushed],
        totalRecords: total, speed, paused, ended,
      };
      post({ type: 'progress', ...p });
    }
  }

  /**
   * Push records with index < limit whose running-maximum timestamp is at most t0 + dueRel, as far
   * as the ring has room. Returns FEED_LIMIT (limit or end reached), FEED_FULL or FEED_NOT_DUE.
   */
  function feed(limit: number, dueRel: number): number {
    for (;;) {
      if (!pending || pendDone >= pending.count) {
        if (cursor.position >= limit) return FEED_LIMIT;
        pending = cursor.next(Math.min(limit - cursor.position, STEP_RECORDS));
        pendDone = 0;
        if (!pending) return FEED_LIMIT;
      }
      const start = pending.first + pendDone;
      if (start >= limit) return FEED_LIMIT;
      const free = ring.capacity - ring.available();
      if (free <= 0) return FEED_FULL;
      let n = pending.count - pendDone;
      if (n > free) n = free;
      if (n > limit - start) n = limit - start;
      const b = pending.bytes;
      let k = pendDone;
      const stop = pendDone + n;
      const dueAbs = t0 + dueRel;
      let m = runMax;
      for (let at = k * RECORD_SIZE; k < stop; k++, at += RECORD_SIZE) {
        const t = tsAt(b, at);
        const mm = t > m ? t : m;
        if (mm > dueAbs) break;
        m = mm;
      }
      if (k === pendDone) return FEED_NOT_DUE;
      postProcesses(pending.first + k);
      ring.pushBatch(b.subarray(pendDone * RECORD_SIZE, k * RECORD_SIZE), k - pendDone);
      runMax = m;
      pendDone = k;
      if (k < stop) return FEED_NOT_DUE;
    }
  }

  function stopRequested(): boolean {
    return Atomics.load(i32, Ctl.Stop) === 1;
  }

  /** Seek to `target` ns after the first record. Returns false when a stop came meanwhile. */
  function seek(target: number): boolean {
    const T = clamp(Number.isFinite(target) ? target : 0);
    const want = rec.recordsUntil(T);
    if (want < pushedIndex()) {
      // Backwards: the consumer drops what it has, resets its model, acknowledges; we re-feed.
      const seq = Atomics.load(i32, Ctl.ResetSeq) + 1;
      Atomics.store(i32, Ctl.ResetSeq, seq);
      post({ type: 'reset', seq });
      for (;;) {
        const w = Atomics.load(i32, Ctl.Wake);
        if (Atomics.load(i32, Ctl.ResetAck) >= seq) break;
        if (stopRequested()) return false;
        Atomics.wait(i32, Ctl.Wake, w, 100);
      }
      cursor.seek(0);
      pending = null;
      pendDone = 0;
      runMax = -Infinity;
      procIdx = 0;
    }
    while (pushedIndex() < want) {
      const st = feed(want, Infinity);
      if (st === FEED_LIMIT) break;
      if (stopRequested()) return false;
      if (st === FEED_FULL) Atomics.wait(i32, Ctl.Wake, Atomics.load(i32, Ctl.Wake), 1);
    }
    ended = false;
    basePos = T;
    baseWall = performance.now();
    return true;
  }

  for (;;) {
    const wakeVal = Atomics.load(i32, Ctl.Wake);
    if (stopRequested()) break;
    const newSpeed = f64[Pos.Speed];
    const newPaused = Atomics.load(i32, Ctl.Paused) === 1;
    if (newSpeed !== speed || newPaused !== paused) {
      rebase();
      speed = newSpeed >= 0 && Number.isFinite(newSpeed) ? newSpeed : 1;
      paused = newPaused;
      publish(true);
    }
    const seekSeq = Atomics.load(i32, Ctl.SeekSeq);
    if (seekSeq !== seekSeen) {
      seekSeen = seekSeq;
      if (!seek(f64[Pos.SeekTarget])) break;
      Atomics.store(i32, Ctl.SeekDone, seekSeq);
      Atomics.store(i32, Ctl.State, ReplayState.Running);
      publish(true);
      continue;
    }
    const done = (!pending || pendDone >= pending.count) && cursor.atEnd();
    if (done) {
      if (!ended) {
        postProcesses(Infinity);
        ended = true;
        Atomics.store(i32, Ctl.State, ReplayState.Ended);
        publish(true);
        post({ type: 'end', records: pushedIndex() });
      }
      publish(false);
      Atomics.wait(i32, Ctl.Wake, wakeVal, 250);
      continue;
    }
    publish(false);
    if (paused) {
      Atomics.wait(i32, Ctl.Wake, wakeVal, 250);
      continue;
    }
    if (speed === 0) {
      if (feed(total, Infinity) === FEED_FULL) Atomics.wait(i32, Ctl.Wake, wakeVal, 1);
      continue;
    }
    const pos = position();
    const st = feed(total, pos);
    if (st === FEED_FULL) {
      Atomics.wait(i32, Ctl.Wake, wakeVal, 1);
    } else if (st === FEED_NOT_DUE && pending) {
      const next = Math.max(runMax, tsAt(pending.bytes, pendDone * RECORD_SIZE)) - t0;
      const ms = (next - pos) / 1e6 / speed;
      if (ms > 0.05) Atomics.wait(i32, Ctl.Wake, wakeVal, Math.min(ms, 100));
    }
  }
  rec.close();
  Atomics.store(i32, Ctl.State, ReplayState.Stopped);
  post({ type: 'stopped' });
}

try {
  run();
} catch (e) {
  const err = e as RecordingError;
  parentPort?.postMessage({
    type: 'error', code: err?.code ?? 'EIO', message: firstLine(String(err?.message ?? err)),
  });
}
