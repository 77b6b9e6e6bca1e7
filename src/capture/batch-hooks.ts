/**
 * batch-hooks.ts: the capture worker's one extension point. Each batch of records, after it left
 * the BPF ring and before it enters the shared ring, is shown to every registered hook: the
 * recorder writes it to disk (so a slow UI never loses recorded events), owner attribution can fix
 * fields in place. Hooks run on the worker thread; modules that register them are loaded in the
 * worker through StartOptions.hookModules (session.ts).
 *
 * Start-record sources (below) add records of their own once, at start (socket snapshots).
 *
 * A hook gets the staging buffer, a DataView over it, and the number of records at its start
 * (RECORD_SIZE bytes each; field offsets in layout.ts). It must not keep references to the buffer:
 * it is reused for the next batch. An exception stops the capture (reported as a worker error).
 */

export type BatchHook = (staging: Uint8Array, view: DataView, count: number) => void;

const hooks: BatchHook[] = [];

/** Register a hook; returns a function that removes it. */
export function addBatchHook(hook: BatchHook): () => void {
  hooks.push(hook);
  return () => {
    const i = hooks.indexOf(hook);
    if (i >= 0) hooks.splice(i, 1);
  };
}

export function runBatchHooks(staging: Uint8Array, view: DataView, count: number): void {
  for (let i = 0; i < hooks.length; i++) hooks[i](staging, view, count);
}

/**
 * Records to emit once, right after the BPF programs are attached and before 'ready' (e.g. one
 * SNAPSHOT record per socket that existed at start). `nowNs` is CLOCK_MONOTONIC, the BPF clock.
 * They go through the batch hooks and into the shared ring like any polled batch.
 */
export type StartRecordsSource = (nowNs: bigint) => { bytes: Uint8Array; count: number };

const startSources: StartRecordsSource[] = [];

export function addStartRecords(source: StartRecordsSource): void {
  startSources.push(source);
}

/** For the worker: each source's records, in registration order. */
export function collectStartRecords(nowNs: bigint): { bytes: Uint8Array; count: number }[] {
  return startSources.map((source) => source(nowNs));
}
