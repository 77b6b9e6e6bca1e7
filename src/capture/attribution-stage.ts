/**
 * attribution-stage.ts: SnapshotAttribution (attribution.ts) as the capture pipeline's first stage
 * (pipeline.ts). The snapshot is read when the start records are collected, after the BPF programs
 * are attached, so no socket can slip between the snapshot and the live events.
 */
import { SnapshotAttribution } from './attribution';
import type { BatchStage, StartRecords } from './pipeline';
import { readSnapshot, SnapshotSummary } from './snapshot';

export class AttributionStage implements BatchStage {
  private attribution: SnapshotAttribution | null = null;
  /** What the start snapshot saw and could not see (undefined before the start records are made). */
  summary: SnapshotSummary | undefined;

  startRecords(nowNs: bigint): StartRecords {
    const snapshot = readSnapshot();
    this.summary = snapshot.summary;
    this.attribution = new SnapshotAttribution(snapshot.sockets);
    return this.attribution.initialRecords(nowNs);
  }

  batch(staging: Uint8Array, view: DataView, count: number): void {
    this.attribution?.apply(staging, view, count);
  }
}
