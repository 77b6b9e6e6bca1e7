/** jsonLine() (the --json fast path) writes exactly what JSON.stringify(decodeEvent()) writes. */
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import fc from 'fast-check';
import { decodeEvent } from '../../src/capture/decode';
import { jsonLine } from '../../src/capture/json-line';
import { KIND_MAX, Offset, RECORD_SIZE } from '../../src/capture/layout';

/** Random records, with the fields that steer decoding drawn from their meaningful values. */
const records = fc.record({
  bytes: fc.uint8Array({ minLength: RECORD_SIZE, maxLength: RECORD_SIZE }),
  kind: fc.integer({ min: 0, max: KIND_MAX + 1 }),
  family: fc.constantFrom(0, 2, 10, 7),
  proto: fc.constantFrom(0, 6, 17, 99),
  backend: fc.integer({ min: 0, max: 6 }),
  stage: fc.integer({ min: 0, max: 6 }),
  smallIds: fc.boolean(),
  zeroes: fc.subarray(['error', 'new_state', 'old_state', 'cookie', 'comm'] as const),
});

test('jsonLine equals JSON.stringify(decodeEvent) on random records', () => {
  fc.assert(fc.property(records, (r) => {
    const b = new Uint8Array(r.bytes);
    const v = new DataView(b.buffer);
    v.setUint8(Offset.kind, r.kind);
    v.setUint8(Offset.family, r.family);
    v.setUint8(Offset.proto, r.proto);
    v.setUint16(Offset.backend, r.backend, true);
    if (r.kind === 14) v.setUint8(Offset.new_state, r.stage);
    if (r.smallIds) { // ids as the reader writes them: below 2^53
      v.setUint16(Offset.sock + 6, 0, true);
      v.setUint8(Offset.sock + 5, v.getUint8(Offset.sock + 5) & 0x1f);
    }
    for (const z of r.zeroes) {
      if (z === 'error') v.setInt32(Offset.error, 0, true);
      else if (z === 'cookie') v.setBigUint64(Offset.cookie, 0n, true);
      else if (z === 'comm') b.fill(0, Offset.comm + 3, Offset.comm + 16);
      else v.setUint8(Offset[z], 0);
    }
    assert.equal(jsonLine(v, 0), JSON.stringify(decodeEvent(v, 0)));
  }), { numRuns: 5000 });
});
