/**
 * pump.ts: moves records from a source's ring into the model. The visitor is bound once, so a
 * drain allocates nothing per record.
 */
import type { SocketModel } from '../model/model';
import type { DataSource, SourceStats } from './source';

/** The shared ring is emptied this often, apart from frames: the ring (src/cli/live.ts) then holds
 *  about 3 drain intervals of the heaviest storm measured, so a slow frame loses nothing. */
export const DRAIN_INTERVAL_MS = 50;

export class Pump {
  private readonly visit: (view: DataView, off: number) => void;
  drained = 0;

  constructor(private readonly source: DataSource, private model: SocketModel) {
    this.visit = (view, off) => this.model.ingest(view, off);
  }

  /** Drain everything available now; returns how many records were ingested. */
  drain(): number {
    const n = this.source.ring.drain(this.visit);
    this.drained += n;
    return n;
  }

  /** Point at a fresh model (a replay seeking backward starts over). */
  setModel(model: SocketModel): void {
    this.model = model;
  }
}

/** Drops per stage [unused, bpf_ring, shared_ring, recording]: the larger of the stream's DROPS
 *  markers and the source's own counters (they may report the same loss twice). */
export function dropsPerStage(model: SocketModel, stats: SourceStats | undefined, ringDrops: number): number[] {
  const d = model.stats().drops;
  return [
    0,
    Math.max(d[1], stats?.bpfRingDrops ?? 0),
    Math.max(d[2], stats?.sharedRingDrops ?? ringDrops),
    Math.max(d[3], stats?.recordingDrops ?? 0),
  ];
}
