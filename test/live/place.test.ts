/**
 * Where each socket lives, on every backend this machine offers: every record of a process carries
 * its network namespace (the inode of /proc/PID/ns/net) and its cgroup v2 id (the inode of its
 * cgroup directory), read by the BPF programs from the socket itself. Ground truth: two runs of
 * test/live/fixtures/place.py, each in a network namespace and a cgroup of its own, making the
 * very same 4-tuple (127.0.0.1:PORT both times): only the netns and cgroup tell them apart.
 */
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { execFileSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { findCgroup2Mount } from '../../src/capture/kernel';
import { liveTestOptions } from './bpf-available';
import { parseJsonLines, startSocktop } from './socktop-run';

const FIXTURE = path.resolve(__dirname, '../../../test/live/fixtures/place.py');
const PORT = 47311;
const settle = (): Promise<void> => new Promise((r) => setTimeout(r, 500)); // the reader's poll timeout

interface Run { pid: number; netns: number; port: number; clientPort: number; cgroupId: number }

/** place.py in a new network namespace (lo up) and in the cgroup directory `cg`. */
function runPlaced(cg: string): Run {
  const script = `echo $$ > ${cg}/cgroup.procs && exec unshare -n sh -c 'ip link set lo up && exec python3 ${FIXTURE} ${PORT}'`;
  const out = JSON.parse(execFileSync('sh', ['-c', script], { encoding: 'utf8', timeout: 20000 }).trim());
  return { ...out, cgroupId: fs.statSync(cg).ino };
}

for (const probe of ['cgroup', 'tracepoint']) {
  test(`--probe ${probe}: every record carries its socket's netns and cgroup; one 4-tuple in two namespaces is two places`, liveTestOptions(), async () => {
    const root = findCgroup2Mount(fs.readFileSync('/proc/self/mountinfo', 'utf8'));
    assert.ok(root, 'a cgroup v2 mount on this host');
    const cgs = [fs.mkdtempSync(path.join(root, 'socktop-place-a-')), fs.mkdtempSync(path.join(root, 'socktop-place-b-'))];
    const socktop = await startSocktop(['--json', '--probe', probe]);
    let runs: Run[];
    try {
      runs = cgs.map(runPlaced);
      await settle();
    } finally {
      assert.equal(await socktop.stop('SIGINT'), 0, socktop.stderr());
      for (const cg of cgs) fs.rmdirSync(cg);
    }
    assert.notEqual(runs[0].netns, runs[1].netns, 'two namespaces');
    assert.notEqual(runs[0].cgroupId, runs[1].cgroupId, 'two cgroups');
    assert.deepEqual([runs[0].clientPort, runs[1].clientPort], [PORT + 1, PORT + 1], 'one 4-tuple, twice');
    const events = parseJsonLines(socktop.stdout());
    for (const run of runs) {
      const mine = events.filter((e) => e.pid === run.pid);
      const kinds = new Set(mine.map((e) => e.kind));
      for (const k of ['listen', 'connect', 'accept', 'close', 'exit']) assert.ok(kinds.has(k), `${k} of ${run.pid}: ${[...kinds]}`);
      const wrong = mine.filter((e) => e.netns !== run.netns || e.cgroup_id !== run.cgroupId);
      assert.deepEqual(wrong.map((e) => [e.kind, e.netns, e.cgroup_id]), [], `every record of ${run.pid} in netns ${run.netns}, cgroup ${run.cgroupId}`);
      // The same 4-tuple in both runs: each run's connect is found by its place alone.
      const connects = events.filter((e) => e.kind === 'connect' && e.rport === PORT && e.netns === run.netns);
      assert.deepEqual(connects.map((e) => [e.pid, e.lport, e.error]), [[run.pid, run.clientPort, null]]);
    }
  });
}
