/**
 * attribution-hook.ts: installs SnapshotAttribution in the capture worker. Imported by worker.ts
 * before any other hook module, so recordings and the UI both get records already attributed.
 * The snapshot is read after the BPF programs are attached (start records are collected then), so
 * no socket can slip between the snapshot and the live events.
 */
import { addBatchHook, addStartRecords } from './batch-hooks';
import { SnapshotAttribution } from './attribution';
import { readExistingSockets } from './snapshot';

let attribution: SnapshotAttribution | null = null;

addStartRecords((nowNs) => {
  attribution = new SnapshotAttribution(readExistingSockets());
  return attribution.initialRecords(nowNs);
});

addBatchHook((bytes, view, count) => attribution?.apply(bytes, view, count));
