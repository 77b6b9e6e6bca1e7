/**
 * addon.ts: the typed face of the native addon (native/src/addon.cc). Only the capture worker opens
 * sessions; `check` and tests use the read-only probes. The addon is context-aware: each worker
 * thread gets its own instance.
 *
 * Where the files are: node-gyp-build picks native/build/Release/socktop.node (a build from source,
 * as in a checkout) or else the prebuilt native/prebuilds/linux-x64/socktop.napi.glibc.node that the
 * npm package ships (N-API: one binary for every Node version). Both paths are relative to the
 * package root, which is three levels above this file's compiled dist/src/capture/addon.js in a
 * checkout and in an installed package alike.
 */
import * as path from 'path';

export type ProbeChoice = 'auto' | 'cgroup' | 'kprobe' | 'tracepoint';

export type Backend = 'cgroup' | 'kprobe' | 'tracepoint';

/** --probe values, `auto` first. */
export const PROBE_CHOICES: readonly ProbeChoice[] = ['auto', 'cgroup', 'kprobe', 'tracepoint'];

export interface OpenOptions {
  /** Chosen in TypeScript (src/capture/backend.ts), never 'auto' here. */
  backend: Backend;
  objectPath: string;       // bpf/socktop.bpf.o
  bpfRingBytes?: number;    // size of the BPF ring buffer map (default 16 MiB; 4096..2^30)
}

export interface OpenResult {
  backend: Backend;
  attachMs: number;         // time from open() call to all programs attached
  programs: string[];       // names of the programs attached
  programIds: number[];     // their kernel ids, same order (`bpftool prog show id N`)
  skipped: string[];        // optional (`*_opt`) programs whose attach target this kernel lacks
  mountedTracefs: boolean;  // open() mounted tracefs at /sys/kernel/tracing (it was not mounted)
  cgroup: string;           // cgroup v2 root the cgroup backend attached to ('' on other backends)
  mountedCgroup2: boolean;  // open() mounted cgroup2 at /run/socktop/cgroup2 (none was mounted)
}

export interface ProgramStats {
  name: string;
  id: number;               // kernel program id (as `bpftool prog show id N` knows it)
  runCount: number;         // kernel run-time stats, enabled while the session is open
  runTimeNs: number;
  misses: number;           // runs the kernel skipped (bpf_prog_info.recursion_misses)
  verifiedInsns: number;    // instructions the verifier processed to load it (0 before 5.16)
}

export interface SessionStats {
  bpfRingDrops: number;     // events the BPF programs could not reserve (sum of drop_counts[0])
  polled: number;           // records handed to JS by poll()
  badSize: number;          // ring buffer samples ignored because they were not RECORD_SIZE bytes
  flushFailures?: number;   // runs of run_flush_bytes that failed (those bytes then come with close)
  kernelMisses: number;     // sum of the programs' misses: events the kernel never let us produce
  programs: ProgramStats[]; // attached programs (empty after close())
}

/** One BPF session: open+load+attach, poll the ring buffer, stop. Not thread-safe: one thread. */
export interface NativeSession {
  readonly info: OpenResult;
  /**
   * Copy whole records into `out` (its length / RECORD_SIZE slots). Records already waiting are
   * returned at once; when there are none, waits up to timeoutMs for some. Returns the number of
   * records written (0 on timeout). Never allocates per record and makes no JS call per record.
   * Throws once closed.
   */
  poll(out: Uint8Array, timeoutMs: number): number;
  /** Counters; still answers after close() (programs is then empty). */
  stats(): SessionStats;
  /**
   * Detach and free everything. Idempotent. Also happens when the object is garbage collected
   * and when its thread's environment ends (worker exit or terminate()).
   */
  close(): void;
}

/** Error codes of open(); the message is one line, `details` holds libbpf's log when there is one. */
export type OpenErrorCode = 'EPERM' | 'ENOENT' | 'ENOBTF' | 'ELOAD';

