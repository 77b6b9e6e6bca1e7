/**
 * bench/ring.ts: records per second from a worker thread to the main thread, through the
 * SharedArrayBuffer SPSC ring (batched publishing) and, for comparison, through postMessage:
 * one message per record, and one transferred ArrayBuffer per batch of 256 records.
 *
 *   node dist/bench/ring.js [--seconds S] [--only ring|pm-record|pm-batch] [--sizes 64,160]
 *   (also SOCKTOP_BENCH_SECONDS=S)
 *
 * Every variant gets a fresh worker, the same producer work (copy a record template, stamp a
 * sequence number) and the same consumer work (read three fields, check the sequence), and the
 * same amount of buffering between the threads (ring capacity == postMessage credit window), so a
 * producer that outruns the consumer waits instead of dropping or queueing without bound. The
 * figure is records consumed by the main thread per second: after a warm-up, the measured time is
 * cut into 5 windows and the table shows their median and range (other load on a small machine
 * skews single windows; the header prints the load average).
 */
import { Worker, isMainThread, parentPort, workerData } from 'node:worker_threads';
import * as os from 'node:os';
import { SharedRing } from '../src/capture/ring';

type Kind = 'ring' | 'pm-record' | 'pm-batch';

interface Job {
  kind: Kind;
  size: number;
  batch: number;
  window: number; // records buffered at most between the threads
  ctl: SharedArrayBuffer; // Int32 [go, stop, consumed, produced-high-water]
  ring?: SharedArrayBuffer;
}

const CTL_GO = 0;
const CTL_STOP = 1;
const CTL_CONSUMED = 2;
const CTL_PARK = 3; // never changes: a timed Atomics.wait on it is a short sleep
// A waiting side polls for up to SPIN_MS, then sleeps in short naps: on 2 cores with other load,
// spinning against a descheduled peer would burn whole timeslices.
const SPIN_MS = 0.25;
const SPIN_CHECK = 64; // polls between clock reads

/** Call once per failed poll with the count of failed polls so far (from 1). */
function backoff(ctl: Int32Array, spins: number, since: { t: number }): void {
  if (spins === 1) since.t = performance.now();
  else if (spins % SPIN_CHECK === 0 && performance.now() - since.t > SPIN_MS) {
    Atomics.wait(ctl, CTL_PARK, 0, 0.05);
  }
}

const RING_I32_HEAD = 64 / 4; // head's Int32 index in the ring header (see ring.ts)
const BATCH = 256;
const WARMUP_MS = 500; // unmeasured, before each variant's window (JIT, caches)
const WINDOWS = 5; // the measured time is cut into windows; the figure is their median rate
const WINDOW = 16384;

// Offsets the consumer touches (ts_ns low word, pid, kind in the real layout; any will do).
const F_SEQ = 0;
const F_PID = 40;
const F_KIND = 56;

// ------------------------------------------------------------------------------------ worker side

function makeTemplate(size: number, count: number): Uint8Array {
  const t = new Uint8Array(size * count);
  let x = 0x12345678;
  for (let i = 0; i < t.length; i++) {
    x ^= x << 13; x ^= x >>> 17; x ^= x << 5;
    t[i] = x & 0xff;
  }
  return t;
}

function producer(job: Job): void {
  const ctl = new Int32Array(job.ctl);
  const size = job.size;
  const batch = job.batch;
  const template = makeTemplate(size, batch);
  parentPort!.postMessage('ready');
  while (Atomics.load(ctl, CTL_GO) === 0) Atomics.wait(ctl, CTL_GO, 0, 100);
  let seq = 0;
  if (job.kind === 'ring') {
    const ring = new SharedRing(job.ring!);
    const buf = new Uint8Array(size * batch);
    const dv = new DataView(buf.buffer);
    const cap = ring.capacity;
    let spins = 0;
    const since = { t: 0 };
    while (!ring.stopRequested()) {
      if (cap - ring.available() < batch) { backoff(ctl, ++spins, since); continue; } // full
      spins = 0;
      buf.set(template);
      for (let i = 0; i < batch; i++) dv.setUint32(i * size + F_SEQ, seq++, true);
      ring.pushBatch(buf, batch);
    }
  } else if (job.kind === 'pm-record') {
    const port = parentPort!;
    const window = job.window;
    let i = 0;
    let spins = 0;
    const since = { t: 0 };
    while (Atomics.load(ctl, CTL_STOP) === 0) {
      if (seq - Atomics.load(ctl, CTL_CONSUMED) >= window) { backoff(ctl, ++spins, since); continue; }
      spins = 0;
      const ab = new ArrayBuffer(size);
      new Uint8Array(ab).set(template.subarray(i * size, i * size + size));
      new DataView(ab).setUint32(F_SEQ, seq++, true);
      port.postMessage(ab); // structured clone of a small buffer (faster than a transfer here)
      if (++i === batch) i = 0;
    }
  } else {
    const port = parentPort!;
    const window = job.window;
    let spins = 0;
    const since = { t: 0 };
    while (Atomics.load(ctl, CTL_STOP) === 0) {
      if (seq + batch - Atomics.load(ctl, CTL_CONSUMED) > window) { backoff(ctl, ++spins, since); continue; }
      spins = 0;
      const ab = new ArrayBuffer(size * batch);
      new Uint8Array(ab).set(template);
      const dv = new DataView(ab);
      for (let i = 0; i < batch; i++) dv.setUint32(i * size + F_SEQ, seq++, true);
      port.postMessage(ab, [ab]);
    }
  }
}

