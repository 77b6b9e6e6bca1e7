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
 * check. Rows are freed only when V8 collects them, which is why a timer and not the model's
 * "rows removed" moment decides.
 */

import type { NativeAddon } from './capture/addon';

/** What the trimmer uses of the addon (native/src/malloc_trim.cc). */
export type HeapTrimAddon = Pick<NativeAddon, 'trimHeap' | 'heapFigures'>;

const CHECK_MS = 5000;
const TRIM_STEP_BYTES = 2 << 20;

export interface TrimStats {
  checks: number;
  trims: number;
  /** Free bytes of the C heap at the last check. */
  freeBytes: number;
}

export class HeapTrimmer {
  private lowWater = 0;
  private timer: NodeJS.Timeout | null = null;
  readonly stats: TrimStats = { checks: 0, trims: 0, freeBytes: 0 };

  constructor(private readonly addon: HeapTrimAddon, private readonly stepBytes = TRIM_STEP_BYTES) {}

  /** One check: trims when the free bytes rose stepBytes above their low-water mark. */
  check(): boolean {
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
