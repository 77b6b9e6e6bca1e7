/**
 * source.ts: the seam between where events come from and what shows them. The live capture
 * (src/cli/live.ts) and a replay (src/record/replay-source.ts) both implement DataSource and fill
 * the same SharedRing; the TUI (src/ui), batch mode and --json (src/cli/run) read any DataSource
 * the same way, draining `ring` on their own timer. Neutral ground: it imports neither side.
 */
import type { SharedRing } from './capture/ring';
import type { ProcessDetails } from './capture/procfs';

export type { ProcessDetails } from './capture/procfs';

export interface SourceInfo {
  mode: 'live' | 'replay';
  /** Probe backend that produced the events (kprobe, tracepoint; for a replay: as recorded). */
  backend: string;
  host: string;
  kernel: string;
  /** Why this backend (live), or a one-line description of the recording (replay). */
  detail?: string;
  attachMs?: number;
  programs?: number;
  /** Live: recording to this file as well (--record). */
  recordingTo?: string;
  /**
   * Live: what this run cannot see that a root run would, one short note each (a capability-only
   * run: "snapshot: 3 sockets hidden (no CAP_SYS_PTRACE)"). Shown in the header.
   */
  limits?: string[];
}

export interface ProgramCost {
  name: string;
  runCount: number;
  runTimeNs: number;
}

export interface SourceStats {
  /** Runs of socktop's BPF programs the kernel skipped (another BPF program ran on that CPU). */
  kernelMisses?: number;
  /** Events the BPF programs could not put in the BPF ring buffer. */
  bpfRingDrops?: number;
  /** Records refused by the shared ring (defaults to ring.drops()). */
  sharedRingDrops?: number;
  /** Records lost while writing the recording. */
  recordingDrops?: number;
  /** The last recording write error (e.g. "ENOSPC: no space left on device"), shown in the header. */
  recordingError?: string | null;
  /** kernel.bpf_stats_enabled figures, when the kernel keeps them. */
  programs?: ProgramCost[];
  /** Replay: position and speed for the header. */
  replay?: { positionNs: number; durationNs: number; speed: number; paused: boolean; ended: boolean };
}

export type ReplayAction =
  | 'speed-up' | 'speed-down' | 'seek-back' | 'seek-forward' | 'toggle-pause' | 'seek-start' | 'seek-end';

export interface DataSource {
  readonly ring: SharedRing;
  describe(): SourceInfo;
  /** Cheap; called once per frame. */
  stats(): SourceStats | undefined;
  /**
   * "Now" on the records' clock (CLOCK_MONOTONIC ns of the capturing host): live, the monotonic
   * clock; a replay, its position. Without it the newest record's time is used.
   */
  clockNs?(): number;
  /** True once a finite source (a replay) has pushed everything: --json and batch then end. */
  finished?(): boolean;
  /** Replay keys (space + - left right g G); live sources leave it out. */
  control?(action: ReplayAction): void;
  /** Detail-view header: from /proc live, from the recording in a replay. */
  processInfo?(pid: number): ProcessDetails | undefined;
  /** cgroup v2 id -> path relative to the cgroup root: the live walk, or the recording's map. */
  cgroupPath?(cgroupId: number): string | undefined;
  /** A container's name from its runtime's API (live: capture/container-names.ts), once known. */
  containerName?(containerId: string): string | undefined;
  /** Called by the app when the source tells it to start over (a replay's backward seek). */
  onReset?(listener: () => void): void;
  /** Stop producing; for live capture, detach the BPF programs. Idempotent. */
  stop(): Promise<void>;
}

/** The monotonic clock in ns as a number (same clock as bpf_ktime_get_ns). */
export function monotonicNs(): number {
  return Number(process.hrtime.bigint());
}
