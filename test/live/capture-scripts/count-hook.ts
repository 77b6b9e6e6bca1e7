/**
 * A batch-hook module for tests, loaded in the capture worker through StartOptions.hookModules.
 *   hookOptions.counterSab: Int32 [0] += records seen by the hook.
 *   hookOptions.stall: busy-loop forever on the first batch (stop() must then terminate us).
 *   hookOptions.startRecords: emit that many start records (pid START_PID, ts_ns = start time).
 */
import { isMainThread, workerData } from 'worker_threads';
import { addBatchHook, addStartRecords } from '../../../src/capture/batch-hooks';
import { Offset, RECORD_SIZE } from '../../../src/capture/layout';

export const START_PID = 0x7ffffffe;

interface Options { counterSab?: SharedArrayBuffer; stall?: boolean; startRecords?: number }

function startRecords(count: number) {
  return (nowNs: bigint): { bytes: Uint8Array; count: number } => {
    const bytes = new Uint8Array(count * RECORD_SIZE);
    const view = new DataView(bytes.buffer);
    for (let i = 0; i < count; i++) {
      view.setBigUint64(i * RECORD_SIZE + Offset.ts_ns, nowNs, true);
      view.setUint32(i * RECORD_SIZE + Offset.pid, START_PID, true);
    }
    return { bytes, count };
  };
}

function install(opts: Options): void {
  const counter = opts.counterSab ? new Int32Array(opts.counterSab) : null;
  if (opts.startRecords) addStartRecords(startRecords(opts.startRecords));
  addBatchHook((_staging, _view, count) => {
    if (counter) Atomics.add(counter, 0, count);
    while (opts.stall) { /* never answers */ }
  });
}

// The tests import START_PID on the main thread: install only inside the capture worker.
if (!isMainThread) install((workerData?.hookOptions ?? {}) as Options);
