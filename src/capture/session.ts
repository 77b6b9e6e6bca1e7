/**
 * session.ts: the main thread's handle on a live capture. Creates the shared ring, starts the
 * capture worker (worker.ts) and turns its messages into a promise ('ready' / 'error') and a stop()
 * that always ends with the BPF programs detached: the worker closes its session on request, and a
 * worker that does not answer in time is terminated, which runs the addon's env cleanup hook.
 *
 * Nothing global is registered here: the CLI's single signal/exit handler calls stopAllCaptures().
 */
import * as path from 'path';
import { Worker } from 'worker_threads';
import { Backend, bpfObjectPath, OpenResult } from './addon';
import { RECORD_SIZE } from './layout';
import { SharedRing } from './ring';
import type { CaptureWorkerData, FromWorker, PipelineOptions, WorkerStats } from './messages';
import type { SnapshotSummary } from './snapshot';
import { firstLine } from '../one-line';

export interface StartOptions {
  backend: Backend;          // already chosen (backend.ts), never 'auto'
  ringCapacity: number;      // records in the shared ring (rounded up to a power of two)
  objectPath?: string;       // default bpf/socktop.bpf.o
  bpfRingBytes?: number;     // BPF ring buffer size (addon default 16 MiB)
  pipeline?: PipelineOptions; // the worker's stages after attribution: the recorder (pipeline.ts)
  stopTimeoutMs?: number;    // how long stop() waits before terminating the worker (default 3 s)
  /** Called once if the capture dies after it started (the worker posts 'error' or exits). */
  onError?: (err: CaptureError) => void;
}

export interface CaptureSession {
  ring: SharedRing;
  info: OpenResult;
  /** What the start snapshot of existing sockets saw, and could not see (its processes unreadable). */
  snapshot?: SnapshotSummary;
  /** The worker's last once-a-second report, or null before the first. */
  latestStats(): WorkerStats | null;
  /** Stop capturing and detach the BPF programs. Idempotent. */
  stop(): Promise<void>;
}

/** A failed start or a capture that died: `code` from the addon (EPERM, ENOENT, ENOBTF, ELOAD, ...). */
export class CaptureError extends Error {
  /** libbpf's log when the addon had one (shown with --verbose). */
  constructor(readonly code: string, message: string, readonly details?: string) {
    super(message);
    this.name = 'CaptureError';
  }
}

const DEFAULT_STOP_TIMEOUT_MS = 3000;
const active = new Set<CaptureSession>();

/** Stop every running capture (for the CLI's SIGINT/SIGTERM/exit handler). */
export async function stopAllCaptures(): Promise<void> {
  await Promise.all([...active].map((s) => s.stop()));
}

export function startCapture(opts: StartOptions): Promise<CaptureSession> {
  const ring = SharedRing.create(opts.ringCapacity, RECORD_SIZE);
  const data: CaptureWorkerData = {
    ringSab: ring.sab,
    backend: opts.backend,
    objectPath: opts.objectPath ?? bpfObjectPath(),
    bpfRingBytes: opts.bpfRingBytes,
    pipeline: opts.pipeline,
  };
  // The recorder's files are opened here, on the main thread (record/recording-file.ts), and closed by
  // the worker: not tracked as the worker's own, so closing them is no warning.
  const worker = new Worker(path.join(__dirname, 'worker.js'), { workerData: data, trackUnmanagedFds: false });
  return new WorkerCapture(worker, ring, opts).started;
}

/** One worker's lifecycle: starting -> running -> stopping -> exited. */
class WorkerCapture implements CaptureSession {
  info!: OpenResult;
  snapshot?: SnapshotSummary;
  readonly started: Promise<CaptureSession>;
  private stats: WorkerStats | null = null;
  private exited = false;
  private failed = false;
  private stopping: Promise<void> | null = null;
  private readonly exit: Promise<void>;
  private settleStart!: { resolve: (s: CaptureSession) => void; reject: (e: Error) => void };

  constructor(private readonly worker: Worker, readonly ring: SharedRing, private readonly opts: StartOptions) {
    this.started = new Promise((resolve, reject) => (this.settleStart = { resolve, reject }));
    this.exit = new Promise((resolve) => worker.once('exit', () => resolve()));
    worker.on('message', (msg: FromWorker) => this.onMessage(msg));
    worker.on('error', (err: Error) => this.onFailure(new CaptureError('EWORKER', `capture worker failed: ${firstLine(err.message)}`)));
    worker.once('exit', (code) => this.onExit(code));
  }

  latestStats(): WorkerStats | null {
    return this.stats;
  }

  stop(): Promise<void> {
    if (!this.stopping) this.stopping = this.doStop();
    return this.stopping;
  }

  private async doStop(): Promise<void> {
    if (!this.exited) {
      this.ring.requestStop(); // the one stop channel: the worker reads it before every poll
      const timeout = this.opts.stopTimeoutMs ?? DEFAULT_STOP_TIMEOUT_MS;
      // terminate() ends the worker's environment, whose cleanup hook detaches the programs
      if (!(await settlesWithin(this.exit, timeout))) await this.worker.terminate();
      await this.exit;
    }
    active.delete(this);
  }

  private onMessage(msg: FromWorker): void {
    switch (msg.type) {
      case 'ready':
        this.info = msg.info;
        this.snapshot = msg.snapshot;
        active.add(this);
        this.settleStart.resolve(this);
        break;
      case 'stats':
        this.stats = {
          session: msg.session, sharedRingDrops: msg.sharedRingDrops, published: msg.published,
          maxPollGapMs: msg.maxPollGapMs, maxPollRecords: msg.maxPollRecords,
        };
        break;
      case 'error':
        this.onFailure(new CaptureError(msg.code, msg.message, msg.details));
        break;
      case 'closed':
        break; // the worker ends by itself right after; 'exit' follows
    }
  }

  /** Before 'ready' a failure rejects the start; after it, it is reported once through onError. */
  private onFailure(err: CaptureError): void {
    if (this.failed) return;
    this.failed = true;
    active.delete(this);
    this.settleStart.reject(err); // no effect once resolved
    if (this.info && !this.stopping) this.opts.onError?.(err);
  }

  private onExit(code: number): void {
    this.exited = true;
    active.delete(this);
    if (!this.stopping) this.onFailure(new CaptureError('EWORKER', `capture worker exited unexpectedly (code ${code})`));
  }
}

async function settlesWithin(p: Promise<void>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(false), ms)));
  try {
    return await Promise.race([p.then(() => true), timeout]);
  } finally {
    clearTimeout(timer);
  }
}
