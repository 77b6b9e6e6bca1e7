/**
 * jsonLine() (the --json fast path) writes exactly what stringifyEvent(decodeEvent()) writes:
 * JSON.stringify's text, with DEL and C1 controls (only a comm can hold them) escaped as \u00XX.
 */
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import fc from 'fast-check';
import { decodeEvent, stringifyEvent } from '../../src/capture/decode';
import { jsonLine } from '../../src/capture/json-line';
import { KIND_MAX, Offset, RECORD_SIZE } from '../../src/capture/layout';

/** Random records, with the fields that steer decoding drawn from their meaningful values. */
const records = fc.record({
  bytes: fc.uint8Array({ minLength: RECORD_SIZE, maxLength: RECORD_SIZE }),
  kind: fc.integer({ min: 0, max: KIND_MAX + 1 }),
  family: fc.constantFrom(0, 1, 2, 10, 7),
  proto: fc.constantFrom(0, 1, 2, 5, 6, 17, 99),
  backend: fc.integer({ min: 0, max: 6 }),
  stage: fc.integer({ min: 0, max: 6 }),
  smallIds: fc.boolean(),
  zeroes: fc.subarray(['error', 'new_state', 'old_state', 'serial', 'comm'] as const),
  /** A comm of UTF-8 text (controls, C1, wide characters) rather than random bytes. */
  text: fc.option(fc.array(fc.oneof(
    fc.constantFrom('\x1b', '\x07', '\r', '\n', '\x7f', '\u0085', '\u009b', 'é', '中', '😀', '✓', '"', '\\'),
    fc.string({ unit: 'grapheme', minLength: 1, maxLength: 1 }),
  ), { maxLength: 8 }).map((a) => a.join('')), { nil: undefined }),
});

const C1_OR_DEL = /[\x7f-\x9f]/;

test('jsonLine equals stringifyEvent(decodeEvent) on random records: JSON.stringify, C1 and DEL escaped', () => {
  fc.assert(fc.property(records, (r) => {
    const b = new Uint8Array(r.bytes);
    const v = new DataView(b.buffer);
    v.setUint8(Offset.kind, r.kind);
    v.setUint8(Offset.family, r.family);
    v.setUint8(Offset.proto, r.proto);
    v.setUint8(Offset.backend, r.backend); // flags2 stays random: both duration forms
    if (r.kind === 14) v.setUint8(Offset.new_state, r.stage);
    if (r.kind === 17) v.setUint32(Offset.count, v.getUint32(Offset.count, true) % 128, true); // piece offsets
    if (r.smallIds) { // ids as the reader writes them: below 2^53
      v.setUint16(Offset.sock + 6, 0, true);
      v.setUint8(Offset.sock + 5, v.getUint8(Offset.sock + 5) & 0x1f);
    }
    for (const z of r.zeroes) {
      if (z === 'error') v.setInt32(Offset.error, 0, true);
      else if (z === 'serial') v.setBigUint64(Offset.serial, 0n, true);
      else if (z === 'comm') b.fill(0, Offset.comm + 3, Offset.comm + 16);
      else v.setUint8(Offset[z], 0);
    }
    if (r.text !== undefined) {
      b.fill(0, Offset.comm, Offset.comm + 16);
      b.set(new TextEncoder().encode(r.text).subarray(0, 15), Offset.comm);
    }
    const ev = decodeEvent(v, 0);
    const line = jsonLine(v, 0);
    assert.equal(line, stringifyEvent(ev));
    assert.deepEqual(JSON.parse(line), JSON.parse(JSON.stringify(ev)), 'the same JSON value as JSON.stringify');
    assert.doesNotMatch(line, C1_OR_DEL, 'no raw DEL or C1 control');
    if (!C1_OR_DEL.test(ev.comm + (ev.text ?? ''))) assert.equal(line, JSON.stringify(ev), 'the very text of JSON.stringify');
  }), { numRuns: 5000 });
});

test('comm in JSON: decoded UTF-8, C0 escaped by JSON, C1 and DEL as \\u00XX', () => {
  const b = new Uint8Array(RECORD_SIZE);
  const v = new DataView(b.buffer);
  const line = (comm: number[]) => {
    b.fill(0, Offset.comm, Offset.comm + 16);
    b.set(comm, Offset.comm);
    return jsonLine(v, 0);
  };
  const comm = (bytes: number[]) => /"comm":("(?:[^"\\]|\\.)*")/.exec(line(bytes))![1];
  assert.equal(comm([...new TextEncoder().encode('héllo→✓')]), '"héllo→✓"');
  assert.equal(JSON.parse(comm([...new TextEncoder().encode('héllo→✓')])), 'héllo→✓');
  assert.equal(comm([0x1b, 0x5d, 0x30, 0x3b, 0x07, 0x0d, 0x0a]), '"\\u001b]0;\\u0007\\r\\n"');
  assert.equal(comm([0x61, 0x7f, 0xc2, 0x85, 0xc2, 0x9b]), '"a\\u007f\\u0085\\u009b"');
  assert.equal(comm([0x61, 0xff, 0x62]), '"a\ufffdb"'); // an invalid byte: U+FFFD, as such
  // The same record twice (commJson keeps the last one) and then another: no stale text.
  assert.equal(comm([0x61]), '"a"');
  assert.equal(comm([0x61]), '"a"');
  assert.equal(comm([0x62]), '"b"');
});
