/**
 * worker.ts: the capture worker (a worker_threads Worker started by session.ts). It owns the native
 * BPF session and is the shared ring's only producer:
 *
 *   poll BPF ring (<= 50 ms) -> staging buffer -> pipeline stages (pipeline.ts: attribution,
 *   recorder) -> SharedRing.pushBatch
 *
 * Protocol (messages.ts): posts 'ready' with the session info (or 'error' and ends), 'stats' once a
 * second, and 'closed' after a stop (the ring's stop flag, its one stop channel). Any exception closes
 * the session first (programs detached), then posts 'error'.
 */
import { parentPort, workerData } from 'worker_threads';
import { performance } from 'perf_hooks';
import { Backend, loadAddon, NativeAddon, NativeSession, OpenResult, SessionStats } from './addon';
import { SharedRing } from './ring';
import { AttributionStage } from './attribution-stage';
import { FoundOwnerStage } from './found-owner-stage';
import { BatchStage, Pipeline } from './pipeline';
import { Backend as BackendCode, DropStage, EventKind, Offset, RECORD_SIZE } from './layout';
import type { CaptureWorkerData, FromWorker } from './messages';
import { firstLine } from '../one-line';

const STAGING_RECORDS = 4096; // records per poll: one batch for the hooks and the shared ring
const MARKER_SLOTS = 2;       // after the polled records: one DROPS marker per kernel-side stage
const POLL_MS = 50;           // also bounds how long a stop request waits
const DROPS_EVERY_MS = 250;
const STATS_EVERY_MS = 1000;

const BACKEND_CODES: Record<Backend, number> = {
  cgroup: BackendCode.Cgroup,
  kprobe: BackendCode.Kprobe,
  tracepoint: BackendCode.Tracepoint,
};

function post(msg: FromWorker): void {
  parentPort?.postMessage(msg);
}

/** Code and one-line message of anything thrown (addon errors carry a code). */
function describe(e: unknown, fallbackCode: string): { code: string; message: string; details?: string } {
  const err = e as { code?: unknown; message?: unknown; details?: unknown };
  const code = typeof err?.code === 'string' ? err.code : fallbackCode;
  const message = typeof err?.message === 'string' ? err.message : String(e);
  // libbpf's log (the verifier's reasons) travels along for --verbose.
  const details = typeof err?.details === 'string' && err.details ? err.details : undefined;
  return { code, message: firstLine(message), details };
}

class CaptureLoop {
  // Extra slots after the polled records, for the DROPS markers made here.
  private readonly staging = new Uint8Array((STAGING_RECORDS + MARKER_SLOTS) * RECORD_SIZE);
  private readonly pollArea = this.staging.subarray(0, STAGING_RECORDS * RECORD_SIZE);
  private readonly view = new DataView(this.staging.buffer);
  private readonly backendCode: number;
  /** Losses upstream of this worker already told downstream, per stage (the kernel counts them). */
  private readonly reported: { stage: DropStage; read: (s: SessionStats) => number; told: number }[];
  private nextDropsCheck = 0;
  private nextStats = 0;
  private lastPollEnd = 0;
  private maxPollGapMs = 0;
  private maxPollRecords = 0;

  constructor(
    private readonly session: NativeSession,
    private readonly ring: SharedRing,
    private readonly addon: NativeAddon,
    private readonly pipeline: Pipeline,
  ) {
    this.backendCode = BACKEND_CODES[session.info.backend];
    const start = session.stats();
    this.reported = [
      { stage: DropStage.KernelMiss, read: (s) => s.kernelMisses ?? 0, told: 0 },
      { stage: DropStage.BpfRing, read: (s) => s.bpfRingDrops, told: 0 },
    ];
    for (const r of this.reported) r.told = r.read(start);
    const now = performance.now();
    this.nextDropsCheck = now + DROPS_EVERY_MS;
    this.nextStats = now + STATS_EVERY_MS;
  }

  /** Start records (pipeline.ts) go first, through the pipeline, like a polled batch. */
  publishStartRecords(): void {
    for (const { bytes, count } of this.pipeline.startBatches(this.addon.monotonicNs())) {
      this.ring.pushBatch(bytes, count);
    }
  }

  /** Runs one poll per event-loop turn, so 'stop' messages are seen between polls. */
  start(): void {
    const step = (): void => {
      if (this.shouldStop()) return this.finish(null);
      try {
        this.pollOnce();
      } catch (e) {
        return this.finish(e);
      }
      setImmediate(step);
    };
    setImmediate(step);
  }

  private shouldStop(): boolean {
    return this.ring.stopRequested();
  }