// -------------------------------------------------------------------------------------- main side

interface Result {
  kind: Kind;
  size: number;
  records: number;
  seconds: number;
  /** median of the per-window rates (records/s) */
  rate: number;
  min: number;
  max: number;
  mean: number;
  checksum: number;
}

const LABEL: Record<Kind, string> = {
  ring: 'SharedRing, batches of 256',
  'pm-record': 'postMessage, 1 record/message',
  'pm-batch': 'postMessage, 256 records (transfer)',
};

async function runVariant(kind: Kind, size: number, seconds: number): Promise<Result> {
  const ctlSab = new SharedArrayBuffer(64);
  const ctl = new Int32Array(ctlSab);
  const job: Job = { kind, size, batch: BATCH, window: WINDOW, ctl: ctlSab };
  let ring: SharedRing | undefined;
  if (kind === 'ring') {
    ring = SharedRing.create(WINDOW, size);
    job.ring = ring.sab;
  }
  const worker = new Worker(__filename, { workerData: job });
  let failure: unknown = null;
  worker.on('error', (e) => { failure = e; });
  const exited = new Promise<void>((resolve) => worker.once('exit', () => resolve()));

  let expect = 0;
  let checksum = 0;
  let bad = 0;
  const visit = (dv: DataView, off: number): void => {
    const seq = dv.getUint32(off + F_SEQ, true);
    if (seq !== expect) bad++;
    expect = seq + 1;
    checksum = (checksum + dv.getUint32(off + F_PID, true) + dv.getUint8(off + F_KIND)) | 0;
  };

  await new Promise<void>((resolve, reject) => {
    worker.once('message', (m) => (m === 'ready' ? resolve() : reject(new Error(String(m)))));
    worker.once('error', reject);
  });

  let records = 0;
  let elapsed = 0;
  const windowRates: number[] = [];
  if (ring) {
    // Busy-drain on this thread for the whole window (the UI would drain per tick instead).
    const r = ring;
    // Empty ring: poll for SPIN_MS, then sleep on head (pushBatch notifies it), 1 ms at most.
    const header = new Int32Array(r.sab, 0, 64);
    let spins = 0;
    let since = 0;
    const drainOrWait = (): number => {
      const n = r.drain(visit);
      if (n > 0) spins = 0;
      else if (++spins === 1) since = performance.now();
      else if (spins % SPIN_CHECK === 0 && performance.now() - since > SPIN_MS) {
        Atomics.wait(header, RING_I32_HEAD, Atomics.load(header, RING_I32_HEAD), 1);
      }
      return n;
    };
    Atomics.store(ctl, CTL_GO, 1);
    Atomics.notify(ctl, CTL_GO);
    let now = performance.now();
    const warmEnd = now + WARMUP_MS;
    while (now < warmEnd) {
      drainOrWait();
      now = performance.now();
    }
    const t0 = now;
    for (let w = 1; w <= WINDOWS; w++) {
      const end = t0 + (seconds * 1000 * w) / WINDOWS;
      const wStart = now;
      let n = 0;
      while (now < end) {
        n += drainOrWait();
        now = performance.now();
      }
      records += n;
      windowRates.push(n / ((now - wStart) / 1000));
    }
    elapsed = now - t0;
    r.requestStop();
  } else {
    let consumed = 0;
    const onMessage = kind === 'pm-record'
      ? (ab: ArrayBuffer): void => {
        visit(new DataView(ab), 0);
        if ((++consumed & 255) === 0) Atomics.store(ctl, CTL_CONSUMED, consumed);
      }
      : (ab: ArrayBuffer): void => {
        const dv = new DataView(ab);
        for (let off = 0; off < ab.byteLength; off += size) visit(dv, off);
        consumed += ab.byteLength / size;
        Atomics.store(ctl, CTL_CONSUMED, consumed);
      };
    worker.on('message', onMessage);
    Atomics.store(ctl, CTL_GO, 1);
    Atomics.notify(ctl, CTL_GO);
    await new Promise((r) => setTimeout(r, WARMUP_MS));
    const base = consumed;
    const t0 = performance.now();
    let wStart = t0;
    let wBase = base;
    for (let w = 1; w <= WINDOWS; w++) {
      await new Promise((r) => setTimeout(r, t0 + (seconds * 1000 * w) / WINDOWS - performance.now()));
      const now = performance.now();
      windowRates.push((consumed - wBase) / ((now - wStart) / 1000));
      wStart = now;
      wBase = consumed;
    }
    records = consumed - base;
    elapsed = performance.now() - t0;
    worker.off('message', onMessage);
    Atomics.store(ctl, CTL_STOP, 1);
  }
  await exited;
  if (failure) throw failure;
  if (bad > 0) throw new Error(`${kind}/${size}: ${bad} records out of sequence`);
  const secs = elapsed / 1000;
  const sorted = [...windowRates].sort((a, b) => a - b);
  return {
    kind, size, records, seconds: secs, mean: records / secs, checksum,
    rate: sorted[sorted.length >> 1], min: sorted[0], max: sorted[sorted.length - 1],
  };
}

