/**
 * frame.ts: everything one frame shows, gathered once by the app and handed to each view.
 */
import type { SocketModel } from '../../model/model';
import type { SourceInfo, SourceStats } from '../../source';
import type { UiState } from '../state';
import type { Theme } from './theme';
import type { AlertStatus } from '../../model/alerts/evaluator';

export interface Cost {
  /** socktop's own CPU (user + sys) as % of one core since the previous frame. */
  cpuPct: number;
  /** Average BPF program run time per event, ns (NaN when the kernel keeps no stats). */
  bpfNsPerEvent: number;
  /** BPF programs' run time as % of one core since the previous frame. */
  bpfCpuPct: number;
}

export interface Frame {
  model: SocketModel;
  state: UiState;
  theme: Theme;
  info: SourceInfo;
  stats: SourceStats | undefined;
  /** Drops per stage: [unused, bpf_ring, shared_ring, recording]. */
  drops: readonly number[];
  uptimeMs: number;
  cost: Cost;
  width: number;
  /** --alert conditions and their state (the header's fourth line); absent without --alert. */
  alerts?: readonly AlertStatus[];
  /** Exited processes folded into their command (the views' count), when known. */
  foldedExited?: number;
}