export interface AddonError extends Error {
  code: OpenErrorCode;
  details?: string;
}

export interface NativeAddon {
  /**
   * Open, load and attach. Throws an Error whose `code` is one of:
   *   EPERM (a capability is missing, and the message names it: "needs root or CAP_BPF+CAP_PERFMON",
   *   CAP_NET_ADMIN for the cgroup backend, CAP_DAC_READ_SEARCH to read tracefs as a non-root user,
   *   CAP_SYS_ADMIN to mount tracefs or cgroup v2), ENOENT (object file missing),
   *   ENOBTF (no /sys/kernel/btf/vmlinux), ELOAD (anything else: verifier, missing attach target,
   *   attach failure; the message names the program and libbpf's reason). Messages are one line.
   * Throws TypeError/RangeError for bad arguments.
   */
  open(opts: OpenOptions): NativeSession;
  /** offsetof() of every field of struct socktop_event, plus "size". */
  layout(): Record<string, number>;
  /** clock_gettime(CLOCK_MONOTONIC) in ns: the clock of bpf_ktime_get_ns() and of ts_ns. */
  monotonicNs(): bigint;
  /**
   * Empty the effective, permitted, inheritable and ambient capability sets of every thread of the
   * process (capabilities are per thread; each thread is signalled to drop its own). `holding`:
   * ids of threads that still hold one afterwards (none, normally); `error`: why it could not run.
   */
  dropCapabilities(): CapabilityDrop;
  /** malloc_trim(0): every arena's whole free pages go back to the kernel (src/heap-trim.ts). True
   *  when some memory was released. */
  trimHeap(): boolean;
  /** mallinfo2() summed over every arena (0s without glibc 2.33+). */
  heapFigures(): HeapFigures;
}

export interface HeapFigures {
  arenaBytes: number;  // bytes in malloc's heaps (main and thread arenas)
  mmapBytes: number;   // bytes in blocks mmap'd on their own
  inUseBytes: number;  // bytes handed out
  freeBytes: number;   // bytes in free chunks, resident or not
}

export interface CapabilityDrop {
  threads: number;
  holding: number[];
  error: string;
}

/** The checkout or installed package socktop runs from (holds package.json, bpf/, native/). */
export const PACKAGE_ROOT = path.resolve(__dirname, '../../..');

const NATIVE_DIR = path.join(PACKAGE_ROOT, 'native');

/** Where a source build puts the addon: the path to name when there is none at all. */
const SOURCE_BUILD = path.join(NATIVE_DIR, 'build/Release/socktop.node');

/**
 * The addon file this process would load: a source build first, else the prebuilt one for this
 * platform and libc. When there is neither, the source build's path (which does not exist), so
 * callers can say what is missing.
 */
export function nativeAddonPath(): string {
  const nodeGypBuild = require('node-gyp-build') as { resolve(dir: string): string };
  try {
    return nodeGypBuild.resolve(NATIVE_DIR);
  } catch {
    return SOURCE_BUILD;
  }
}

/** The CO-RE BPF object: built by `make -C bpf` in a checkout, shipped as is in the package. */
export function bpfObjectPath(): string {
  return path.join(PACKAGE_ROOT, 'bpf/socktop.bpf.o');
}

export function loadAddon(): NativeAddon {
  const file = nativeAddonPath();
  try {
    return require(file) as NativeAddon;
  } catch (err) {
    throw new Error(`cannot load socktop's native addon (${file}): ${oneLine(err)}; ${ADDON_HELP}`);
  }
}

const ADDON_HELP = 'the npm package ships one for linux-x64 with glibc 2.34+ (it needs libelf1 and zlib at run time); '
  + 'elsewhere build it from a checkout (README "Building from source")';

function oneLine(err: unknown): string {
  return (err instanceof Error ? err.message : String(err)).split('\n')[0];
}
