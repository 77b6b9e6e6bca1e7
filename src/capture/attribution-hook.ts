/**
 * attribution-hook.ts: installs SnapshotAttribution in the capture worker. Imported by worker.ts
 * before any other hook module, so recordings and the UI both get records already attributed.
 * The snapshot is read after the BPF programs are attached (start records are collected then), so
 * no socket can slip between the snapshot and the live events.
 */
import { addBatchHook, addStartRecords } from './batch-hooks';
import { SnapshotAttribution } from './attribution';
import { readSnapshot, SnapshotSummary } from './snapshot';

let attribution: SnapshotAttribution | null = null;
let summary: SnapshotSummary | undefined;

addStartRecords((nowNs) => {
  const snapshot = readSnapshot();
  summary = snapshot.summary;
  attribution = new SnapshotAttribution(snapshot.sockets);
  return attribution.initialRecords(nowNs);
});

/** What the start snapshot saw and could not see (undefined before the start records are made). */
export function snapshotSummary(): SnapshotSummary | undefined {
  return summary;
}

addBatchHook((bytes, view, count) => attribution?.apply(bytes, view, count));
