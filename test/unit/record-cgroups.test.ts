/**
 * cgroup paths travel with a recording: the recording stage writes each new cgroup id's path
 * ("cgroups" in a PROCESS frame ahead of the records), the replay names containers from the file
 * alone (the cgroup is removed before the replay, as on another host), batch mode shows and filters
 * them. Real cgroup directories (root, cgroup v2) with container-like names.
 */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Offset, RECORD_SIZE } from '../../src/capture/layout';
import { openRecording } from '../../src/record/reader';
import { createRecordingStage } from '../../src/record/recording-stage';
import { ReplaySource } from '../../src/record/replay-source';
import { cgroupIdOfPath, hostCgroupRoot } from '../../src/capture/cgroups';
import { runBatch } from '../../src/cli/run/batch';
import { NO_FILTER } from '../../src/model/filter';
import { replayJson } from '../../src/record/commands';
import { tmpDir, writeRecord } from './fixtures/record-synth';

const dir = tmpDir('socktop-rec-cgroups-');
after(() => fs.rmSync(dir, { recursive: true, force: true }));
const root = hostCgroupRoot();
const ID = 'c0ffee'.padEnd(64, '7');
const POD = '11111111-2222-3333-4444-555555555555';

function textSink(): { stream: NodeJS.WritableStream; text: () => string } {
  let text = '';
  const { Writable } = require('node:stream') as typeof import('node:stream');
  const stream = new Writable({ write(c, _e, cb) { text += String(c); cb(); } });
  return { stream, text: () => text };
}

test('recording round trip: cgroup ids -> paths in the file; a replay names the container after the cgroup is gone',
  { skip: root === null || process.getuid?.() !== 0 ? 'needs root and cgroup v2' : false }, async () => {
    const top = fs.mkdtempSync(path.join(root!, 'socktop-rec-'));
    const rel = `/${path.basename(top)}/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod${POD.replace(/-/g, '_')}.slice/cri-containerd-${ID}.scope`;
    fs.mkdirSync(root + rel, { recursive: true });
    const cg = cgroupIdOfPath(root, rel);
    const file = path.join(dir, 'cg.socktop');
    try {
      const h = createRecordingStage(file, { backend: 'tracepoint' }, { timer: false });
      const staging = new Uint8Array(8 * RECORD_SIZE);
      const view = new DataView(staging.buffer);
      const put = (i: number, pid: number, cgroup: number) => {
        writeRecord(staging, i * RECORD_SIZE, { ts: 1000n + BigInt(i), pid, comm: 'app', uid: 0 });
        view.setBigUint64(i * RECORD_SIZE + Offset.cgroup_id, BigInt(cgroup), true);
        view.setUint32(i * RECORD_SIZE + Offset.netns, 4026532999, true);
      };
      const ghost = 0x3ffffff0;
      put(0, ghost, cgroupIdOfPath(root, '/'));
      h.batch(staging, view, 1);
      // A pid described already, now with a cgroup not seen yet: a record-only frame names it.
      put(0, ghost, cg);
      put(1, ghost, cg);
      h.batch(staging, view, 2);
      h.close();
      const rec = openRecording(file);
      const maps = rec.processes.map((p) => p.info.cgroups ?? {});
      assert.deepEqual(maps, [{ [String(cgroupIdOfPath(root, '/'))]: '/' }, { [String(cg)]: rel }], 'each id once, ahead of its records');
      assert.equal(rec.processes[1].info.from_proc, false, 'the second description is record-only (it does not replace a /proc one)');
      rec.close();
    } finally {
      for (let p = root + rel; p.startsWith(top); p = path.dirname(p)) fs.rmdirSync(p);
    }
    // The cgroup is gone: the replay has only the file.
    const src = await ReplaySource.open(file, { speed: 0 });
    const out = textSink();
    await runBatch(src, { delaySec: 0.1, filter: { ...NO_FILTER, container: 'c0ffee77' }, out: out.stream, signal: new AbortController().signal });
    await src.stop();
    assert.equal(src.cgroupPath(cg), rel);
    const lines = out.text().split("\n");
    assert.match(lines[1], /1 shown, .*filter: container c0ffee77/);
    const header = lines[3];
    const row = lines[4];
    assert.equal(row.slice(header.indexOf('CONTAINER'), header.indexOf('CONTAINER') + 12), ID.slice(0, 12));
    assert.equal(row.slice(header.indexOf('POD')), POD, 'the pod UID from the recorded path');
    assert.match(row, / 4026532999 /);
    // replay --json names the container from the file too.
    const json = textSink();
    assert.equal(await replayJson(file, json.stream, textSink().stream), 0);
    const events = json.text().trim().split('\n').map((l) => JSON.parse(l));
    assert.deepEqual(events.map((e) => [e.cgroup_id, e.container, e.container_id, e.pod_uid]), [
      [cgroupIdOfPath(root, '/'), undefined, undefined, undefined],
      [cg, ID.slice(0, 12), ID, POD],
      [cg, ID.slice(0, 12), ID, POD],
    ]);
  });
