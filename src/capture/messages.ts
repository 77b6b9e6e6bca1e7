/**
 * messages.ts: what the capture worker (worker.ts) and the main thread (session.ts) tell each
 * other, and the workerData the worker starts with.
 */
import type { Backend, OpenResult, SessionStats } from './addon';
import type { RecordingStageConfig } from '../record/recording-file';
import type { SnapshotSummary } from './snapshot';

export interface CaptureWorkerData {
  ringSab: SharedArrayBuffer;   // the SharedRing (ring.ts) the worker produces into
  backend: Backend;
  objectPath: string;
  bpfRingBytes?: number;
  /** The stages between the BPF ring and the shared ring (pipeline.ts). */
  pipeline?: PipelineOptions;
}

/** What the main thread asks of the worker's pipeline (pipeline.ts): StartOptions.pipeline. */
export interface PipelineOptions {
  recording?: RecordingStageConfig;
  /** Tests only: a stage module run after attribution, before the recorder. */
  testStage?: { module: string; options?: unknown };
}

/** main -> worker: nothing but the ring's stop flag (SharedRing.requestStop), read before every poll. */

export interface WorkerStats {
  session: SessionStats;   // the native session's counters
  sharedRingDrops: number; // records refused because the shared ring was full
  published: number;       // records accepted into the shared ring
  /** Longest time between two polls of the BPF ring so far (the worker busy or not scheduled): the
   *  BPF ring must hold that long's records, or the kernel drops them (bpf_ring stage). */
  maxPollGapMs: number;
  /** Most records one poll returned (the staging area holds STAGING_RECORDS). */
  maxPollRecords: number;
}

/** worker -> main */
export type FromWorker =
  | { type: 'ready'; info: OpenResult; snapshot?: SnapshotSummary }
  | { type: 'error'; code: string; message: string; details?: string }
  | ({ type: 'stats' } & WorkerStats)
  | { type: 'closed' };
