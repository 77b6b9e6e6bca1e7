/**
 * recording-stage.ts: the capture worker's recording stage. Per polled batch, before the batch goes
 * to the shared ring: every pid not seen before is looked up in /proc once (a PROCESS frame ahead of
 * its records, so a replay shows what the process was), then the records are appended. Drops
 * upstream of it are written as DROPS records where they happened. Each cgroup id not seen before
 * in the file goes with its path (the "cgroups" key of a PROCESS frame ahead of the records), so a
 * replay elsewhere names containers.
 */
import { EventKind, Offset, RECORD_SIZE } from '../capture/layout';
import type { BatchStage } from '../capture/pipeline';
import { readProcDetails } from '../capture/procfs';
import { CgroupPaths, hostCgroupRoot } from '../capture/cgroups';
import { UserNames } from '../capture/users';
import type { ProcessInfo } from './format';
import { RecordingStatsView } from './stats-view';
import type { FileRing } from './rotation';
import { addWriterStats, emptyWriterStats, HeaderInfo, RecordingWriter, WriterOptions, WriterStats } from './writer';

const users = new UserNames();

export interface RecordingStageOptions extends WriterOptions {
  /** A RecordingStatsView.sab to mirror the counters into (for the main thread). */
  statsSab?: SharedArrayBuffer;
  /** Look up new pids in /proc (default true). */
  lookupProcesses?: boolean;
  /** At most this many /proc lookups per second; beyond, process info comes from the record only. */
  maxLookupsPerSecond?: number;
  procRoot?: string;
  /** Several files used in turn (rotation.ts): `filePath` and `fd` are then ignored. */
  ring?: FileRing;
  /** Where cgroup ids get their paths (default: a walk of this host's cgroup v2 mount). */
  cgroupPaths?: CgroupPaths;
}

/** Most cgroup ids a file keeps waiting for a path (a cgroup gone before the walk saw it). */
const MAX_PENDING_CGROUPS = 4096;

export interface RecordingStage extends BatchStage {
  /**
   * Call once per batch the capture worker polled, with the staging buffer holding `count` whole
   * records from byte 0, BEFORE ring.pushBatch. Also call it with count = 0 when a poll times out:
   * it then only flushes if a second has passed. Never throws.
   */
  batch(staging: Uint8Array, view: DataView | null, count: number): void;
  /** Note events lost upstream of the recorder (stage: DropStage.BpfRing, ...). */
  drops(stage: number, count: number): void;
  /** Flush, write the END frame and close the file. */
  close(): WriterStats;
  /** Across every file of a rotation. */
  stats(): WriterStats;
  /** The file being written now. */
  readonly writer: RecordingWriter;
}

/**
 * The recorder as a pipeline stage (capture/pipeline.ts). Throws RecordingError (EIO, one line)
 * only when the file cannot be created.
 */
