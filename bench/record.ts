/**
 * bench/record.ts: recording and replay throughput.
 *
 *   node dist/bench/record.js [--records N] [--reps R] [--dir DIR]
 *
 * 1. write: RecordingWriter.appendRecords in batches of 4096 RECORD_SIZE-byte records (the capture worker's
 *    staging size), to a file, close() included (END frame + fsync): records/s and MB/s.
 * 2. hook: the same through createRecordingStage (per-record pid check, /proc lookup of each new pid).
 * 3. open: openRecording's validating scan (CRCs, index).
 * 4. replay --speed 0 into a SharedRing (65536 records) drained by the main thread: records/s from
 *    ReplaySource.open() (the worker's validating scan included) to the last record drained; the consumer reads two fields per record
 *    ("drain"), or feeds SocketModel.ingest ("model").
 * 5. replay --json (decodeEvent + JSON.stringify per record, to /dev/null).
 * Each figure: median of R runs (range in brackets).
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { AF_INET, EventKind, IPPROTO_TCP, Offset, RECORD_SIZE } from '../src/capture/layout';
import { SharedRing } from '../src/capture/ring';
import { openRecording } from '../src/record/reader';
import { ReplaySource } from '../src/record/replay-source';
import { RecordingWriter } from '../src/record/writer';
import { createRecordingStage } from '../src/record/recording-stage';
import { replayJson } from '../src/record/commands';

function arg(argv: readonly string[], name: string, def: number): number {
  const i = argv.indexOf(`--${name}`);
  return i >= 0 ? Number(argv[i + 1]) : def;
}
const BATCH = 4096;

/** One staging buffer of BATCH records, restamped per batch (like the worker's reused staging). */
function makeStaging(pids: number): Uint8Array {
  const buf = new Uint8Array(BATCH * RECORD_SIZE);
  const v = new DataView(buf.buffer);
  for (let i = 0; i < BATCH; i++) {
    const at = i * RECORD_SIZE;
    v.setUint32(at + Offset.pid, 100000 + (i % pids), true);
    v.setUint32(at + Offset.tid, 100000 + (i % pids), true);
    v.setUint8(at + Offset.kind, [EventKind.Connect, EventKind.Accept, EventKind.State, EventKind.Close][i & 3]);
    v.setUint8(at + Offset.family, AF_INET);
    v.setUint8(at + Offset.proto, IPPROTO_TCP);
    v.setUint16(at + Offset.lport, 1024 + (i % 50000), true);
    v.setUint16(at + Offset.rport, 8080, true);
    v.setUint8(at + Offset.backend, 2);
    buf.set([127, 0, 0, 1], at + Offset.laddr);
    buf.set([127, 0, 0, 1], at + Offset.raddr);
    buf.set(Buffer.from('bench'), at + Offset.comm);
    v.setBigUint64(at + Offset.sock, 0xffff888000000000n + BigInt(i), true);
  }
  return buf;
}

function stamp(buf: Uint8Array, first: number): void {
  const v = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  for (let i = 0; i < BATCH; i++) v.setBigUint64(i * RECORD_SIZE, 1_000_000_000_000n + BigInt((first + i) * 1000), true);
}

function median(xs: number[]): { med: number; lo: number; hi: number } {
  const s = [...xs].sort((a, b) => a - b);
  return { med: s[Math.floor(s.length / 2)], lo: s[0], hi: s[s.length - 1] };
}

function fmt(label: string, rates: number[], extra = ''): void {
  const m = median(rates);
  const r = (x: number): string => `${(x / 1e6).toFixed(2)}M`;
  console.log(`${label.padEnd(34)} ${r(m.med).padStart(8)} records/s  [${r(m.lo)} .. ${r(m.hi)}]  ${extra}`);
}

/** One write of `n` records; records per second. */
function writeOnce(file: string, n: number, viaHook: boolean, pids: number): number {
  const staging = makeStaging(pids);
  const t0 = performance.now();
  if (viaHook) {
    const h = createRecordingStage(file, { backend: 'bench' }, { timer: false });
    const view = new DataView(staging.buffer);
    for (let done = 0; done < n; done += BATCH) {
      stamp(staging, done);
      h.batch(staging, view, Math.min(BATCH, n - done));
    }
    h.close();
  } else {
    const w = RecordingWriter.create(file, { backend: 'bench' }, { timer: false });
    for (let done = 0; done < n; done += BATCH) {
      stamp(staging, done);
      w.appendRecords(staging, Math.min(BATCH, n - done));
    }
    w.close();
  }
  return n / ((performance.now() - t0) / 1000);
}

