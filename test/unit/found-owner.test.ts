/** FoundOwnerStage: a record socktop's walk made (inferred, a pid, no comm) gets its process's name
 *  and uid from /proc, only when that process existed when the record was made. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { FoundOwnerStage } from '../../src/capture/found-owner-stage';
import { EventKind, Flag2, Offset, RECORD_SIZE } from '../../src/capture/layout';

function fakeProc(root: string, pid: number, comm: string, uid: number, startTicks: number): void {
  const dir = path.join(root, String(pid));
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(path.join(dir, 'comm'), `${comm}\n`);
  fs.writeFileSync(path.join(dir, 'status'), `Name:\t${comm}\nUid:\t${uid}\t${uid}\t${uid}\t${uid}\n`);
  const after = ['S', '1', ...Array(17).fill('0'), String(startTicks), '0'];
  fs.writeFileSync(path.join(dir, 'stat'), `${pid} (${comm}) ${after.join(' ')}\n`);
}

function record(view: DataView, i: number, pid: number, tsNs: bigint, inferred: boolean): void {
  const off = i * RECORD_SIZE;
  view.setUint8(off + Offset.kind, EventKind.Listen);
  view.setUint32(off + Offset.pid, pid, true);
  view.setBigUint64(off + Offset.ts_ns, tsNs, true);
  if (inferred) view.setUint8(off + Offset.flags2, Flag2.Inferred);
}

function comm(bytes: Uint8Array, i: number): string {
  const at = i * RECORD_SIZE + Offset.comm;
  const raw = bytes.subarray(at, at + 16);
  return Buffer.from(raw.subarray(0, raw.indexOf(0) < 0 ? 16 : raw.indexOf(0))).toString('latin1');
}

test('found owners: name and uid from /proc; not for a live record, a gone or a newer process', () => {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'socktop-proc-'));
  try {
    fakeProc(root, 100, 'redis-server', 999, 50); // started 0.5 s after boot
    fakeProc(root, 200, 'late\x1bname', 0, 1000); // started at 10 s
    const bytes = new Uint8Array(5 * RECORD_SIZE);
    const view = new DataView(bytes.buffer);
    record(view, 0, 100, 2_000_000_000n, true);
    record(view, 1, 100, 2_000_000_000n, false); // a live record: its comm is the kernel's (empty)
    record(view, 2, 300, 2_000_000_000n, true);  // gone
    record(view, 3, 200, 2_000_000_000n, true);  // pid 200 is a newer process than the record
    record(view, 4, 200, 20_000_000_000n, true);
    new FoundOwnerStage(root).batch(bytes, view, 5);
    assert.deepEqual([0, 1, 2, 3, 4].map((i) => comm(bytes, i)), ['redis-server', '', '', '', 'late\x1bname']);
    assert.equal(view.getUint32(Offset.uid, true), 999);
  } finally {
    fs.rmSync(root, { recursive: true, force: true });
  }
});