export function createRecordingStage(
  filePath: string, headerInfo: HeaderInfo, opts: RecordingStageOptions = {},
): RecordingStage {
  const ring = opts.ring;
  const statsView = opts.statsSab ? new RecordingStatsView(opts.statsSab) : null;
  /** Totals of the files a rotation finished. */
  const done = emptyWriterStats();
  const total = (): WriterStats => addStats(done, writer.stats(), ring?.started);
  const open = (): RecordingWriter => {
    const w = ring
      ? RecordingWriter.create(ring.current.path, { ...headerInfo, startWallMs: undefined, startMonoNs: undefined },
        { ...opts, fd: ring.current.fd, keepFd: true })
      : RecordingWriter.create(filePath, headerInfo, opts);
    if (statsView) w.onFlush = () => statsView.write(total());
    return w;
  };
  let writer = open();
  if (statsView) statsView.write(total());
  const lookup = opts.lookupProcesses ?? true;
  const maxLookups = opts.maxLookupsPerSecond ?? 1000;
  const procRoot = opts.procRoot ?? '/proc';
  const seen = new Set<number>();
  const exited = new Set<number>();
  let lookupWindow = 0;
  let lookups = 0;
  const newAt: number[] = [];
  const exitPids: number[] = [];
  const cgroupPaths = opts.cgroupPaths ?? new CgroupPaths(lookup ? hostCgroupRoot() : null);
  // Walked now, while the capture still runs with its privileges (the stage is made before the
  // BPF programs are attached): later walks may not read every directory.
  if (!opts.cgroupPaths && lookup) cgroupPaths.rescan();
  /** cgroup ids whose path this file holds, and those still without one (with a record's offset). */
  const namedCgroups = new Set<number>();
  const pendingCgroups = new Set<number>();
  const newCgroupAt = new Map<number, number>();

  function describe(staging: Uint8Array, at: number, pid: number): ProcessInfo | null {
    const now = Date.now();
    if (now - lookupWindow >= 1000) {
      lookupWindow = now;
      lookups = 0;
    }
    let info: ProcessInfo | null = null;
    if (lookup && lookups < maxLookups) {
      lookups++;
      info = readProcDetails(pid, procRoot) ?? null;
      if (info?.cgroup_id && info.cgroup !== undefined) cgroupPaths.learn(info.cgroup_id, info.cgroup);
    }
    if (info === null) {
      // Gone already (or over budget): a late event of a process we described before needs nothing
      // new; otherwise keep what the record says.
      if (exited.has(pid)) return null;
      info = recordOnlyInfo(staging, at, pid);
    }
    info.seen_mono_ns = readU64(staging, at + Offset.ts_ns).toString();
    return info;
  }

  /** The current file is full or old: finish it and start the next (processes described anew). */
  function rotate(): void {
    const finished = writer.close();
    addWriterStats(done, finished);
    ring!.advance();
    seen.clear();
    namedCgroups.clear();
    writer = open();
  }

  /**
   * The paths of this batch's new cgroup ids (and of earlier ones that had none), into the first
   * description written ahead of the batch; without one, a record-only description of the pid of
   * the first record that carried such an id.
   */
  function nameCgroups(staging: Uint8Array, infos: ProcessInfo[]): void {
    for (const cg of pendingCgroups) if (!newCgroupAt.has(cg)) newCgroupAt.set(cg, -1);
    if (newCgroupAt.size === 0) return;
    const cgroups: Record<string, string> = {};
    let named = 0;
    let firstAt = -1;
    for (const [cg, at] of newCgroupAt) {
      const path = cgroupPaths.pathOf(cg);
      if (path === undefined) {
        if (pendingCgroups.size < MAX_PENDING_CGROUPS) pendingCgroups.add(cg);
        continue;
      }
      pendingCgroups.delete(cg);
      namedCgroups.add(cg);
      cgroups[String(cg)] = path;
      named++;
      if (firstAt < 0 && at >= 0) firstAt = at;
    }
    newCgroupAt.clear();
    if (named === 0) return;
    if (infos.length === 0) {
      const at = Math.max(firstAt, 0);
      const pid = u32(staging, at + Offset.pid);
      infos.push({ ...recordOnlyInfo(staging, at, pid), seen_mono_ns: readU64(staging, at + Offset.ts_ns).toString() });
    }
    infos[0].cgroups = cgroups;
  }

  return {
    get writer() {
      return writer;
    },
    batch(staging: Uint8Array, _view: DataView | null, count: number): void {
      if (ring && count > 0 && ring.due(writer.size)) rotate();
      if (count > 0) {
        newAt.length = 0;
        exitPids.length = 0;
        for (let i = 0, at = 0; i < count; i++, at += RECORD_SIZE) {
          const pid = u32(staging, at + Offset.pid);
          if (pid !== 0 && !seen.has(pid)) {
            seen.add(pid);
            newAt.push(at);
          }
          if (staging[at + Offset.kind] === EventKind.Exit) exitPids.push(pid);
          const cg = cgroupIdAt(staging, at);
          if (cg !== 0 && !namedCgroups.has(cg) && !newCgroupAt.has(cg)) newCgroupAt.set(cg, at);
        }
        const infos: ProcessInfo[] = [];
        for (const at of newAt) {
          const pid = u32(staging, at + Offset.pid);
          let info: ProcessInfo | null = null;
          try {
            info = describe(staging, at, pid);
          } catch {
            info = null;
          }
          if (info) infos.push(info);
        }
        nameCgroups(staging, infos);
        for (const info of infos) writer.appendProcessInfo(info);
        writer.appendRecords(staging, count);
        for (const pid of exitPids) {
          seen.delete(pid);
          exited.add(pid);
          if (exited.size > 65536) exited.clear();
        }
      } else {
        writer.maybeFlush();
      }
    },
    drops(stage: number, count: number): void {
      writer.appendDrops(stage, count);
    },
    close(): WriterStats {
      writer.close();
      ring?.closeAll();
      const st = total();
      statsView?.write(st);
      return st;
    },
    stats(): WriterStats {
      return total();
    },
  };
}

/** What a record says of its process (from_proc false: /proc was not read). */
function recordOnlyInfo(staging: Uint8Array, at: number, pid: number): ProcessInfo {
  let comm = '';
  for (let i = 0; i < 16; i++) {
    const c = staging[at + Offset.comm + i];
    if (c === 0) break;
    comm += String.fromCharCode(c);
  }
  const uid = u32(staging, at + Offset.uid);
  return { pid, comm, uid, user: users.name(uid), from_proc: false };
}

function cgroupIdAt(b: Uint8Array, at: number): number {
  return u32(b, at + Offset.cgroup_id + 4) * 4294967296 + u32(b, at + Offset.cgroup_id);
}


/** The finished files' totals plus the current file's counters. */
function addStats(done: WriterStats, current: WriterStats, files: number | undefined): WriterStats {
  const t = { ...done };
  addWriterStats(t, current);
  t.closed = current.closed;
  t.lastError = current.lastError ?? done.lastError;
  if (files !== undefined) t.files = files;
  return t;
}

function u32(b: Uint8Array, at: number): number {
  return (b[at] | (b[at + 1] << 8) | (b[at + 2] << 16) | (b[at + 3] << 24)) >>> 0;
}

function readU64(b: Uint8Array, at: number): bigint {
  return (BigInt(u32(b, at + 4)) << 32n) | BigInt(u32(b, at));
}
