/**
 * Tests for src/capture/ring.ts, the SharedArrayBuffer SPSC ring.
 *
 * Randomised parts are seeded: the seed is printed; SOCKTOP_SEED=<n> reproduces a run.
 * The two-thread test runs a real worker (fixtures/ring-producer.ts) against this thread.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as path from 'node:path';
import { Worker } from 'node:worker_threads';
import fc from 'fast-check';
import { SharedRing } from '../../src/capture/ring';
import { RECORD_SIZE } from '../../src/capture/layout';
import {
  Status, checkRecord, mulberry32, randInt, recordSeq, writeRecord,
} from './fixtures/ring-records';

const SEED = process.env.SOCKTOP_SEED !== undefined
  ? Number(process.env.SOCKTOP_SEED) >>> 0
  : (Math.random() * 2 ** 32) >>> 0;
console.log(`ring.test seed: ${SEED} (reproduce with SOCKTOP_SEED=${SEED})`);

const PRODUCER = path.join(__dirname, 'fixtures', 'ring-producer.js');

/** Int32 indices of head and tail in the ring header (see the layout comment in ring.ts). */
const I32_HEAD = 64 / 4;
const I32_TAIL = 128 / 4;

/**
 * A single-threaded model check: the ring against a plain FIFO of sequence numbers.
 * Pushes offer `count` fresh records; the ring must accept exactly min(count, free), the first ones
 * of the batch; drains must return the oldest accepted records, intact and in order.
 */
class ModelDriver {
  readonly ring: SharedRing;
  readonly size: number;
  private readonly src: Uint8Array;
  private readonly srcView: DataView;
  readonly fifo: number[] = [];
  nextSeq = 0;
  accepted = 0;
  refused = 0;
  drained = 0;

  constructor(ring: SharedRing, readonly seed: number, maxBatch: number) {
    this.ring = ring;
    this.size = ring.recordSize;
    this.src = new Uint8Array(maxBatch * this.size);
    this.srcView = new DataView(this.src.buffer);
  }

  push(count: number): number {
    for (let i = 0; i < count; i++) {
      writeRecord(this.srcView, i * this.size, this.size, this.seed, this.nextSeq + i);
    }
    const free = this.ring.capacity - this.fifo.length;
    const n = this.ring.pushBatch(this.src, count);
    assert.equal(n, Math.min(count, free), `pushBatch(${count}) with ${free} free`);
    for (let i = 0; i < n; i++) this.fifo.push(this.nextSeq + i);
    this.nextSeq += count;
    this.accepted += n;
    this.refused += count - n;
    assert.equal(this.ring.drops(), this.refused, 'drops()');
    assert.equal(this.ring.published(), this.accepted, 'published()');
    assert.equal(this.ring.available(), this.fifo.length, 'available() after push');
    return n;
  }

  drain(max?: number): number {
    const expected = this.fifo.length < (max ?? Infinity) ? this.fifo.length : (max as number);
    let i = 0;
    let err: string | null = null;
    const dataBytes = this.ring.capacity * this.size;
    const n = this.ring.drain((view, off) => {
      if (err !== null) return;
      if (off < 0 || off + this.size > dataBytes || off % this.size !== 0) {
        err = `record offset ${off} outside the data area`;
        return;
      }
      const want = this.fifo[i++];
      err = checkRecord(view, off, this.size, this.seed, want);
    }, max);
    assert.equal(err, null);
    assert.equal(n, expected, `drain(${max}) count`);
    assert.equal(i, n, 'visitor calls');
    this.fifo.splice(0, n);
    this.drained += n;
    assert.equal(this.ring.available(), this.fifo.length, 'available() after drain');
    return n;
  }
}

/** Start the ring's free-running head/tail counters at `start` (to cross the 2^31 / 2^32 wraps). */
function presetCounters(ring: SharedRing, start: number): void {
  const i32 = new Int32Array(ring.sab, 0, 64);
  Atomics.store(i32, I32_HEAD, start | 0);
  Atomics.store(i32, I32_TAIL, start | 0);
}

// ---------------------------------------------------------------------------------- single thread

