/**
 * live.ts: the live capture as a DataSource: choose the backend, check that every capability it
 * needs is there (a clear one-liner naming the missing ones before any BPF call), start the capture
 * worker, optionally record (--record FILE), then give up root and every capability.
 */
import * as os from 'os';
import type { Backend, ProbeChoice } from '../capture/addon';
import { chooseBackend } from '../capture/backend';
import { backendProblem, snapshotLimit } from '../capture/capabilities';
import { detectKernelSupport, KernelSupport } from '../capture/kernel';
import { startCapture, CaptureSession, StartOptions } from '../capture/session';
import { CgroupPaths, hostCgroupRoot } from '../capture/cgroups';
import { ContainerNames, Inspect } from '../capture/container-names';
import { spawnNamesHelper } from '../capture/container-names-helper';
import type { DataSource, SourceInfo, SourceStats } from '../source';
import { monotonicNs } from '../source';
import { NEEDS_PRIVILEGES, PRIVILEGES_HINT, SocktopError } from './errors';
import type { CommonOptions } from './options';
import { onShutdown, stopSignal } from './shutdown';
import { dropPrivileges, DropResult } from './privileges';
import { startHeapTrimmer } from '../heap-trim';

export interface LiveOptions {
  probe: ProbeChoice;
  ringCapacity?: number;
  /** Also record every event to this file (--record). */
  record?: string;
  /** --force: the recording may overwrite an existing file (a regular file of the invoking user). */
  force?: boolean;
  /** The capture died after it started (worker crash): the command should end with this error. */
  onError?: (err: Error) => void;
}

/**
 * 64k records (8 MiB): the UI drains every 50 ms (DRAIN_INTERVAL_MS); the heaviest loopback storm
 * measured here (about 280k records/s) fills at most about 22k between drains, so this is 3 drain
 * intervals of headroom for a slow frame or a GC pause. Bigger costs resident memory for nothing
 * (peak RSS is a target: bench/storm.ts measures it and the ring's fill).
 */
export const DEFAULT_RING_CAPACITY = 1 << 16;

/** The BPF ring buffer: 4 MiB, 32k records (user space maps it twice: 8 MiB of RSS). The reader
 *  is woken when 2048 records wait and polls every 50 ms anyway; the shared ring behind it absorbs
 *  the UI's pauses. */
export const DEFAULT_BPF_RING_BYTES = 4 << 20;

export interface LiveCapture {
  session: CaptureSession;
  /** cgroup id -> path, walked once before the privileges go (directories only root may read). */
  cgroups: CgroupPaths;
  /** Asks the container runtimes for names: the helper started while still root, or null. */
  containerNames: Inspect | null;
  backend: string;
  reason: string;
  /** What this run cannot see that a root run would (short notes for the header and --json). */
  limits: string[];
  privileges: DropResult;
}

/**
 * Backend choice, capabilities, start, privilege drop: the one way socktop starts a live capture
 * (the TUI, --json, -b, and `record` through its startLive hook). The recorder, if any, comes in
 * `extra.pipeline`.
 */
export async function startLiveCapture(
  probe: ProbeChoice,
  extra: Partial<Pick<StartOptions, 'pipeline' | 'onError' | 'ringCapacity'>> = {},
  /** Whether anything will show container names (the TUI, -b, --json; not `record`). */
  names = true,
): Promise<LiveCapture> {
  const support = detectKernelSupport();
  // What the kernel lacks first (privileges would not help), then what this process lacks.
  const choice = chooseBackend(probe, support);
  const problem = capabilityProblem(probe, choice.backend, support);
  if (problem) throw new SocktopError(problem);
  const session = await startCapture({
    backend: choice.backend,
    ringCapacity: extra.ringCapacity ?? DEFAULT_RING_CAPACITY,
    bpfRingBytes: DEFAULT_BPF_RING_BYTES,
    pipeline: extra.pipeline,
    onError: extra.onError,
  });
  const cgroups = new CgroupPaths(support.cgroup.mount ?? hostCgroupRoot());
  cgroups.rescan();
  // The runtimes' sockets are root's: a child that keeps only that asks them for names.
  const containerNames = names ? spawnNamesHelper() : null;
  // Attached, snapshot read, recording opened: root and capabilities are no longer needed.
  let privileges: DropResult;
  try {
    privileges = dropPrivileges();
  } catch (e) {
    await session.stop();
    throw e;
  }
  // The worker's libbpf freed its parse of the kernel BTF: give that back, and keep trimming.
  startHeapTrimmer()?.trimNow();
  const limits = [snapshotLimit(session.snapshot, support.credentials)].filter((l): l is string => l !== null);
  return { session, cgroups, containerNames, ...choice, limits, privileges };
}

/** The one line naming what `backend` lacks here, or null when it has every required capability. */
export function capabilityProblem(probe: ProbeChoice, backend: Backend, support: KernelSupport): string | null {
  const problem = backendProblem(probe, backend, support);
  if (problem === undefined) return support.privileges.sufficient ? null : NEEDS_PRIVILEGES;
  return problem === null ? null : `${problem} (${PRIVILEGES_HINT})`;
}

