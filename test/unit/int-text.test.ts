import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import fc from 'fast-check';
import { intText } from '../../src/capture/int-text';

test('intText writes what String() writes, for every u64 value as a double', () => {
  const u64 = fc.bigInt({ min: 0n, max: (1n << 64n) - 1n }).map((b) => Number(b));
  fc.assert(fc.property(u64, (n) => intText(n) === String(n)), { numRuns: 20000 });
  for (const n of [0, 1, 0x3fffffff, 0x40000000, 2 ** 31, 2 ** 32 - 1, 2 ** 53 - 1, 2 ** 53, 2 ** 53 + 2, 2 ** 64, 1e21 - 65536]) {
    assert.equal(intText(n), String(n), String(n));
  }
});

test('intText: the clocks and counters of a storm (around 1e12-1e16 ns) in both ranges', () => {
  const safe = fc.integer({ min: 0, max: Number.MAX_SAFE_INTEGER });
  fc.assert(fc.property(safe, (n) => intText(n) === String(n)), { numRuns: 20000 });
});