function fmtRate(r: number): string {
  if (r >= 1e6) return `${(r / 1e6).toFixed(2)} M`;
  if (r >= 1e3) return `${(r / 1e3).toFixed(1)} k`;
  return r.toFixed(0);
}

function arg(name: string): string | undefined {
  const i = process.argv.indexOf(name);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

async function main(): Promise<void> {
  const seconds = Number(arg('--seconds') ?? process.env.SOCKTOP_BENCH_SECONDS ?? 3);
  const sizes = (arg('--sizes') ?? '64,160').split(',').map(Number);
  const only = arg('--only');
  const kinds: Kind[] = (['ring', 'pm-record', 'pm-batch'] as Kind[]).filter((k) => !only || only.split(',').includes(k));
  console.log(`ring bench: worker -> main thread, ${seconds} s per variant (${WINDOWS} windows, median) after ${WARMUP_MS} ms `
    + `warm-up, ring capacity and postMessage window ${WINDOW} records, node ${process.version}, `
    + `${os.cpus().length} CPUs, load average ${os.loadavg()[0].toFixed(2)}`);
  const results: Result[] = [];
  for (const size of sizes) {
    for (const kind of kinds) {
      const r = await runVariant(kind, size, seconds);
      results.push(r);
      console.log(`  done ${LABEL[kind]} ${size} B: ${fmtRate(r.rate)} records/s`);
    }
  }
  console.log('');
  const head = ['variant', 'record', 'records/s', 'window range', 'MB/s', 'ring is ×'];
  const rows = results.map((r) => {
    const ringRate = results.find((x) => x.kind === 'ring' && x.size === r.size)?.rate;
    return [
      LABEL[r.kind],
      `${r.size} B`,
      fmtRate(r.rate),
      `${fmtRate(r.min)}..${fmtRate(r.max)}`,
      ((r.rate * r.size) / 1e6).toFixed(0),
      ringRate ? (ringRate / r.rate).toFixed(1) : '-',
    ];
  });
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i].length)));
  const line = (cells: string[]): string => cells
    .map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  ');
  console.log(line(head));
  console.log(widths.map((w) => '-'.repeat(w)).join('  '));
  for (const row of rows) console.log(line(row));
  console.log('');
  console.log(JSON.stringify({
    bench: 'ring',
    results: results.map(({ kind, size, records, seconds: s, rate, min, max, mean }) => ({
      kind, size, records, seconds: Number(s.toFixed(3)), rate: Math.round(rate),
      min: Math.round(min), max: Math.round(max), mean: Math.round(mean),
    })),
  }));
}

if (isMainThread) {
  main().catch((e) => {
    console.error(e);
    process.exitCode = 1;
  });
} else {
  producer(workerData as Job);
}
