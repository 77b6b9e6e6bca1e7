/**
 * Containers and network namespaces end to end, on real BPF: a workload (fixtures/held.py) run in
 * a cgroup directory named as a Kubernetes pod's containerd container is
 * (kubepods.slice/.../kubepods-besteffort-pod<uid>.slice/cri-containerd-<id>.scope, made here under
 * the real cgroup v2 mount, no controllers enabled, the process in the leaf) and in a network
 * namespace of its own (unshare -n). Ground truth: the id and pod UID written into the path, the
 * workload's own pid and /proc/self/ns/net inode.
 *   - `socktop -b` shows the container id, the pod UID and the netns on the workload's row;
 *     `--container <id prefix>` keeps that row and drops a workload on the host;
 *   - the exporter labels the workload's series with container and pod_uid;
 *   - sockets opened BEFORE socktop starts, in two other namespaces with the very same 4-tuple,
 *     are in the startup snapshot with their namespaces and cgroups, and stay two sockets: each
 *     one's later events carry its own snapshot identity and owner (and, in --json, the names of
 *     its container and pod).
 */
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { ChildProcess, spawn } from 'child_process';
import * as crypto from 'crypto';
import * as fs from 'fs';
import * as path from 'path';
import { findCgroup2Mount } from '../../src/capture/kernel';
import { liveTestOptions } from './bpf-available';
import { CLI, parseJsonLines, startSocktop } from './socktop-run';

const FIXTURE = path.resolve(__dirname, '../../../test/live/fixtures/held.py');
const settle = (ms = 500): Promise<void> => new Promise((r) => setTimeout(r, ms));

interface Held {
  child: ChildProcess;
  pid: number;
  netns: number;
  port: number;
  clientPort: number;
  /** Let it send, close and exit; resolves once it has. */
  finish(): Promise<void>;
}

/** held.py in the cgroup directory `cg` (null: the test's own) and, with `ownNetns`, a new network namespace. */
async function startHeld(cg: string | null, port: number, ownNetns = true): Promise<Held> {
  const py = `exec python3 ${FIXTURE} ${port}`;
  const inner = ownNetns ? `exec unshare -n sh -c 'ip link set lo up && ${py}'` : py;
  const script = cg ? `echo $$ > ${cg}/cgroup.procs && ${inner}` : inner;
  const child = spawn('sh', ['-c', script], { stdio: ['pipe', 'pipe', 'inherit'] });
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  const line = await new Promise<string>((resolve, reject) => {
    let buf = '';
    child.stdout!.setEncoding('utf8').on('data', (d) => {
      buf += d;
      if (buf.includes('\n')) resolve(buf.split('\n')[0]);
    });
    child.once('exit', (code) => reject(new Error(`held.py exited ${code} before it was ready`)));
  });
  const info = JSON.parse(line);
  let finished = false;
  const finish = async (): Promise<void> => {
    if (!finished) child.stdin!.end('go\n');
    finished = true;
    await exited;
  };
  return { child, ...info, finish };
}

/** A pod-like cgroup tree under the real cgroup v2 mount; remove() takes it down (leaf first). */
function podCgroup(): { root: string; leaf: string; id: string; pod: string; ino: number; remove(): void } {
  const root = findCgroup2Mount(fs.readFileSync('/proc/self/mountinfo', 'utf8'));
  assert.ok(root, 'a cgroup v2 mount on this host');
  const id = crypto.randomBytes(32).toString('hex');
  const pod = crypto.randomUUID();
  const top = fs.mkdtempSync(path.join(root, 'socktop-ct-'));
  const leaf = path.join(top, 'kubepods.slice', 'kubepods-besteffort.slice',
    `kubepods-besteffort-pod${pod.replace(/-/g, '_')}.slice`, `cri-containerd-${id}.scope`);
  fs.mkdirSync(leaf, { recursive: true });
  return {
    root, leaf, id, pod, ino: fs.statSync(leaf).ino,
    remove() {
      for (let p = leaf; p.startsWith(top); p = path.dirname(p)) {
        try {
          fs.rmdirSync(p);
        } catch {
          // a process still leaving: the next test run's mkdtemp name differs anyway
        }
      }
    },
  };
}

