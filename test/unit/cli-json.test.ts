import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { EventKind as K } from '../../src/capture/layout';
import { runJson, summaryLine } from '../../src/cli/run/json';
import { parsePidFilter } from '../../src/model/filter';
import { kernelSock, makeRecord } from './helpers/records';
import { collector, fakeSource } from './helpers/source';

function records(): Uint8Array[] {
  return [
    makeRecord({ kind: K.Accept, pid: 1, comm: 'nginx', sock: kernelSock(1), laddr: '127.0.0.1', lport: 80, raddr: '127.0.0.1', rport: 5000, ts_ns: 10 }),
    makeRecord({ kind: K.Connect, pid: 2, comm: 'curl', sock: kernelSock(2), error: 111, ts_ns: 11 }),
    makeRecord({ kind: K.Drops, new_state: 2, count: 3, ts_ns: 12 }),
    makeRecord({ kind: K.Exit, pid: 2, comm: 'curl', ts_ns: 13 }),
  ];
}

const errSink = () => collector();

test('every record as one JSON line; the summary goes to stderr', async () => {
  const out = collector();
  const err = errSink();
  const sum = await runJson(fakeSource(records()), { pids: null, comm: null, out: out.stream, err: err.stream, signal: new AbortController().signal });
  const events = out.text().trim().split('\n').map((l) => JSON.parse(l));
  assert.deepEqual(events.map((e) => e.kind), ['accept', 'connect', 'drops', 'exit']);
  assert.equal(events[0].lport, 80);
  assert.equal(events[1].error, 'ECONNREFUSED');
  assert.deepEqual([events[2].stage, events[2].dropped], ['shared_ring', 3]);
  assert.deepEqual(sum.drops, [0, 0, 3, 0, 0, 0]);
  assert.equal(err.text(), 'socktop: 4 events written (4 read); drops: kernel_miss 0, udp_flows 0, bpf_ring 0, shared_ring 3, recording 0\n');
});

test('filters apply to events but never hide drop markers', async () => {
  const out = collector();
  await runJson(fakeSource(records()), { pids: parsePidFilter('!2'), comm: null, out: out.stream, err: errSink().stream, signal: new AbortController().signal });
  assert.deepEqual(out.text().trim().split('\n').map((l) => JSON.parse(l).kind), ['accept', 'drops']);
  const byComm = collector();
  await runJson(fakeSource(records()), { pids: null, comm: 'CUR', out: byComm.stream, err: errSink().stream, signal: new AbortController().signal });
  assert.deepEqual(byComm.text().trim().split('\n').map((l) => JSON.parse(l).kind), ['connect', 'drops', 'exit']);
});

test('drops reported by the source count too (the larger figure per stage)', async () => {
  const err = errSink();
  await runJson(fakeSource(records(), { stats: { bpfRingDrops: 9, sharedRingDrops: 1 } }),
    { pids: null, comm: null, out: collector().stream, err: err.stream, signal: new AbortController().signal });
  assert.match(err.text(), /bpf_ring 9, shared_ring 3, recording 0/);
});

test('a closed stdout (EPIPE) ends the stream quietly', async () => {
  const src = fakeSource(records());
  src.done = false; // a live source: only the broken pipe can end it
  const out = new Writable({
    write(_chunk, _enc, cb) {
      cb(Object.assign(new Error('write EPIPE'), { code: 'EPIPE' }));
    },
  });
  const err = errSink();
  const sum = await runJson(src, { pids: null, comm: null, out, err: err.stream, signal: new AbortController().signal });
  assert.equal(sum.brokenPipe, true);
  assert.match(err.text(), /output closed/);
});

test('a stop signal ends a live stream', async () => {
  const src = fakeSource(records());
  src.done = false;
  const ac = new AbortController();
  setTimeout(() => ac.abort(), 150);
  const out = collector();
  const sum = await runJson(src, { pids: null, comm: null, out: out.stream, err: errSink().stream, signal: ac.signal });
  assert.equal(sum.written, 4);
  assert.equal(summaryLine(sum).startsWith('socktop: 4 events written'), true);
});
