/**
 * capture-hook.ts: the recorder as a capture-worker hook module (src/capture/batch-hooks.ts).
 *
 * The capture worker require()s the modules in StartOptions.hookModules before it opens the BPF
 * session; this one reads workerData.hookOptions.recording (RecordingHookConfig), creates the file
 * and registers a batch hook that writes every batch before it enters the shared ring. The file is
 * closed (END frame, fsync) when the worker thread exits; a worker that has to be terminated leaves
 * a file without END frame, which still replays (with a warning) up to its last flushed record.
 *
 * Main thread: use recordingStartOptions() to build the StartOptions parts and the stats view:
 *
 *     const rec = recordingStartOptions(file);
 *     const session = await startCapture({ backend, ringCapacity,
 *       hookModules: [...otherHookModules, ...rec.hookModules],       // the recorder LAST: it
 *       hookOptions: { ...otherHookOptions, ...rec.hookOptions } });  // must see fixed-up records
 *     rec.stats.read()   // { records, bytes, recordsLost, writeErrors, lastError, ... } any time
 */
import * as path from 'path';
import { isMainThread, workerData } from 'worker_threads';
import { addBatchHook } from '../capture/batch-hooks';
import { HeaderInfo, RecordingStatsView, createRecordingHook } from './writer';

export interface RecordingHookConfig {
  path: string;
  /** Header fields; backend defaults to workerData.backend. */
  header?: Partial<HeaderInfo>;
  /** RecordingStatsView.sab */
  statsSab?: SharedArrayBuffer;
  flushIntervalMs?: number;
}

export interface RecordingStartOptions {
  hookModules: string[];
  hookOptions: { recording: RecordingHookConfig };
  stats: RecordingStatsView;
}

/** The hook module path and options for startCapture(), plus a stats view readable on this thread. */
export function recordingStartOptions(file: string, header: Partial<HeaderInfo> = {}): RecordingStartOptions {
  const stats = RecordingStatsView.create();
  return {
    hookModules: [path.join(__dirname, 'capture-hook.js')],
    hookOptions: { recording: { path: path.resolve(file), header, statsSab: stats.sab } },
    stats,
  };
}

function install(): void {
  const data = (workerData ?? {}) as { backend?: string; hookOptions?: { recording?: RecordingHookConfig } };
  const cfg = data.hookOptions?.recording;
  if (!cfg || !cfg.path) return;
  const rec = createRecordingHook(
    cfg.path,
    { ...cfg.header, backend: cfg.header?.backend ?? data.backend ?? 'unknown' },
    { statsSab: cfg.statsSab, flushIntervalMs: cfg.flushIntervalMs },
  );
  addBatchHook(rec.hook);
  process.once('exit', () => rec.close());
}

if (!isMainThread) install();
