import { test } from 'node:test';
import assert from 'node:assert/strict';
import { EventKind } from '../../src/capture/layout';
import { EventLog } from '../../src/model/eventlog';
import { makeRecord } from './helpers/records';

/** Push records numbered 0..n-1 (lport = number) into `log`. */
function pushNumbered(log: EventLog, n: number): void {
  for (let i = 0; i < n; i++) {
    const r = makeRecord({ kind: EventKind.Connect, pid: 7, ts_ns: 1e9 + i, lport: 1000 + i });
    log.push(new Uint32Array(r.buffer, r.byteOffset, r.byteLength / 4), 0);
  }
}

test('EventLog: storage grows 4 -> 8 -> 16 -> 32 as records come, never past capacity', () => {
  const log = new EventLog(32);
  assert.equal(log.allocated, 4, 'a short-lived process costs 512 bytes, not 4 KiB');
  const seen: number[] = [];
  for (let i = 0; i < 40; i++) {
    pushNumbered(log, 1);
    seen.push(log.allocated);
  }
  assert.deepEqual([...new Set(seen)], [4, 8, 16, 32]);
  assert.equal(new EventLog(3).allocated, 3);
});

test('EventLog: the newest `capacity` records, newest first, across growth and wrap-around', () => {
  for (const n of [1, 3, 4, 5, 17, 32, 33, 100]) {
    const log = new EventLog(32);
    pushNumbered(log, n);
    const ports = log.recent().map((e) => (e as { lport: number }).lport);
    const want = Array.from({ length: Math.min(n, 32) }, (_, k) => 1000 + n - 1 - k);
    assert.deepEqual(ports, want, `after ${n} records`);
    assert.equal(log.size, Math.min(n, 32));
  }
});
