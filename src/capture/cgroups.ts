/**
 * cgroups.ts: cgroup v2 id -> path, by walking the cgroup v2 mount. A cgroup's id (what the BPF
 * programs put in each record's cgroup_id) is the inode number of its directory there, so one walk
 * (readdir + stat per directory) maps every id to its path relative to the root.
 *
 * Cached; an id not in the cache makes a rescan, at most one per `minRescanMs` (100 ms: a new
 * container's first events are named within a tenth of a second) and never more often than keeps
 * walking under 2% of a core (a walk that took 5 ms waits 250 ms before the next), so a storm of
 * records from cgroups that have gone already costs a bounded number of walks, not one per record.
 * Bounded: the walk stops after `maxEntries` directories and `maxDepth` levels, and says so
 * (truncated).
 */
import * as fs from 'fs';
import { findCgroup2Mount } from './kernel';

export interface CgroupPathsOptions {
  /** Most directories kept (and walked) per scan. */
  maxEntries?: number;
  maxDepth?: number;
  /** Fewest ms between two rescans caused by misses. */
  minRescanMs?: number;
  now?: () => number;
}

/** Most of a core that walks caused by misses may take. */
const WALK_SHARE = 0.02;

export class CgroupPaths {
  private byId = new Map<number, string>();
  private lastScanMs = -Infinity;
  private readonly maxEntries: number;
  private readonly maxDepth: number;
  private readonly minRescanMs: number;
  /** Current fewest ms between rescans: minRescanMs, or more when walks are slow (WALK_SHARE). */
  private gapMs: number;
  private readonly now: () => number;
  /** Walks done, and whether the last one stopped at maxEntries. */
  scans = 0;
  truncated = false;

  /** `root`: the cgroup v2 mount point (null: none, every lookup misses). */
  constructor(readonly root: string | null, o: CgroupPathsOptions = {}) {
    this.maxEntries = o.maxEntries ?? 65536;
    this.maxDepth = o.maxDepth ?? 64;
    this.minRescanMs = o.minRescanMs ?? 100;
    this.gapMs = this.minRescanMs;
    this.now = o.now ?? Date.now;
  }

  /** The path of cgroup `id` relative to the root ("/" for the root itself), or undefined. */
  pathOf(id: number): string | undefined {
    if (id === 0 || this.root === null) return undefined;
    const known = this.byId.get(id);
    if (known !== undefined) return known;
    const now = this.now();
    if (now - this.lastScanMs < this.gapMs) return undefined;
    this.rescan(now);
    return this.byId.get(id);
  }

  /** Add what another source knew (a PROCESS description's cgroup). */
  learn(id: number, path: string): void {
    if (id !== 0 && (this.byId.size < this.maxEntries || this.byId.has(id))) this.byId.set(id, path);
  }

  get size(): number {
    return this.byId.size;
  }

  /**
   * Walk the whole tree again. What the walk finds is added to what earlier walks found (ids are
   * not reused while the system runs, and an earlier walk may have seen directories a later one
   * cannot: one done as root before socktop gave up its privileges); over maxEntries the map
   * starts over from this walk.
   */
  rescan(now = this.now()): void {
    const started = performance.now();
    this.walk(now);
    this.gapMs = Math.max(this.minRescanMs, (performance.now() - started) / WALK_SHARE);
  }

  private walk(now: number): void {
    this.lastScanMs = now;
    this.scans++;
    const found = new Map<number, string>();
    this.truncated = false;
    const rootIno = inodeOf(this.root!);
    if (rootIno === undefined) return;
    found.set(rootIno, '/');
    // Breadth first: a cap cuts the deepest (most numerous, most transient) cgroups first.
    let level: Array<[string, string]> = [[this.root!, '']];
    for (let depth = 0; depth < this.maxDepth && level.length > 0 && !this.truncated; depth++) {
      const next: Array<[string, string]> = [];
      for (const [dir, rel] of level) {
        for (const name of subdirectories(dir)) {
          if (found.size >= this.maxEntries) {
            this.truncated = true;
            break;
          }
          const full = `${dir}/${name}`;
          const ino = inodeOf(full);
          if (ino === undefined) continue; // removed meanwhile
          const path = `${rel}/${name}`;
          found.set(ino, path);
          next.push([full, path]);
        }
      }
      level = next;
    }
    if (this.byId.size + found.size <= this.maxEntries) {
      for (const [id, path] of found) this.byId.set(id, path);
    } else {
      this.byId = found;
    }
  }
}

function subdirectories(dir: string): string[] {
  try {
    return fs.readdirSync(dir, { withFileTypes: true }).filter((d) => d.isDirectory()).map((d) => d.name);
  } catch {
    return [];
  }
}

function inodeOf(path: string): number | undefined {
  try {
    return fs.statSync(path).ino;
  } catch {
    return undefined;
  }
}

/** The cgroup v2 mount of this host (null when there is none). */
export function hostCgroupRoot(): string | null {
  try {
    return findCgroup2Mount(fs.readFileSync('/proc/self/mountinfo', 'utf8'));
  } catch {
    return null;
  }
}

/** The cgroup v2 path of a process from /proc/PID/cgroup (the "0::" line), or undefined. */
export function cgroupPathOfPid(pid: number, procRoot = '/proc'): string | undefined {
  try {
    const m = /^0::(\/.*)$/m.exec(fs.readFileSync(`${procRoot}/${pid}/cgroup`, 'utf8'));
    // A path outside the reader's cgroup namespace reads "/../..": not one the root's walk knows.
    return m && !m[1].startsWith('/..') ? m[1] : undefined;
  } catch {
    return undefined;
  }
}

/** The cgroup id (directory inode) of a path under `root`, or 0. */
export function cgroupIdOfPath(root: string | null, path: string): number {
  if (root === null) return 0;
  return inodeOf(path === '/' ? root : root + path) ?? 0;
}

/** The network namespace of a process (inode of /proc/PID/ns/net), or 0. */
export function netnsOfPid(pid: number, procRoot = '/proc'): number {
  return inodeOf(`${procRoot}/${pid}/ns/net`) ?? 0;
}