async function replayOnce(file: string, consumer: 'drain' | 'model'): Promise<number> {
  const ring = SharedRing.create(1 << 16, RECORD_SIZE);
  let visit: (v: DataView, off: number) => void;
  let sink = 0;
  if (consumer === 'model') {
    // eslint-disable-next-line @typescript-eslint/no-var-requires
    const { SocketModel } = require('../src/model/model');
    const model = new SocketModel();
    visit = (v, off) => model.ingest(v, off);
  } else {
    visit = (v, off) => {
      sink += v.getUint32(off + Offset.pid, true) + v.getUint8(off + Offset.kind);
    };
  }
  const t0 = performance.now(); // from open: the worker's validating scan is included
  const src = await ReplaySource.open(file, { speed: 0, ring });
  const total = src.info.records;
  let got = 0;
  while (got < total) {
    const n = ring.drain(visit);
    got += n;
    if (n === 0) Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 0.05);
  }
  const rate = total / ((performance.now() - t0) / 1000);
  if (ring.drops() !== 0) throw new Error('replay dropped records');
  await src.stop();
  if (sink === -1) console.log(sink);
  return rate;
}

async function main(argv: readonly string[]): Promise<void> {
  const N = arg(argv, 'records', 2_000_000);
  const REPS = arg(argv, 'reps', 3);
  const dirArg = argv.indexOf('--dir');
  const DIR = dirArg >= 0 ? argv[dirArg + 1] : fs.mkdtempSync(path.join(os.tmpdir(), 'socktop-bench-'));
  console.log(`record/replay bench: ${N} records of ${RECORD_SIZE} bytes (${(N * RECORD_SIZE / 1e6).toFixed(0)} MB), ` +
    `${REPS} runs, dir ${DIR}, node ${process.version}, ${os.cpus().length} cpus, load ${os.loadavg().map((x) => x.toFixed(2)).join(' ')}`);
  const file = path.join(DIR, 'bench.socktop');
  const w: number[] = [];
  for (let i = 0; i < REPS; i++) w.push(writeOnce(file, N, false, 50));
  const size = fs.statSync(file).size;
  fmt('write (writer, batches of 4096)', w, `${(median(w).med * RECORD_SIZE / 1e6).toFixed(0)} MB/s`);
  const h: number[] = [];
  for (let i = 0; i < REPS; i++) h.push(writeOnce(file, N, true, 50));
  fmt('write (recording hook, 50 pids)', h);
  const o: number[] = [];
  for (let i = 0; i < REPS; i++) {
    const t0 = performance.now();
    const rec = openRecording(file);
    o.push(rec.records / ((performance.now() - t0) / 1000));
    rec.close();
  }
  fmt('open + validate (scan, CRC)', o, `file ${(size / 1e6).toFixed(0)} MB`);
  const r: number[] = [];
  for (let i = 0; i < REPS; i++) r.push(await replayOnce(file, 'drain'));
  fmt('replay --speed 0 -> ring -> drain', r);
  let haveModel = true;
  try {
    require.resolve('../src/model/model');
  } catch {
    haveModel = false;
  }
  if (haveModel) {
    const m: number[] = [];
    for (let i = 0; i < REPS; i++) m.push(await replayOnce(file, 'model'));
    fmt('replay --speed 0 -> ring -> model', m);
  }
  const j: number[] = [];
  const devnull = fs.createWriteStream('/dev/null');
  for (let i = 0; i < Math.max(1, REPS - 2); i++) {
    const t0 = performance.now();
    await replayJson(file, devnull, process.stderr);
    j.push(N / ((performance.now() - t0) / 1000));
  }
  devnull.end();
  fmt('replay --json (to /dev/null)', j);
  if (dirArg < 0) fs.rmSync(DIR, { recursive: true, force: true });
}

main(process.argv).catch((e) => {
  console.error(e);
  process.exit(1);
});
