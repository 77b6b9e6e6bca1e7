/**
 * Once attached, socktop gives up root: it becomes the sudo user (SUDO_UID/SUDO_GID) or nobody,
 * with no capabilities left in any thread, and still captures and detaches cleanly.
 * (Capability-only runs: capabilities.test.ts.)
 */
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'fs';
import { execFileSync } from 'child_process';
import { liveTestOptions } from './bpf-available';
import { startSocktop } from './socktop-run';

function status(pid: number, tid?: string): Record<string, string> {
  const out: Record<string, string> = {};
  const file = tid === undefined ? `/proc/${pid}/status` : `/proc/${pid}/task/${tid}/status`;
  for (const line of fs.readFileSync(file, 'utf8').split('\n')) {
    const [k, v] = line.split(':\t');
    if (v !== undefined) out[k] = v.trim();
  }
  return out;
}

test('after attach socktop runs as the sudo user without capabilities, and detaches', liveTestOptions(), async () => {
  const before = ourPrograms();
  const socktop = await startSocktop(['--json'], 15000, { SUDO_UID: '4321', SUDO_GID: '4322' });
  assert.ok(ourPrograms() > before, 'the programs are attached while it runs');
  const pid = socktop.child.pid!;
  await new Promise((r) => setTimeout(r, 300));
  const st = status(pid);
  assert.match(st.Uid, /^4321\s+4321\s+4321\s+4321$/);
  assert.match(st.Gid, /^4322\s+4322\s+4322\s+4322$/);
  assert.equal(BigInt(`0x${st.CapEff}`), 0n);
  assert.equal(BigInt(`0x${st.CapPrm}`), 0n);
  // Capabilities belong to threads: none of them keeps any (Node's own threads included).
  for (const tid of fs.readdirSync(`/proc/${pid}/task`)) {
    const th = status(pid, tid);
    for (const set of ['CapInh', 'CapPrm', 'CapEff', 'CapAmb']) assert.equal(BigInt(`0x${th[set]}`), 0n, `thread ${tid} ${set} ${th[set]}`);
  }
  assert.equal(await socktop.stop('SIGINT'), 0, socktop.stderr());
  // Still detached everything although no longer root. (The kernel frees a program from a work
  // queue after its last reference goes: give it a moment.)
  for (let i = 0; i < 30 && ourPrograms() !== before; i++) await new Promise((r) => setTimeout(r, 100));
  assert.equal(ourPrograms(), before, 'no socktop program left attached');
});

/** socktop's programs loaded in the kernel now (names start with tp_/kp_/kt_/cg_/run_, cut to 15 chars). */
function ourPrograms(): number {
  const progs = execFileSync('bpftool', ['prog', 'show'], { encoding: 'utf8' });
  return progs.split('\n').filter((l) => /^\d+: \S+\s+name (tp_|kp_|kt_|cg_|run_)/.test(l)).length;
}
