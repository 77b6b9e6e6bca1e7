/**
 * pipeline.ts: what the capture worker does with each batch of records between the BPF ring and
 * the shared ring, in order, in one place:
 *
 *   BPF ring -> [attribution] -> [found owners] -> [test stage?] -> [recorder?] -> shared ring
 *
 * - attribution (attribution-stage.ts): owners and ids of the sockets that existed before the
 *   capture started; first, so that the recording and the UI both get fixed-up records;
 * - found owners (found-owner-stage.ts): the comm and uid, from /proc, of the process named by a
 *   record socktop's walk made (a unix listener: no process context, so no comm);
 * - a test stage (tests only: a module path, loaded in the worker, whose createStage(options)
 *   returns a BatchStage: counting, stalling, extra start records);
 * - the recorder (record/recording-file.ts): last, it writes what the UI will see, before the
 *   shared ring, so a slow UI never loses recorded events.
 *
 * A stage sees the staging buffer in place and must not keep it: it is reused for the next batch.
 * An exception stops the capture (reported as a worker error). What the main thread asks for is
 * PipelineOptions (messages.ts); worker.ts builds the stages from it.
 */
export interface StartRecords {
  bytes: Uint8Array;
  count: number;
}

export interface BatchStage {
  /** Records to emit once, right after the BPF programs are attached and before 'ready' (e.g. one
   *  SNAPSHOT record per socket that existed at start). `nowNs` is CLOCK_MONOTONIC, the BPF clock.
   *  They go through the pipeline and into the shared ring like a polled batch. */
  startRecords?(nowNs: bigint): StartRecords;
  /** Every batch: `count` records of RECORD_SIZE bytes from byte 0 (offsets in layout.ts). */
  batch(staging: Uint8Array, view: DataView, count: number): void;
  /** The worker is ending, after its last batch. */
  close?(): void;
}

/** The stages in order; a batch goes through all of them. */
export class Pipeline {
  constructor(readonly stages: readonly BatchStage[]) {}

  /** Every stage's start records, each run through the whole pipeline like a polled batch. */
  startBatches(nowNs: bigint): StartRecords[] {
    const out: StartRecords[] = [];
    for (const stage of this.stages) {
      const start = stage.startRecords?.(nowNs);
      if (!start || start.count <= 0) continue;
      this.run(start.bytes, new DataView(start.bytes.buffer, start.bytes.byteOffset, start.bytes.byteLength), start.count);
      out.push(start);
    }
    return out;
  }

  run(staging: Uint8Array, view: DataView, count: number): void {
    const stages = this.stages;
    for (let i = 0; i < stages.length; i++) stages[i].batch(staging, view, count);
  }

  close(): void {
    for (const stage of this.stages) stage.close?.();
  }
}
