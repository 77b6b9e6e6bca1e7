/**
 * heap-trim.ts: hands the C heap's free pages back to the kernel while socktop runs (issue 10,
 * item 7: after 20,000 short-lived processes RSS stayed at 1.6x its level before them).
 *
 * Why it is needed: each process row's typed arrays (rate buckets, latency histogram, event log:
 * about 2.2 KB a process) are small ArrayBuffers that Node's allocator takes from glibc's malloc.
 * When the exited rows age out and V8 collects them, glibc keeps the freed blocks resident: only
 * the top of a heap goes back by itself, and thousands of small holes never reach the top. The
 * same holds in the per-thread arenas of V8's platform threads (compiler zones) and of the capture
 * worker (libbpf frees the parsed kernel BTF, megabytes, right after the programs load).
 * malloc_trim(0) (the addon's trimHeap) madvises every whole free page of every arena away.
 *
 * When: a timer (unref'd: it never keeps socktop alive) reads mallinfo2's free bytes every
 * CHECK_MS; when they rose TRIM_STEP_BYTES above their low-water mark since the last trim, new
 * free (and so probably resident) memory appeared: trim. Reading the figures walks the arenas'
 * free lists (well under a millisecond at the sizes measured); trimming is done at most once a
 * check. Even at idle the heaps' free bytes creep up (V8's compiler threads, blessed's output):
 * measured 12 -> 25 MB over two minutes of idle TUI, the RSS creep the issue saw.
 *
 * A row's buffers are freed only when V8 collects the row, and an idle V8 may not run a full GC
 * for minutes (its old generation grew during the churn, so the next one is far off): measured,
 * the 20k rows of a churn were still resident 75 s later in 2 runs of 2. So when the model shrank
 * (its rows + sockets fell SHRINK_ROWS and a quarter below their peak since the last collection:
 * a churn's rows aged out, held connections closed, a replay seeked), the check first asks V8 for
 * its last-resort GC, which also compacts and returns V8's emptied pages, and trims a second later,
 * once V8's sweeper has freed the buffers. That GC pauses the main thread 100-250 ms with 20k dead
 * rows (measured; the shared ring holds 64k records: nothing is lost meanwhile), once per shrink; a
 * steady storm keeps the model's size level: no GC then. bench/memory.ts, after 20k short-lived
 * processes and 75 s: RSS 1.57x its level before without this, 0.97x with it.
 */
import { performance } from 'perf_hooks';
import * as v8 from 'v8';
import * as vm from 'vm';

import type { NativeAddon } from './capture/addon';

/** What the trimmer uses of the addon (native/src/malloc_trim.cc). */
export type HeapTrimAddon = Pick<NativeAddon, 'trimHeap' | 'heapFigures'>;

const CHECK_MS = 5000;
const TRIM_STEP_BYTES = 2 << 20;
const SHRINK_ROWS = 1000;
/** After a GC: V8's array buffer sweeper frees the buffers on a background thread. */
const SWEEP_WAIT_MS = 1000;

/** V8's CollectAllAvailableGarbage: full GCs that also compact and give V8's emptied pages back
 *  (a plain major GC left 76 of 82 MB of heap pages committed after 20k rows died). Node 20's V8
 *  (11.3) collected nothing when given these options (measured), so it gets a plain gc(). */
const LAST_RESORT = Number(process.versions.v8.split('.')[0]) >= 12
  ? { type: 'major', execution: 'sync', flavor: 'last-resort' }
  : undefined;

type GcFunction = (options?: object) => void;

/** V8's full GC: global.gc under --expose-gc, else the same function from a context made while the
 *  flag is briefly set (the usual way to reach it at run time); null if neither works. */
function fullGc(): GcFunction | null {
  const exposed = (globalThis as { gc?: GcFunction }).gc;
  if (exposed) return exposed;
  try {
    v8.setFlagsFromString('--expose-gc');
    const gc = vm.runInNewContext('gc') as GcFunction;
    v8.setFlagsFromString('--no-expose-gc');
    return typeof gc === 'function' ? gc : null;
  } catch {
    return null;
  }
}

export interface TrimStats {
  checks: number;
  trims: number;
  /** Full GCs run because the model shrank, and how long the last one took (ms). */
  collections: number;
  lastCollectionMs: number;
  /** Free bytes of the C heap at the last check. */
  freeBytes: number;
}

export class HeapTrimmer {
  private lowWater = 0;
  private timer: NodeJS.Timeout | null = null;
  private size: () => number = () => 0;
  /** The largest size seen since the last collection. */
  private peak = 0;
  private gc: GcFunction | null | undefined;
  readonly stats: TrimStats = { checks: 0, trims: 0, collections: 0, lastCollectionMs: 0, freeBytes: 0 };

  constructor(private readonly addon: HeapTrimAddon, private readonly stepBytes = TRIM_STEP_BYTES,
    private readonly shrinkRows = SHRINK_ROWS) {}

  /** What holds the memory that may turn garbage: the model's rows + sockets, read at each check. */
  watch(size: () => number): void {
    this.size = size;
    this.peak = size();
  }

  /**
   * One check: when the watched size shrank (shrinkRows and a quarter below its peak), a full GC and
   * a check again once the buffers are swept; else a trim when the free bytes rose stepBytes above
   * their low-water mark.
   */
  check(): boolean {
    const size = this.size();
    if (size > this.peak) this.peak = size;
    if (this.peak - size >= this.shrinkRows && size <= this.peak * 0.75 && this.collect()) {
      this.peak = size;
      setTimeout(() => this.check(), SWEEP_WAIT_MS).unref();
      return false;
    }
    return this.trimIfFreed();
  }

  private collect(): boolean {
    if (this.gc === undefined) this.gc = fullGc();
    if (!this.gc) return false;
    const t0 = performance.now();
    this.gc(LAST_RESORT);
    this.stats.lastCollectionMs = performance.now() - t0;
    this.stats.collections++;
    return true;
  }

  private trimIfFreed(): boolean {
    const free = this.addon.heapFigures().freeBytes;
    this.stats.checks++;
    this.stats.freeBytes = free;
    if (free < this.lowWater) this.lowWater = free;
    if (free - this.lowWater < this.stepBytes) return false;
    this.trimNow();
    return true;
  }

  /** Trim at once (e.g. right after the capture started: libbpf's parse of the kernel BTF is freed). */
  trimNow(): void {
    this.addon.trimHeap();
    this.stats.trims++;
    // The holes stay free chunks (not resident any more): count from here.
    this.lowWater = this.addon.heapFigures().freeBytes;
  }

  start(intervalMs = CHECK_MS): void {
    if (this.timer) return;
    this.timer = setInterval(() => this.check(), intervalMs);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }
}

let running: HeapTrimmer | null = null;

/**
 * The process's trimmer, started once (every long-running mode calls this; the addon is process
 * wide). Null when the addon cannot be loaded (a replay on a machine without it): nothing to trim
 * with, and nothing else breaks.
 */
export function startHeapTrimmer(): HeapTrimmer | null {
  if (running) return running;
  let addon: HeapTrimAddon;
  try {
    const { loadAddon } = require('./capture/addon') as typeof import('./capture/addon');
    addon = loadAddon();
  } catch {
    return null;
  }
  running = new HeapTrimmer(addon);
  running.start();
  return running;
}
