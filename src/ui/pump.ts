/**
 * pump.ts: moves records from a source's ring into the model. The visitor is bound once, so a
 * drain allocates nothing per record.
 */
import { DROP_STAGES, dropCounters, DropStage } from '../capture/layout';
import type { SocketModel } from '../model/model';
import type { DataSource, SourceStats } from '../source';

/** The shared ring is emptied this often, apart from frames: the ring (src/cli/live.ts) then holds
 *  about 3 drain intervals of the heaviest storm measured, so a slow frame loses nothing. */
export const DRAIN_INTERVAL_MS = 50;

export class Pump {
  private readonly visit: (view: DataView, off: number) => void;
  drained = 0;

  constructor(private readonly source: DataSource, private model: SocketModel) {
    this.visit = (view, off) => this.model.ingest(view, off);
    this.nameCgroups();
  }

  /** The model names containers by the source's cgroup paths. */
  private nameCgroups(): void {
    const source = this.source;
    if (source.cgroupPath) this.model.setCgroupResolver((id) => source.cgroupPath!(id));
    if (source.containerName) this.model.setContainerNamer((id) => source.containerName!(id));
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
    this.nameCgroups();
  }
}

/** Drops per stage (indexed by DropStage): the larger of the stream's DROPS markers and the
 *  source's own counters (they may report the same loss twice). */
export function dropsPerStage(model: SocketModel, stats: SourceStats | undefined, ringDrops: number): number[] {
  return maxDrops(model.stats().drops, stats, ringDrops);
}

/** Per stage, the larger of counted DROPS markers and the source's own counters. */
export function maxDrops(markers: readonly number[], stats: SourceStats | undefined, ringDrops: number): number[] {
  const d = dropCounters();
  const own: Record<DropStage, number> = {
    [DropStage.KernelMiss]: stats?.kernelMisses ?? 0,
    [DropStage.UdpFlows]: 0, // told only by the BPF side's DROPS markers
    [DropStage.BpfRing]: stats?.bpfRingDrops ?? 0,
    [DropStage.SharedRing]: stats?.sharedRingDrops ?? ringDrops,
    [DropStage.Recording]: stats?.recordingDrops ?? 0,
  };
  for (const st of DROP_STAGES) d[st] = Math.max(markers[st] ?? 0, own[st]);
  return d;
}
