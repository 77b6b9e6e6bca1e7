/**
 * src/heap-trim.ts and the addon's trimHeap/heapFigures (native/src/malloc_trim.cc): freed C-heap
 * memory goes back to the kernel. Needs the built addon, not root. The RSS test runs in a child
 * node (--expose-gc) so the test runner's own heap does not blur it.
 */
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { spawnSync } from 'child_process';
import * as path from 'path';
import { loadAddon } from '../../src/capture/addon';
import { HeapTrimAddon, HeapTrimmer } from '../../src/heap-trim';

const MB = 1 << 20;

test('the addon trims the C heap and reports its figures', () => {
  const addon = loadAddon();
  assert.equal(typeof addon.trimHeap(), 'boolean');
  const f = addon.heapFigures();
  for (const k of ['arenaBytes', 'mmapBytes', 'inUseBytes', 'freeBytes'] as const) {
    assert.ok(Number.isFinite(f[k]) && f[k] >= 0, `${k} = ${f[k]}`);
  }
  assert.ok(f.inUseBytes > 0, 'a running node has malloc\'d memory (glibc 2.33+ reports it)');
});

/** An addon whose free bytes the test sets, counting trims. */
function scripted(): HeapTrimAddon & { free: number; trims: number } {
  const a = {
    free: 0,
    trims: 0,
    trimHeap: () => { a.trims++; return true; },
    heapFigures: () => ({ arenaBytes: 0, mmapBytes: 0, inUseBytes: 0, freeBytes: a.free }),
  };
  return a;
}

test('the trimmer trims once free bytes rose a step above their low-water mark', () => {
  const a = scripted();
  const t = new HeapTrimmer(a, 4 * MB);
  a.free = 3 * MB;
  assert.equal(t.check(), false, 'below one step');
  a.free = 5 * MB;
  assert.equal(t.check(), true, 'a step above 0');
  assert.equal(a.trims, 1);
  a.free = 8 * MB;
  assert.equal(t.check(), false, 'only 3 MB above the level of the last trim');
  a.free = 1 * MB; // reused
  assert.equal(t.check(), false);
  a.free = 5.5 * MB;
  assert.equal(t.check(), true, 'a step above the new low-water mark');
  assert.equal(a.trims, 2);
  assert.deepEqual({ checks: t.stats.checks, trims: t.stats.trims }, { checks: 5, trims: 2 });
});

test('freed 2 KB ArrayBuffers (process rows) go back to the kernel when the trimmer checks', () => {
  const fixture = path.join(__dirname, 'fixtures/heap-holes.js');
  const r = spawnSync(process.execPath, ['--expose-gc', fixture], { encoding: 'utf8', timeout: 60000 });
  assert.equal(r.status, 0, r.stderr);
  const out = JSON.parse(r.stdout) as { afterFree: number; afterCheck: number; trimmed: boolean; freedBytes: number };
  assert.equal(out.trimmed, true, 'the check saw the freed memory');
  // 60 MB freed in 30 KB holes: without the trim glibc keeps nearly all of it resident.
  const released = out.afterFree - out.afterCheck;
  assert.ok(released >= out.freedBytes / 2,
    `released ${(released / MB).toFixed(1)} MB of ${(out.freedBytes / MB).toFixed(1)} MB freed (RssAnon ${(out.afterFree / MB).toFixed(0)} -> ${(out.afterCheck / MB).toFixed(0)} MB)`);
});
