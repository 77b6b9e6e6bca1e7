/**
 * recording-file.ts: a recording's file, from the main thread to the capture worker's recorder.
 *
 * The file is opened HERE, on the main thread, by openRecordingForWrite() (safe-open.ts: as the
 * invoking user, never through a link, an existing file only with force), and the capture worker's
 * recording stage writes to that descriptor: a worker thread cannot switch its uid to open the file
 * as the sudo user, and nothing is chown()ed afterwards.
 *
 *     const rec = recordingStartOptions(file, {}, { force });         // throws a one-line error
 *     try {
 *       session = await startCapture({ backend, ringCapacity, pipeline: rec.pipeline });
 *     } catch (e) { rec.release(); throw e; }                         // no capture: no file
 *     rec.stats.read()   // { records, bytes, recordsLost, writeErrors, lastError, ... } any time
 *
 * In the worker, recordingStage() claims the descriptor and makes the pipeline's last stage
 * (capture/pipeline.ts). The file is closed (END frame, fsync) when the stage closes; a worker that
 * has to be terminated leaves a file without END frame, which still replays (with a warning) up to
 * its last flushed record.
 *
 * Who owns the descriptor: a claim word in shared memory (0 free, 1 the worker took it, 2 the main
 * thread released it), so exactly one side closes it.
 */
import * as fs from 'fs';
import * as path from 'path';
import { RecordingError } from './format';
import { OpenedForWrite, openRecordingForWrite, removeIfUnwritten } from './safe-open';
import { createRecordingStage, RecordingStage } from './recording-stage';
import { FileRing, RotationOptions, rotationPaths } from './rotation';
import { RecordingStatsView } from './stats-view';
import type { HeaderInfo } from './writer';
import type { BatchStage } from '../capture/pipeline';
import { createTriggerStage, TriggerConfig, TriggerStatsView } from './trigger-stage';

export interface RecordingStageConfig {
  path: string;
  /** The descriptor recordingStartOptions() opened; without it the worker opens `path` itself. */
  fd?: number;
  /** Int32 claim word for fd (see above). */
  fdClaim?: SharedArrayBuffer;
  /** Header fields; backend defaults to the capture's backend. */
  header?: Partial<HeaderInfo>;
  /** RecordingStatsView.sab */
  statsSab?: SharedArrayBuffer;
  flushIntervalMs?: number;
  /** A flight recorder's files (rotation.ts): every path opened, `fd` is the first one's. */
  rotation?: { paths: string[]; fds: number[]; options: RotationOptions };
  /** record --trigger (trigger-stage.ts): every incident file opened, `fd` is the first one's. */
  trigger?: TriggerConfig;
}

/** record --trigger, as the command line gives it (checked by the CLI). */
export interface TriggerOptions {
  conditions: string[];
  beforeSec: number;
  afterSec: number;
  maxBytes: number;
  /** Incident files (-W N; 1 without). */
  files: number;
}

export interface RecordingStartOptions {
  /** For StartOptions.pipeline. */
  pipeline: { recording: RecordingStageConfig };
  stats: RecordingStatsView;
  /** The file as opened. */
  file: OpenedForWrite;
  /** record --trigger: what the trigger did so far. */
  trigger?: TriggerStatsView;
  /**
   * The capture did not start: close the descriptor unless the capture worker took it, and remove
   * the file if this call created it and nothing was written to it. Idempotent.
   */
  release(): void;
}

export interface RecordingFileOptions {
  /** Overwrite an existing file (--force). Default: whether the command line says --force. */
  force?: boolean;
  /** Environment for the invoking user (SUDO_UID/SUDO_GID); default process.env. */
  env?: NodeJS.ProcessEnv;
  /** -W N [-C MB] [-G SEC]: N files used in turn, named by rotationPaths(file). */
  rotation?: RotationOptions;
  /** --trigger: one file per incident (FILE, or with -W N the names rotationPaths gives). */
  trigger?: TriggerOptions;
}

