/**
 * Kernel-side losses are reported: the kernel skips a BPF tracing program that fires while another
 * one runs on the same CPU and counts a miss (bpf_prog_info.recursion_misses). Here a fixture
 * program (native/test-fixtures/busy.bpf.c) keeps CPU 0 inside BPF while SYNs are retransmitted
 * from timer interrupts on CPU 0, so socktop's tcp_retransmit_skb program is skipped for real.
 * socktop must report those misses as the `kernel_miss` drop stage, and what it captured plus what
 * it reported lost must cover what the kernel counted (the namespace's TCP RetransSegs).
 */
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { execFile, spawn } from 'child_process';
import * as os from 'os';
import * as path from 'path';
import { loadAddon } from '../../src/capture/addon';
import { parseJsonLines, startSocktop } from './socktop-run';
import { fixtureDir, fixtureTestOptions } from './native-fixture';

const SYN_RETRANSMITS = path.resolve(__dirname, '../../../test/live/fixtures/syn-retransmits.sh');

function run(cmd: string, args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(cmd, args, (err, stdout, stderr) => (err ? reject(new Error(`${cmd}: ${stderr || err.message}`)) : resolve(stdout)));
  });
}

/*
 * tracepoint: socktop's classic tracepoint programs are skipped (they share the per-CPU
 * bpf_prog_active with every tracing program) and reported. cgroup: its tracepoint programs are
 * tp_btf ones, skipped only when the same program is already running on that CPU, so the busy CPU
 * costs nothing: every retransmit is captured, none is missed.
 */
for (const probe of ['tracepoint', 'cgroup']) {
  test(`--probe ${probe}: programs the kernel skipped are reported as kernel_miss, and captured + lost covers the truth`,
    fixtureTestOptions({ timeout: 30000 }), async (t) => {
      if (os.cpus().length < 2) return t.skip('needs two CPUs: CPU 0 is kept busy');
      const socktop = await startSocktop(['--json', '--probe', probe]);
      let truth: { pid: number; port: number; sockets: number; retransmits: number };
      const busy = loadAddon().open({ backend: 'tracepoint', objectPath: path.join(fixtureDir(), 'busy.bpf.o') });
      const spinner = spawn('taskset', ['-c', '0', 'python3', '-c', 'import os\nwhile True: os.getpgid(0)'], { stdio: 'ignore' });
      try {
        truth = JSON.parse((await run('unshare', ['-n', SYN_RETRANSMITS])).trim());
      } finally {
        spinner.kill('SIGKILL');
        busy.close();
      }
      await new Promise((r) => setTimeout(r, 600)); // the worker checks the kernel's counters every 250 ms
      assert.equal(await socktop.stop('SIGINT'), 0, socktop.stderr());
      const events = parseJsonLines(socktop.stdout());
      const misses = events.filter((e) => e.kind === 'drops' && e.stage === 'kernel_miss').reduce((n, e) => n + e.dropped, 0);
      const captured = events.filter((e) => e.kind === 'retransmit' && e.rport === truth.port).length;
      t.diagnostic(`kernel RetransSegs ${truth.retransmits}, socktop captured ${captured}, reported kernel_miss ${misses}`);
      assert.ok(truth.retransmits >= truth.sockets, `every socket retransmitted its SYN: ${JSON.stringify(truth)}`);
      if (probe === 'tracepoint') {
        assert.ok(misses > 0, 'the kernel skipped socktop\'s programs, and socktop said so');
        assert.ok(captured <= truth.retransmits);
        assert.ok(captured + misses >= truth.retransmits, `captured ${captured} + lost ${misses} < ${truth.retransmits} retransmits`);
      } else {
        assert.equal(misses, 0, 'tp_btf programs are not skipped for another program');
        assert.equal(captured, truth.retransmits, 'every retransmit captured while the CPU was inside BPF');
      }
      // Every output agrees: the summary line carries the same count as the stream's DROPS records.
      assert.match(socktop.stderr(), new RegExp(`drops: kernel_miss ${misses},`));
    });
}
