/**
 * Recordings of record layouts 1-2 (128-byte records, before cgroup_id and netns) read as this
 * layout: each record widened with zeros (cgroup and netns "not known", JSON null), every other
 * field the bytes the file holds. samples/demo.socktop is such a recording (layout 2).
 */
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'fs';
import * as path from 'path';
import { Offset, RECORD_SIZE, RECORD_SIZE_V2 } from '../../src/capture/layout';
import { decodeEvent } from '../../src/capture/decode';
import { jsonLine } from '../../src/capture/json-line';
import { openRecording } from '../../src/record/reader';

const SAMPLE = path.join(__dirname, '..', '..', '..', 'samples', 'demo.socktop');

test('a layout 2 recording (128-byte records) reads widened: same bytes, then zeros', () => {
  const rec = openRecording(SAMPLE);
  try {
    assert.equal(rec.header.recordSize, RECORD_SIZE_V2);
    assert.equal(rec.stride, RECORD_SIZE_V2);
    const raw = fs.readFileSync(SAMPLE);
    let seen = 0;
    for (const b of rec.batches()) {
      assert.equal(b.bytes.length, b.count * RECORD_SIZE);
      const fileAt = rec.frameOff(rec.frameOf(b.first)) + (b.first - rec.frameFirst(rec.frameOf(b.first))) * RECORD_SIZE_V2;
      for (let k = 0; k < b.count; k++) {
        const from = fileAt + k * RECORD_SIZE_V2;
        const wide = b.bytes.subarray(k * RECORD_SIZE, (k + 1) * RECORD_SIZE);
        assert.deepEqual(Buffer.from(wide.subarray(0, RECORD_SIZE_V2)), raw.subarray(from, from + RECORD_SIZE_V2));
        assert.ok(wide.subarray(RECORD_SIZE_V2).every((x) => x === 0), 'the widened tail is zero');
        const ev = decodeEvent(b.view, k * RECORD_SIZE);
        if (ev.kind !== 'drops') {
          assert.equal(ev.netns, null);
          assert.equal(ev.cgroup_id, null);
        }
        assert.equal(jsonLine(b.view, k * RECORD_SIZE), JSON.stringify(ev));
      }
      seen += b.count;
    }
    assert.equal(seen, rec.records);
    assert.ok(seen > 100, `the sample holds records (${seen})`);
  } finally {
    rec.close();
  }
});

test('netns and cgroup_id, when known, reach JSON as numbers', () => {
  const bytes = new Uint8Array(RECORD_SIZE);
  const v = new DataView(bytes.buffer);
  bytes[Offset.kind] = 8; // close
  v.setUint32(Offset.netns, 4026531840, true);
  v.setBigUint64(Offset.cgroup_id, 12345n, true);
  const ev = decodeEvent(v, 0);
  assert.equal(ev.netns, 4026531840);
  assert.equal(ev.cgroup_id, 12345);
  assert.equal(jsonLine(v, 0), JSON.stringify(ev));
});