test('create rounds capacity up to a power of two and rejects bad record sizes', () => {
  assert.equal(SharedRing.create(1000, 128).capacity, 1024);
  assert.equal(SharedRing.create(1024, 128).capacity, 1024);
  assert.equal(SharedRing.create(1, 8).capacity, 1);
  const r = SharedRing.create(100, RECORD_SIZE);
  assert.equal(r.recordSize, RECORD_SIZE);
  assert.equal(r.bytes.byteLength, 128 * RECORD_SIZE);
  // A second view over the same memory (what a worker gets) sees the same geometry.
  const again = new SharedRing(r.sab);
  assert.equal(again.capacity, 128);
  assert.equal(again.recordSize, RECORD_SIZE);
  assert.throws(() => SharedRing.create(16, 0), RangeError);
  assert.throws(() => SharedRing.create(16, 12), RangeError);
  assert.throws(() => SharedRing.create(16, 8.5), RangeError);
  assert.throws(() => SharedRing.create(2 ** 31, 8), RangeError);
});

test('empty ring: drain visits nothing, waitForData(0) resolves', async () => {
  const ring = SharedRing.create(8, 16);
  assert.equal(ring.drain(() => assert.fail('visited a record of an empty ring')), 0);
  assert.equal(ring.available(), 0);
  assert.equal(ring.drops(), 0);
  assert.equal(ring.published(), 0);
  await ring.waitForData(0);
});

test('wrap-around: push/drain sequences cross the end of the data area many times', (t) => {
  const configs = [
    { capacity: 8, size: RECORD_SIZE },
    { capacity: 16, size: 64 },
    { capacity: 4, size: 8 },
    { capacity: 32, size: 24 }, // record size that is not a power of two
  ];
  for (const [ci, { capacity, size }] of configs.entries()) {
    const rng = mulberry32((SEED + ci * 7919) >>> 0);
    const ring = SharedRing.create(capacity, size);
    const d = new ModelDriver(ring, SEED, capacity * 2 + 3);
    for (let step = 0; step < 20000; step++) {
      // Bias towards keeping the ring partly full so both copy paths (split and whole) occur.
      if (rng() < 0.5) d.push(randInt(rng, 0, capacity + 2));
      else d.drain(rng() < 0.5 ? undefined : randInt(rng, 0, capacity));
    }
    d.drain();
    assert.equal(d.fifo.length, 0);
    assert.equal(d.drained, d.accepted);
    const laps = d.accepted / capacity;
    assert.ok(laps > 500, `only ${laps} laps round the ring`);
    t.diagnostic(`capacity ${capacity} x ${size} B: ${d.accepted} records, ${laps.toFixed(0)} laps, ${d.refused} refused`);
  }
});

test('wrap-around: a batch split at the end of the data area arrives whole and in order', () => {
  const ring = SharedRing.create(8, RECORD_SIZE);
  const d = new ModelDriver(ring, SEED, 8);
  for (let lap = 0; lap < 50; lap++) {
    // Leave the head at every slot in turn, then push a full ring's worth across the end.
    const offset = lap % 8;
    d.push(offset);
    d.drain();
    assert.equal(d.push(8), 8);
    assert.equal(d.push(1), 0);
    d.drain();
  }
  assert.equal(ring.drops(), 50);
});

test('free-running counters cross 2^31 and 2^32 without losing or duplicating records', () => {
  for (const start of [0x7fffff00, 0xffffff00, 0xfffffffd, 0x7ffffffd]) {
    const rng = mulberry32((SEED ^ start) >>> 0);
    const ring = SharedRing.create(16, 32);
    presetCounters(ring, start);
    const d = new ModelDriver(ring, SEED, 20);
    for (let step = 0; step < 2000; step++) {
      if (rng() < 0.55) d.push(randInt(rng, 0, 20));
      else d.drain(rng() < 0.5 ? undefined : randInt(rng, 0, 16));
    }
    d.drain();
    assert.ok(d.accepted > 0x100 + 16, 'crossed the wrap point');
    assert.equal(d.drained, d.accepted);
  }
});