export async function openLiveSource(o: LiveOptions): Promise<DataSource> {
  const rec = o.record ? await recordingOptions(o.record, o.force ?? false) : undefined;
  let started: Awaited<ReturnType<typeof startLiveCapture>>;
  try {
    started = await startLiveCapture(o.probe, {
      ringCapacity: o.ringCapacity, pipeline: rec?.pipeline, onError: o.onError,
    });
  } catch (e) {
    rec?.release(); // no capture: no recording file left behind
    throw e;
  }
  const { session, cgroups, containerNames, ...choice } = started;
  const source = new LiveSource(session, cgroups, containerNames, {
    mode: 'live', backend: choice.backend, host: os.hostname(), kernel: os.release(), detail: choice.reason,
    attachMs: session.info.attachMs, programs: session.info.programs.length, recordingTo: o.record,
    limits: choice.limits.length > 0 ? choice.limits : undefined,
  }, rec?.stats);
  onShutdown(() => source.stop());
  return source;
}

interface RecordingParts {
  pipeline: StartOptions['pipeline'];
  stats: { read(): { recordsLost: number; lastError: string | null } };
  release(): void;
}

async function recordingOptions(file: string, force: boolean): Promise<RecordingParts> {
  const { recordingStartOptions } = await import('../record/recording-file');
  return recordingStartOptions(file, {}, { force });
}

class LiveSource implements DataSource {
  /** Names from Docker's / Podman's API where reachable (asked lazily, never an error). */
  private readonly containerNames: ContainerNames;

  constructor(
    private readonly session: CaptureSession,
    /** Names the cgroup ids of the records (containers, units): a walk of the cgroup v2 mount. */
    private readonly cgroups: CgroupPaths,
    names: Inspect | null,
    private readonly info: SourceInfo,
    private readonly recording?: { read(): { recordsLost: number; lastError: string | null } },
  ) {
    this.containerNames = new ContainerNames(names ? { inspect: names } : {});
  }

  get ring() {
    return this.session.ring;
  }

  describe(): SourceInfo {
    return this.info;
  }

  stats(): SourceStats | undefined {
    const s = this.session.latestStats();
    const rec = this.recording?.read();
    const recordingDrops = rec?.recordsLost;
    const recordingError = rec?.lastError ?? null;
    if (!s) return { sharedRingDrops: this.ring.drops(), recordingDrops, recordingError };
    return {
      kernelMisses: s.session.kernelMisses ?? 0,
      bpfRingDrops: s.session.bpfRingDrops,
      sharedRingDrops: Math.max(s.sharedRingDrops, this.ring.drops()),
      recordingDrops,
      recordingError,
      programs: s.session.programs,
    };
  }

  clockNs(): number {
    return monotonicNs();
  }

  cgroupPath(cgroupId: number): string | undefined {
    return this.cgroups.pathOf(cgroupId);
  }

  containerName(containerId: string): string | undefined {
    return this.containerNames.nameOf(containerId);
  }

  stop(): Promise<void> {
    return this.session.stop();
  }
}

/** A live source for a headless command (--json, -b), attached and announced on stderr. */
export interface HeadlessLive {
  source: DataSource;
  /** Aborts on SIGINT/SIGTERM (the shutdown path) and when the capture dies. */
  stop: AbortController;
  /** After the command's loop: the capture's death, if that is what stopped it, as the command's error. */
  throwIfDied(): void;
}

export async function openHeadlessLive(o: CommonOptions): Promise<HeadlessLive> {
  const stop = linkedAbort(stopSignal);
  let died: Error | undefined;
  const source = await openLiveSource({
    probe: o.probe, record: o.record, force: o.force, onError: (e) => { died = e; stop.abort(); },
  });
  process.stderr.write(attachedLine(source.describe()));
  return {
    source,
    stop,
    throwIfDied(): void {
      if (died) throw died;
    },
  };
}

/** One line on stderr once the probes are attached (scripts and tests wait for it). */
export function attachedLine(info: SourceInfo): string {
  const attach = info.attachMs === undefined ? '' : ` in ${Math.round(info.attachMs)} ms`;
  const rec = info.recordingTo ? `, recording to ${info.recordingTo}` : '';
  // What a capability-only run cannot see (live.ts), as the header shows it.
  const limits = (info.limits ?? []).map((l) => `; ${l}`).join('');
  return `socktop: attached ${info.programs ?? '?'} ${info.backend} programs${attach}${rec}${limits}\n`;
}

/** An AbortController that also aborts when `parent` does (signal, or the capture dying). */
function linkedAbort(parent: AbortSignal): AbortController {
  const ac = new AbortController();
  if (parent.aborted) ac.abort();
  else parent.addEventListener('abort', () => ac.abort(), { once: true });
  return ac;
}