/** The cells of `row` under each title of `header` (batch lines: fixed-width columns). */
function cell(header: string, row: string, title: string, width: number): string {
  const at = header.indexOf(title);
  return row.slice(at, at + width).trim();
}

test('socktop -b: a pod container\'s row shows its container id, pod UID and netns; --container <prefix> keeps only it', liveTestOptions(), async () => {
  const cg = podCgroup();
  const held: Held[] = [];
  try {
    const batch = await startSocktop(['-b', '-n', '1', '-d', '3', '--container', cg.id.slice(0, 10)]);
    const inPod = await startHeld(cg.leaf, 47400);
    held.push(inPod);
    // On the host's loopback: a port of its own each run (the last run's client end may linger in TIME_WAIT).
    const onHost = await startHeld(null, 40000 + 2 * crypto.randomInt(10000), false);
    held.push(onHost);
    await settle(100);
    const code = await new Promise<number | null>((r) => batch.child.once('exit', (c) => r(c)));
    assert.equal(code, 0, batch.stderr());
    const lines = batch.stdout().split('\n');
    assert.match(lines[1], new RegExp(`filter: container ${cg.id.slice(0, 10)}`));
    const header = lines[3];
    const rows = lines.slice(4).filter((l) => l.trim());
    const pids = rows.map((r) => Number(r.trim().split(/\s+/)[0]));
    // Only the pod's processes (held.py; `ip link set lo up` may have a row of its own there).
    assert.ok(pids.includes(inPod.pid) && !pids.includes(onHost.pid), `the pod's process, not the host's: ${batch.stdout()}`);
    for (const r of rows) assert.equal(cell(header, r, 'CONTAINER', 12), cg.id.slice(0, 12));
    const row = rows[pids.indexOf(inPod.pid)];
    assert.equal(cell(header, row, 'CONTAINER', 12), cg.id.slice(0, 12));
    assert.equal(cell(header, row, 'POD', 36), cg.pod);
    const netnsEnd = header.indexOf('NETNS') + 5; // right-aligned, 10 wide
    assert.equal(Number(row.slice(netnsEnd - 10, netnsEnd).trim()), inPod.netns);
    assert.equal(cell(header, row, 'LISTEN', 5), String(inPod.port));
  } finally {
    for (const h of held) await h.finish();
    await settle(200);
    cg.remove();
  }
});