const FD_FREE = 0;
const FD_TAKEN = 1;
const FD_RELEASED = 2;

/**
 * Open the recording file (main thread) and return the pipeline options for startCapture(), plus
 * a stats view readable on this thread. Throws a one-line RecordingError when
 * the file may not or cannot be written (safe-open.ts).
 */
export function recordingStartOptions(
  file: string, header: Partial<HeaderInfo> = {}, opts: RecordingFileOptions = {},
): RecordingStartOptions {
  const files = opts.rotation?.files ?? opts.trigger?.files ?? 1;
  const paths = files > 1 ? rotationPaths(file, files) : [file];
  const opened: { path: string; file: OpenedForWrite }[] = [];
  const closeAndRemove = (): void => {
    for (const o of opened) {
      try {
        fs.closeSync(o.file.fd);
      } catch {
        /* ignore */
      }
      removeIfUnwritten(o.path, o.file);
    }
  };
  try {
    for (const p of paths) opened.push({ path: p, file: openRecordingForWrite(p, { force: opts.force ?? false, env: opts.env }) });
  } catch (e) {
    closeAndRemove(); // all or nothing: no half-made set of files
    throw e;
  }
  const stats = RecordingStatsView.create();
  const fdClaim = new SharedArrayBuffer(4);
  const claim = new Int32Array(fdClaim);
  let released = false;
  const first = opened[0];
  const rotation = opts.rotation
    ? { paths: opened.map((o) => path.resolve(o.path)), fds: opened.map((o) => o.file.fd), options: opts.rotation }
    : undefined;
  const triggerView = opts.trigger ? TriggerStatsView.create() : undefined;
  const trigger: TriggerConfig | undefined = opts.trigger && triggerView
    ? {
      conditions: opts.trigger.conditions, beforeSec: opts.trigger.beforeSec, afterSec: opts.trigger.afterSec,
      maxBytes: opts.trigger.maxBytes, paths: opened.map((o) => path.resolve(o.path)), fds: opened.map((o) => o.file.fd),
      triggerSab: triggerView.sab,
    }
    : undefined;
  return {
    pipeline: {
      recording: { path: path.resolve(first.path), fd: first.file.fd, fdClaim, header, statsSab: stats.sab, rotation, trigger },
    },
    stats,
    trigger: triggerView,
    file: first.file,
    release(): void {
      if (released) return;
      released = true;
      if (Atomics.compareExchange(claim, 0, FD_FREE, FD_RELEASED) !== FD_FREE) return; // the worker's now
      closeAndRemove();
    },
  };
}

/** Worker side: the recorder stage the config asks for: triggered (trigger-stage.ts) or not. */
export function recorderStage(cfg: RecordingStageConfig, backend: string): BatchStage {
  if (!cfg.trigger) return recordingStage(cfg, backend);
  claim(cfg);
  return createTriggerStage(cfg.trigger, {
    header: { ...cfg.header, backend: cfg.header?.backend ?? backend }, statsSab: cfg.statsSab,
  });
}

function claim(cfg: RecordingStageConfig): void {
  if (cfg.fd !== undefined && cfg.fdClaim
    && Atomics.compareExchange(new Int32Array(cfg.fdClaim), 0, FD_FREE, FD_TAKEN) !== FD_FREE) {
    throw new RecordingError('EIO', `recording ${cfg.path}: the file was released before the capture started`);
  }
}

/** Worker side: claim the descriptor and make the recorder stage. Throws a one-line RecordingError. */
export function recordingStage(cfg: RecordingStageConfig, backend: string): RecordingStage {
  claim(cfg);
  return createRecordingStage(
    cfg.path,
    { ...cfg.header, backend: cfg.header?.backend ?? backend },
    {
      statsSab: cfg.statsSab, flushIntervalMs: cfg.flushIntervalMs, fd: cfg.fd,
      ring: cfg.rotation ? new FileRing(cfg.rotation.paths, cfg.rotation.fds, cfg.rotation.options) : undefined,
    },
  );
}