test('property: any sequence of pushes and drains matches a FIFO model (fast-check)', () => {
  const op = fc.oneof(
    fc.record({ kind: fc.constant('push' as const), n: fc.integer({ min: 0, max: 40 }) }),
    fc.record({ kind: fc.constant('drain' as const), n: fc.option(fc.integer({ min: 0, max: 40 }), { nil: undefined }) }),
  );
  fc.assert(
    fc.property(
      fc.integer({ min: 0, max: 5 }), // log2 capacity
      fc.constantFrom(8, 16, 24, 64, 128),
      fc.constantFrom(0, 0x7ffffff0, 0xfffffff0),
      fc.array(op, { maxLength: 300 }),
      (logCap, size, start, ops) => {
        const ring = SharedRing.create(1 << logCap, size);
        presetCounters(ring, start);
        const d = new ModelDriver(ring, SEED, 40);
        for (const o of ops) {
          if (o.kind === 'push') d.push(o.n);
          else d.drain(o.n);
        }
        d.drain();
        assert.equal(d.drained, d.accepted);
        assert.equal(ring.drops(), d.refused);
      },
    ),
    { seed: SEED | 0, numRuns: 300 },
  );
});

test('a full ring counts drops exactly and loses no record it accepted', () => {
  const ring = SharedRing.create(16, RECORD_SIZE);
  const d = new ModelDriver(ring, SEED, 64);
  assert.equal(d.push(10), 10);
  assert.equal(ring.drops(), 0);
  assert.equal(d.push(10), 6); // 6 fit, 4 refused
  assert.equal(ring.drops(), 4);
  assert.equal(d.push(5), 0); // full: all refused, nothing overwritten
  assert.equal(ring.drops(), 9);
  assert.equal(d.push(0), 0);
  assert.equal(ring.drops(), 9);
  assert.equal(d.drain(3), 3); // records 0, 1, 2
  assert.equal(d.push(64), 3); // 3 fit, 61 refused
  assert.equal(ring.drops(), 70);
  assert.equal(ring.published(), 19);
  assert.equal(d.drain(), 16); // 3..15 then the first 3 of the 64-record batch
  assert.equal(ring.available(), 0);

  // Randomised: keep the ring near full; every accepted record arrives, refusals add up exactly.
  const rng = mulberry32((SEED + 1) >>> 0);
  const r2 = SharedRing.create(64, 64);
  const d2 = new ModelDriver(r2, SEED, 200);
  let offered = 0;
  for (let step = 0; step < 5000; step++) {
    const k = randInt(rng, 1, 200);
    offered += k;
    const n = d2.push(k);
    assert.ok(n <= k);
    if (rng() < 0.4) d2.drain(randInt(rng, 1, 64));
  }
  d2.drain();
  assert.equal(d2.accepted + r2.drops(), offered);
  assert.equal(d2.drained, d2.accepted);
  assert.ok(r2.drops() > 0);
});

// ---------------------------------------------------------------------------------- two threads

interface StreamResult {
  received: number;
  drops: number;
  produced: number;
  accepted: number;
  emptyWaits: number;
  forcedFull: number;
}

