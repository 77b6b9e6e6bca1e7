/**
 * The VM test: socktop on a stock distribution kernel (Debian's linux-image-amd64, 6.1: kprobes and
 * BTF) booted under qemu by test/vm/run.sh, with the same BPF object the host uses. In the guest,
 * for --probe cgroup, kprobe, auto and tracepoint, the assertions of test/live/lifecycle.test.ts (same N, M),
 * and `socktop check` must report kprobes and auto -> kprobe.
 *
 * Runs only with SOCKTOP_VM=1 (`npm run test:vm`): it boots a VM and, as root, may apt-get install
 * qemu-system-x86 and busybox-static and download the kernel package (cached).
 */
import { test } from 'node:test';
import { spawn } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { agreementChecks, backendChecks, checkChecks } from './checks';
import { loadResults } from './results';
import { report } from './verify';

const ROOT = path.resolve(__dirname, '../../..');
const RUN = path.join(ROOT, 'test/vm/run.sh');
const N = Number(process.env.SOCKTOP_VM_N ?? 5);
const M = Number(process.env.SOCKTOP_VM_M ?? 3000);
const PROBES = (process.env.SOCKTOP_VM_PROBES ?? 'cgroup kprobe auto tracepoint').split(/\s+/).filter(Boolean);
const GUEST_TIMEOUT_S = Number(process.env.SOCKTOP_VM_TIMEOUT ?? 360);

const EXIT_MEANING: Record<number, string> = {
  2: 'a prerequisite is missing (qemu, the kernel package or a build artifact)',
  3: `the guest timed out (hard limit ${GUEST_TIMEOUT_S} s, SOCKTOP_VM_TIMEOUT)`,
  4: 'the guest ended without results',
};

function runVm(outDir: string): Promise<{ code: number | null; stderr: string; seconds: number }> {
  const t0 = Date.now();
  return new Promise((resolve, reject) => {
    const child = spawn('bash', [RUN], {
      env: { ...process.env, SOCKTOP_VM_OUT: outDir, SOCKTOP_VM_VERIFY: '0', SOCKTOP_VM_N: String(N), SOCKTOP_VM_M: String(M) },
      stdio: ['ignore', 'inherit', 'pipe'],
    });
    let stderr = '';
    child.stderr.setEncoding('utf8').on('data', (d) => {
      stderr += d;
      process.stderr.write(d);
    });
    // run.sh bounds qemu itself; this only guards against a wedged install or download.
    const timer = setTimeout(() => child.kill('SIGKILL'), (GUEST_TIMEOUT_S + 600) * 1000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stderr, seconds: (Date.now() - t0) / 1000 });
    });
  });
}

const enabled = process.env.SOCKTOP_VM === '1';

test('socktop on a stock Debian kernel in a VM (cgroup, kprobe, auto, tracepoint)',
  { skip: enabled ? false : 'VM test: set SOCKTOP_VM=1 (npm run test:vm)', timeout: (GUEST_TIMEOUT_S + 900) * 1000 },
  async (t) => {
    const outDir = fs.mkdtempSync(path.join(os.tmpdir(), 'socktop-vm-'));
    const run = await runVm(outDir);
    if (run.code !== 0) {
      const reason = EXIT_MEANING[run.code ?? -1] ?? `run.sh exited ${run.code}`;
      const last = run.stderr.split('\n').filter((l) => /FAIL/.test(l)).pop() ?? run.stderr.trim().split('\n').pop();
      throw new Error(`VM test could not run: ${reason}: ${last} (logs in ${outDir})`);
    }
    const res = loadResults(outDir);
    // The guest's figures and the run's duration, as test diagnostics (every reporter keeps them).
    for (const line of report(res).split('\n')) t.diagnostic(line);
    t.diagnostic(`VM test took ${run.seconds.toFixed(1)} s (logs and raw events in ${outDir}, kept when a check fails)`);

    let failed = false;
    const group = async (name: string, checks: ReturnType<typeof checkChecks>) => {
      await t.test(name, async (tt) => {
        for (const c of checks) {
          await tt.test(c.name, () => {
            try {
              c.run();
            } catch (e) {
              failed = true;
              throw e;
            }
          });
        }
      });
    };
    await group('socktop check in the guest', checkChecks(res.check));
    for (const probe of PROBES) {
      const b = res.backends.find((x) => x.probe === probe) ?? { probe, totalMs: 0, error: 'no result from the guest' };
      await group(`--probe ${probe} in the guest: exact per-process socket lifecycles`, backendChecks(b, N, M));
    }
    await group('every backend saw the same traffic the same way', agreementChecks(res.backends));
    await t.test('the guest finished', (tt) => {
      if (!res.end || res.end.error) { failed = true; throw new Error(`guest did not finish cleanly: ${JSON.stringify(res.end)}`); }
      void tt;
    });
    if (!failed) fs.rmSync(outDir, { recursive: true, force: true });
  });
