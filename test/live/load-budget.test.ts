/**
 * How much work loading socktop's BPF object costs the kernel's verifier, per backend (issue 9: the
 * cgroup backend took ~3 s to attach once the unix and UDP-flow programs came in; almost all of it
 * was verification, ~190k instructions in each of 20 programs, the unix path hashing checked over
 * and over). The verifier's instruction count (bpf_prog_info.verified_insns) is the measure: it
 * does not depend on the machine's load, as the time does. The budgets leave room to grow (about
 * 100k today per backend, 20k for the largest program) and catch that kind of blow-up.
 */
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { Backend, bpfObjectPath, loadAddon } from '../../src/capture/addon';
import { liveTestOptions } from './bpf-available';

const TOTAL_BUDGET = 400_000;
const PROGRAM_BUDGET = 100_000;

for (const backend of ['cgroup', 'tracepoint'] as Backend[]) {
  test(`--probe ${backend}: the verifier's work to load the programs stays within budget`, liveTestOptions(), () => {
    const session = loadAddon().open({ backend, objectPath: bpfObjectPath(), bpfRingBytes: 1 << 20 });
    try {
      const programs = session.stats().programs;
      assert.ok(programs.length > 0);
      const total = programs.reduce((sum, p) => sum + p.verifiedInsns, 0);
      const largest = [...programs].sort((a, b) => b.verifiedInsns - a.verifiedInsns).slice(0, 3);
      const top = largest.map((p) => `${p.name} ${p.verifiedInsns}`).join(', ');
      console.log(`${backend}: ${programs.length} programs, ${total} instructions verified (largest: ${top}), ` +
        `attached in ${Math.round(session.info.attachMs)} ms`);
      if (total === 0) return; // a kernel before 5.16 does not count them
      assert.ok(total < TOTAL_BUDGET, `${total} instructions verified (budget ${TOTAL_BUDGET}); largest: ${top}`);
      assert.ok(largest[0].verifiedInsns < PROGRAM_BUDGET, `largest: ${top} (budget ${PROGRAM_BUDGET} each)`);
    } finally {
      session.close();
    }
  });
}
