/**
 * A pipeline test stage (src/capture/pipeline.ts PipelineOptions.testStage), made in the capture
 * worker by createStage(options):
 *   counterSab: Int32 [0] += records seen by the stage.
 *   stallOnPid: busy-loop forever on the first batch holding a record of that pid (the test's own
 *     event: not the start records, which go through every stage before 'ready'), so stop()
 *     must terminate the worker.
 *   startRecords: emit that many start records (pid START_PID, ts_ns = start time).
 */
import { Offset, RECORD_SIZE } from '../../../src/capture/layout';
import type { BatchStage, StartRecords } from '../../../src/capture/pipeline';

export const START_PID = 0x7ffffffe;

interface Options { counterSab?: SharedArrayBuffer; stallOnPid?: number; startRecords?: number }

function startRecords(count: number, nowNs: bigint): StartRecords {
  const bytes = new Uint8Array(count * RECORD_SIZE);
  const view = new DataView(bytes.buffer);
  for (let i = 0; i < count; i++) {
    view.setBigUint64(i * RECORD_SIZE + Offset.ts_ns, nowNs, true);
    view.setUint32(i * RECORD_SIZE + Offset.pid, START_PID, true);
  }
  return { bytes, count };
}

export function createStage(opts: Options): BatchStage {
  const counter = opts.counterSab ? new Int32Array(opts.counterSab) : null;
  return {
    startRecords: opts.startRecords ? (nowNs) => startRecords(opts.startRecords ?? 0, nowNs) : undefined,
    batch(_staging, view, count) {
      if (counter) Atomics.add(counter, 0, count);
      if (opts.stallOnPid === undefined) return;
      for (let i = 0; i < count; i++) {
        if (view.getUint32(i * RECORD_SIZE + Offset.pid, true) !== opts.stallOnPid) continue;
        for (;;) { /* never answers */ }
      }
    },
  };
}