async function runStream(opts: {
  seed: number; total: number; capacity: number; size: number; maxBatch: number; stallsAt: number[];
  timeoutMs: number;
}): Promise<StreamResult> {
  const { seed, total, capacity, size, maxBatch, timeoutMs } = opts;
  const ring = SharedRing.create(capacity, size);
  const bitmapWords = Math.ceil(total / 32);
  const statusSab = new SharedArrayBuffer(4 * (Status.Words + bitmapWords));
  const status = new Int32Array(statusSab);
  const worker = new Worker(PRODUCER, {
    workerData: { mode: 'stream', ring: ring.sab, status: statusSab, seed, total, maxBatch },
  });
  let workerError: unknown = null;
  let workerExit: number | null = null;
  worker.on('error', (e) => { workerError = e; });
  worker.on('exit', (code) => { workerExit = code; });

  const rng = mulberry32((seed ^ 0xc0ffee) >>> 0);
  const seen = new Int32Array(bitmapWords);
  let nextMin = 0; // every record must carry a seq >= this (strictly increasing)
  let received = 0;
  let err: string | null = null;
  let emptyWaits = 0;
  let forcedFull = 0;
  const stalls = [...opts.stallsAt];
  const visit = (view: DataView, off: number): void => {
    if (err !== null) return;
    const seq = recordSeq(view, off);
    if (seq < nextMin || seq >= total) {
      err = `record seq ${seq} after ${nextMin - 1} (duplicate, reordered or garbage)`;
      return;
    }
    const bad = checkRecord(view, off, size, seed, seq);
    if (bad !== null) { err = bad; return; }
    seen[seq >>> 5] |= 1 << (seq & 31);
    nextMin = seq + 1;
    received++;
  };
  // The newest published record must already be whole the moment head is seen: check it before
  // draining (catches a producer that publishes head before copying the records in).
  const header = new Int32Array(ring.sab, 0, 64);
  const peekNewest = (): void => {
    const head = Atomics.load(header, I32_HEAD);
    if (head === Atomics.load(header, I32_TAIL)) return;
    const off = ((head - 1) & (ring.capacity - 1)) * size;
    const seq = recordSeq(ring.view, off);
    if (seq < nextMin || seq >= total) {
      err = `newest published record has seq ${seq}, already consumed up to ${nextMin - 1} (stale slot)`;
      return;
    }
    err = checkRecord(ring.view, off, size, seed, seq);
  };
  const deadline = performance.now() + timeoutMs;
  try {
    for (;;) {
      peekNewest();
      if (err !== null) throw new Error(err);
      const n = ring.drain(visit, rng() < 0.25 ? randInt(rng, 1, 300) : Infinity);
      if (err !== null) throw new Error(err);
      if (stalls.length > 0 && received >= stalls[0]) {
        // Stop consuming until the producer has filled the ring, so drops certainly happen.
        stalls.shift();
        const until = performance.now() + 2000;
        while (ring.available() < ring.capacity && Atomics.load(status, Status.Done) === 0
          && performance.now() < until) {
          await new Promise((r) => setTimeout(r, 1));
        }
        if (ring.available() === ring.capacity) forcedFull++;
        await new Promise((r) => setTimeout(r, 5));
      }
      if (n === 0) {
        if (Atomics.load(status, Status.Done) === 1 && ring.available() === 0) break;
        if (workerError !== null) throw workerError;
        if (workerExit !== null && Atomics.load(status, Status.Done) === 0) {
          throw new Error(`producer exited with code ${workerExit} before finishing`);
        }
        if (performance.now() > deadline) throw new Error(`timed out after ${received} records`);
        emptyWaits++;
        if (rng() < 0.9) {
          // Mostly poll (like a busy consumer) so this thread races the producer's publication;
          // sometimes sleep in waitForData, which must wake on the producer's notify.
          const until = performance.now() + 2;
          while (ring.available() === 0 && performance.now() < until) { /* spin */ }
        } else {
          await ring.waitForData(20);
        }
      }
    }
  } finally {
    ring.requestStop();
    await new Promise<void>((resolve) => {
      if (workerExit !== null) resolve();
      else worker.once('exit', () => resolve());
    });
  }
  assert.equal(workerError, null);
  assert.equal(workerExit, 0);
  assert.equal(Atomics.load(status, Status.Error), 0);

  const produced = Atomics.load(status, Status.Produced);
  const accepted = Atomics.load(status, Status.Accepted);
  const refused = Atomics.load(status, Status.Refused);
  assert.equal(produced, total, 'producer offered every record');
  assert.equal(accepted + refused, produced, 'accepted + refused == produced');
  assert.equal(ring.drops(), refused, 'ring drops() == records refused by pushBatch');
  assert.equal(ring.published(), accepted, 'ring published() == records accepted');
  assert.equal(received, accepted, 'every accepted record arrived');
  assert.equal(received + ring.drops(), produced, 'received + drops == produced');
  // Exactly the accepted set arrived: compare the producer's bitmap with ours word by word.
  for (let w = 0; w < bitmapWords; w++) {
    const want = status[Status.Words + w];
    if (seen[w] !== want) {
      const diff = (seen[w] ^ want) >>> 0;
      const bit = 31 - Math.clz32(diff & -diff);
      const seq = w * 32 + bit;
      assert.fail(`seq ${seq}: ${(want >>> bit) & 1 ? 'accepted but never received' : 'received but not accepted'}`);
    }
  }
  return { received, drops: ring.drops(), produced, accepted, emptyWaits, forcedFull };
}