  private pollOnce(timeoutMs = POLL_MS, checkDrops = false): number {
    const before = performance.now();
    // Time away from the ring: since the last poll returned, less the time this one may sleep.
    if (this.lastPollEnd > 0) this.maxPollGapMs = Math.max(this.maxPollGapMs, before - this.lastPollEnd);
    let count = this.session.poll(this.pollArea, timeoutMs);
    const now = performance.now();
    this.lastPollEnd = now;
    if (count > this.maxPollRecords) this.maxPollRecords = count;
    if (checkDrops || now >= this.nextDropsCheck) {
      this.nextDropsCheck = now + DROPS_EVERY_MS;
      count += this.appendDropsMarkers(count);
    }
    if (count > 0) {
      this.pipeline.run(this.staging, this.view, count);
      this.ring.pushBatch(this.staging, count);
    }
    if (now >= this.nextStats) {
      this.nextStats = now + STATS_EVERY_MS;
      this.postStats();
    }
    return count;
  }

  /** What the BPF ring still holds, and the last losses, go out before the session closes. */
  private drainBeforeClose(): void {
    for (let i = 0; i < 64 && this.pollOnce(0, true) >= STAGING_RECORDS; i++);
  }

  /**
   * Writes a DROPS record from `slot` on for each kernel-side stage that lost events since the last
   * check (the ring buffer was full; the kernel skipped a program); returns how many it wrote.
   */
  private appendDropsMarkers(slot: number): number {
    const stats = this.session.stats();
    let written = 0;
    for (const r of this.reported) {
      const now = r.read(stats);
      const delta = now - r.told;
      if (delta <= 0) continue;
      r.told = now;
      this.writeDropsRecord(slot + written++, r.stage, delta);
    }
    return written;
  }

  private writeDropsRecord(slot: number, stage: DropStage, count: number): void {
    const at = slot * RECORD_SIZE;
    this.staging.fill(0, at, at + RECORD_SIZE);
    const v = this.view;
    v.setBigUint64(at + Offset.ts_ns, this.addon.monotonicNs(), true); // same clock as BPF's ts_ns
    v.setUint8(at + Offset.kind, EventKind.Drops);
    v.setUint8(at + Offset.new_state, stage);
    v.setUint8(at + Offset.backend, this.backendCode);
    v.setUint32(at + Offset.count, Math.min(count, 0xffffffff), true);
  }

  private postStats(): void {
    post({
      type: 'stats',
      session: this.session.stats(),
      sharedRingDrops: this.ring.drops(),
      published: this.ring.published(),
      maxPollGapMs: Math.round(this.maxPollGapMs * 10) / 10,
      maxPollRecords: this.maxPollRecords,
    });
  }

  private finish(error: unknown): void {
    if (error === null) {
      try {
        this.drainBeforeClose();
      } catch (e) {
        error = e;
      }
    }
    try {
      this.session.close();
    } catch {
      // close() does not throw; and if it did, the env cleanup hook still detaches everything
    }
    try {
      this.pipeline.close(); // the recorder's END frame, after the last drained batch
    } catch (e) {
      if (error === null) error = e;
    }
    post(error === null ? { type: 'closed' } : { type: 'error', ...describe(error, 'ECAPTURE') });
    endWorker();
  }
}

/** Lets the thread end by itself once the queued messages are out (process.exit could drop them). */
function endWorker(): void {
  parentPort?.removeAllListeners('message');
  parentPort?.unref();
}

/** The stages, in the order pipeline.ts describes: attribution, found owners, a test stage, the recorder. */
function buildPipeline(data: CaptureWorkerData): { pipeline: Pipeline; attribution: AttributionStage } {
  const attribution = new AttributionStage();
  const stages: BatchStage[] = [attribution, new FoundOwnerStage()];
  const test = data.pipeline?.testStage;
  if (test) stages.push((require(test.module) as TestStageModule).createStage(test.options));
  const recording = data.pipeline?.recording;
  if (recording) {
    // Loaded only to record: the recorder's modules are heap the worker otherwise never uses.
    const { recorderStage } = require('../record/recording-file') as typeof import('../record/recording-file');
    stages.push(recorderStage(recording, data.backend));
  }
  return { pipeline: new Pipeline(stages), attribution };
}

interface TestStageModule {
  createStage(options: unknown): BatchStage;
}

function openSession(data: CaptureWorkerData, addon: NativeAddon): NativeSession {
  return addon.open({ backend: data.backend, objectPath: data.objectPath, bpfRingBytes: data.bpfRingBytes });
}

function main(): void {
  const data = workerData as CaptureWorkerData;
  let addon: NativeAddon;
  let session: NativeSession;
  let built: ReturnType<typeof buildPipeline>;
  try {
    built = buildPipeline(data);
  } catch (e) {
    post({ type: 'error', ...describe(e, 'ELOAD') });
    return endWorker();
  }
  try {
    addon = loadAddon();
    session = openSession(data, addon);
  } catch (e) {
    built.pipeline.close();
    post({ type: 'error', ...describe(e, 'ELOAD') });
    return endWorker();
  }
  try {
    const loop = new CaptureLoop(session, new SharedRing(data.ringSab), addon, built.pipeline);
    loop.publishStartRecords();
    const info: OpenResult = session.info;
    post({ type: 'ready', info, snapshot: built.attribution.summary });
    loop.start();
  } catch (e) {
    session.close();
    built.pipeline.close();
    post({ type: 'error', ...describe(e, 'ECAPTURE') });
    endWorker();
  }
}

main();
