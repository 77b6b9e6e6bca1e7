/**
 * bench/mem-log-preload.ts: a diagnostic preload (`node --require dist/bench/mem-log-preload.js`)
 * for bench/rss-timeline.ts: every SOCKTOP_MEMLOG_MS (100) ms it appends one JSON line to the file
 * SOCKTOP_MEMLOG: the main thread's process.memoryUsage() and heap spaces, each worker's heap
 * (worker.getHeapStatistics(), Node 22.16+), VmRSS/VmHWM and glibc's heap figures where the addon
 * is loaded. Nothing of socktop changes: Worker is wrapped only to keep a handle on each one.
 */
import * as fs from 'node:fs';
import * as v8 from 'node:v8';
import type * as WorkerThreads from 'node:worker_threads';

// The module object itself (an ES namespace import would be a frozen copy of its exports).
const wt = require('node:worker_threads') as typeof WorkerThreads;

const file = process.env.SOCKTOP_MEMLOG;
const everyMs = Number(process.env.SOCKTOP_MEMLOG_MS ?? 100);

interface HeapStats { used_heap_size: number; total_heap_size: number; total_physical_size: number; malloced_memory: number; external_memory: number }
type WorkerWithStats = WorkerThreads.Worker & { getHeapStatistics?: () => Promise<HeapStats> };

if (file && wt.isMainThread) {
  const workers: WorkerWithStats[] = [];
  const Original = wt.Worker;
  class Tracked extends Original {
    constructor(...args: ConstructorParameters<typeof Original>) {
      super(...args);
      workers.push(this);
      this.once('exit', () => workers.splice(workers.indexOf(this), 1));
    }
  }
  (wt as { Worker: typeof Original }).Worker = Tracked;
  const status = (): Record<string, number> => {
    const text = fs.readFileSync('/proc/self/status', 'utf8');
    const kb = (k: string): number => Number(new RegExp(`^${k}:\\s+(\\d+) kB`, 'm').exec(text)?.[1] ?? 0) * 1024;
    return { rss: kb('VmRSS'), hwm: kb('VmHWM'), anon: kb('RssAnon'), fileRss: kb('RssFile'), shmem: kb('RssShmem') };
  };
  // Opened now: socktop gives up root after attaching, and the file is root's.
  const fd = fs.openSync(file, 'a');
  const t0 = Date.now();
  const timer = setInterval(async () => {
    const mu = process.memoryUsage();
    const spaces: Record<string, number> = {};
    for (const s of v8.getHeapSpaceStatistics()) spaces[s.space_name] = s.physical_space_size;
    const ws: Array<Partial<HeapStats>> = [];
    for (const w of workers) {
      try {
        const h = await w.getHeapStatistics?.();
        if (h) ws.push({ used_heap_size: h.used_heap_size, total_physical_size: h.total_physical_size, malloced_memory: h.malloced_memory, external_memory: h.external_memory });
      } catch {
        /* ended meanwhile */
      }
    }
    const line = { t: Date.now() - t0, ...status(), heapTotal: mu.heapTotal, heapUsed: mu.heapUsed, external: mu.external, arrayBuffers: mu.arrayBuffers, spaces, workers: ws };
    fs.writeSync(fd, `${JSON.stringify(line)}\n`);
  }, everyMs);
  timer.unref();
}