test('two threads: a worker produces 3 million records while this thread drains', async (t) => {
  const total = 3_000_000;
  const t0 = performance.now();
  const r = await runStream({
    seed: SEED, total, capacity: 4096, size: RECORD_SIZE, maxBatch: 512,
    stallsAt: [100_000, 1_000_000, 2_000_000], timeoutMs: 120_000,
  });
  const secs = (performance.now() - t0) / 1000;
  t.diagnostic(`seed ${SEED}: ${r.produced} produced, ${r.received} received, ${r.drops} dropped, `
    + `${r.emptyWaits} waits on an empty ring, ${r.forcedFull} forced-full stalls, ${secs.toFixed(1)} s`);
  assert.ok(r.forcedFull >= 1, 'the consumer stalls filled the ring at least once');
  assert.ok(r.drops > 0, 'drops happened');
  assert.ok(r.received > total / 10, `only ${r.received} of ${total} records got through`);
});

test('two threads: small ring, 64-byte records, heavy wrap and contention', async (t) => {
  const seed = (SEED + 0x9e3779b9) >>> 0;
  const r = await runStream({
    seed, total: 500_000, capacity: 64, size: 64, maxBatch: 100, stallsAt: [1000], timeoutMs: 60_000,
  });
  t.diagnostic(`seed ${seed}: ${r.received} received, ${r.drops} dropped, ${r.emptyWaits} empty waits`);
  assert.ok(r.received > 0);
});

// ---------------------------------------------------------------------------------- waitForData

test('waitForData resolves at once when records are already there', async () => {
  const ring = SharedRing.create(8, 16);
  const d = new ModelDriver(ring, SEED, 2);
  d.push(1);
  const t0 = performance.now();
  await ring.waitForData(10_000);
  assert.ok(performance.now() - t0 < 1000);
  d.drain();
});

test('waitForData resolves when another thread publishes', async () => {
  const ring = SharedRing.create(64, RECORD_SIZE);
  const delayMs = 150;
  const t0 = performance.now();
  const worker = new Worker(PRODUCER, {
    workerData: { mode: 'delayed', ring: ring.sab, seed: SEED, delayMs, count: 5 },
  });
  const exited = new Promise<number>((resolve, reject) => {
    worker.on('error', reject);
    worker.on('exit', resolve);
  });
  assert.equal(ring.available(), 0);
  await ring.waitForData(20_000);
  const waited = performance.now() - t0;
  assert.equal(ring.available(), 5, `woke after ${waited.toFixed(0)} ms without data`);
  assert.ok(waited >= delayMs - 20, `woke after ${waited.toFixed(0)} ms, before the push`);
  assert.ok(waited < 10_000, `woke after ${waited.toFixed(0)} ms: by the timeout, not the push`);
  const seqs: number[] = [];
  ring.drain((view, off) => {
    assert.equal(checkRecord(view, off, RECORD_SIZE, SEED, recordSeq(view, off)), null);
    seqs.push(recordSeq(view, off));
  });
  assert.deepEqual(seqs, [0, 1, 2, 3, 4]);
  assert.equal(await exited, 0);
});

test('waitForData resolves when this thread publishes later (timer)', async () => {
  const ring = SharedRing.create(8, 16);
  const d = new ModelDriver(ring, SEED, 3);
  setTimeout(() => d.push(3), 50);
  const t0 = performance.now();
  await ring.waitForData(20_000);
  assert.ok(performance.now() - t0 < 10_000);
  assert.equal(ring.available(), 3);
  d.drain();
});

test('waitForData resolves after the timeout when nothing arrives', async () => {
  const ring = SharedRing.create(8, 16);
  const t0 = performance.now();
  await ring.waitForData(100);
  const waited = performance.now() - t0;
  assert.ok(waited >= 90, `returned after ${waited.toFixed(0)} ms`);
  assert.equal(ring.available(), 0);
  // After a drain that empties the ring, it waits again (and for the next push only).
  const d = new ModelDriver(ring, SEED, 2);
  d.push(2);
  d.drain();
  const t1 = performance.now();
  await ring.waitForData(60);
  assert.ok(performance.now() - t1 >= 50);
});
