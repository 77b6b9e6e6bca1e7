/**
 * The TypeScript mirror (src/capture/layout.ts) against the compiler's offsetof() of
 * struct socktop_event, as the built addon reports it. Needs the addon, not root.
 */
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'fs';
import { loadAddon, nativeAddonPath } from '../../src/capture/addon';
import { Offset, RECORD_SIZE } from '../../src/capture/layout';

function nativeLayout(): Record<string, number> {
  assert.ok(fs.existsSync(nativeAddonPath()),
    `native addon not built (${nativeAddonPath()}): run npx node-gyp rebuild --directory native`);
  return loadAddon().layout();
}

test('every mirrored offset equals offsetof() in bpf/socktop.h', () => {
  const native = nativeLayout();
  for (const [field, offset] of Object.entries(Offset)) {
    assert.equal(offset, native[field], `offset of ${field}`);
  }
});

test('the record size is RECORD_SIZE', () => {
  assert.equal(nativeLayout().size, RECORD_SIZE);
});

test('every field of the header is mirrored', () => {
  const mirrored = new Set(Object.keys(Offset));
  const missing = Object.keys(nativeLayout()).filter((f) => f !== 'size' && !mirrored.has(f));
  assert.deepEqual(missing, []);
});