test('exporter: the pod container\'s series carry container and pod_uid labels', liveTestOptions(), async () => {
  const cg = podCgroup();
  const exporter = await startSocktop(['exporter', '--listen', '127.0.0.1:0']);
  try {
    await settle(300);
    const port = Number(/serving http:\/\/127\.0\.0\.1:(\d+)\//.exec(exporter.stderr())?.[1]);
    assert.ok(port > 0, exporter.stderr());
    const held = await startHeld(cg.leaf, 47410);
    await held.finish();
    await settle(700); // the reader's poll, then a drain
    const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
    const labels = `comm="python3",container="${cg.id.slice(0, 12)}",pod_uid="${cg.pod}"`;
    assert.match(text, new RegExp(`^socktop_connects_total\\{${labels},result="ok"\\} 1$`, 'm'), text.split('\n').filter((l) => l.includes('python3')).join('\n'));
    assert.match(text, new RegExp(`^socktop_accepts_total\\{${labels}\\} 1$`, 'm'));
    assert.match(text, new RegExp(`^socktop_closes_total\\{${labels}\\} 3$`, 'm'));
  } finally {
    assert.equal(await exporter.stop('SIGTERM'), 0, exporter.stderr());
    cg.remove();
  }
});

test('exporter as the DaemonSet runs it (private cgroup namespace, the host\'s cgroup root mounted over its own) names the pod\'s container', liveTestOptions(), async () => {
  const cg = podCgroup();
  const exporterCg = fs.mkdtempSync(path.join(cg.root, 'socktop-exp-'));
  const child = spawn(path.resolve(__dirname, '../../../test/live/fixtures/pod-like.sh'),
    [process.execPath, CLI, 'exporter', '--listen', '127.0.0.1:0'],
    { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, HOST_CGROUP2: cg.root, POD_CGROUP: exporterCg, HOST_MOUNT: '1' } });
  let err = '';
  child.stderr!.setEncoding('utf8').on('data', (d) => (err += d));
  const exited = new Promise<number | null>((r) => child.once('exit', (c) => r(c)));
  try {
    for (let i = 0; i < 150 && !/serving http/.test(err) && child.exitCode === null; i++) await settle(100);
    const port = Number(/serving http:\/\/127\.0\.0\.1:(\d+)\//.exec(err)?.[1]);
    assert.ok(port > 0, err);
    const held = await startHeld(cg.leaf, 47430);
    await held.finish();
    await settle(700);
    const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
    const labels = `comm="python3",container="${cg.id.slice(0, 12)}",pod_uid="${cg.pod}"`;
    assert.match(text, new RegExp(`^socktop_connects_total\\{${labels},result="ok"\\} 1$`, 'm'), text.split('\n').filter((l) => l.includes('python3')).join('\n'));
  } finally {
    child.kill('SIGTERM');
    assert.equal(await exited, 0, err);
    for (let i = 0; i < 50 && fs.readFileSync(path.join(exporterCg, 'cgroup.procs'), 'utf8').trim() !== ''; i++) await settle(100);
    fs.rmdirSync(exporterCg);
    cg.remove();
  }
});

test('startup snapshot: sockets opened before socktop in two other namespaces, with one 4-tuple, are two sockets with their netns and cgroup', liveTestOptions(), async () => {
  const cgs = [podCgroup(), podCgroup()];
  const held: Held[] = [];
  let socktop: Awaited<ReturnType<typeof startSocktop>> | undefined;
  try {
    for (const cg of cgs) held.push(await startHeld(cg.leaf, 47420));
    assert.notEqual(held[0].netns, held[1].netns);
    socktop = await startSocktop(['--json']);
    for (const h of held) await h.finish(); // traffic and closes of the pre-existing sockets
    await settle();
  } finally {
    if (socktop) assert.equal(await socktop.stop('SIGINT'), 0, socktop.stderr());
    for (const h of held) await h.finish();
    await settle(200);
    for (const cg of cgs) cg.remove();
  }
  const events = parseJsonLines(socktop!.stdout());
  const seen = new Set<string>();
  held.forEach((h, i) => {
    const snap = events.filter((e) => e.snapshot && e.pid === h.pid);
    const listen = snap.find((e) => e.kind === 'listen' && e.lport === h.port);
    const client = snap.find((e) => e.kind === 'socket' && e.lport === h.clientPort && e.rport === h.port);
    const server = snap.find((e) => e.kind === 'socket' && e.lport === h.port && e.rport === h.clientPort);
    assert.ok(listen && client && server, `the three sockets of ${h.pid} in the snapshot: ${JSON.stringify(snap)}`);
    for (const e of [listen, client, server]) {
      assert.equal(e.netns, h.netns, `snapshot ${e.kind} of ${h.pid} in its namespace`);
      assert.equal(e.cgroup_id, cgs[i].ino, `snapshot ${e.kind} of ${h.pid}: its owner's cgroup`);
      assert.ok(!seen.has(e.sock), 'a socket identity of its own');
      seen.add(e.sock);
      // The later close of that very socket: its owner, its namespace, its snapshot identity.
      const closes = events.filter((c) => c.kind === 'close' && c.sock === e.sock);
      assert.deepEqual(closes.map((c) => [c.pid, c.netns, c.container, c.container_id, c.pod_uid]),
        [[h.pid, h.netns, cgs[i].id.slice(0, 12), cgs[i].id, cgs[i].pod]], `one close for ${e.kind} ${e.lport}->${e.rport} of ${h.pid}, named`);
    }
  });
});
