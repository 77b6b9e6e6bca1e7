/**
 * Container names from a real runtime's API (src/capture/container-names.ts): a Podman API
 * service (`podman system service`, the Docker-compatible API socket) on a socket of the test's
 * own, a real container created by podman, and the cases that must never fail: no runtime socket,
 * a socket that never answers, an id the runtime does not know. Needs root and podman
 * (scripts/setup.sh installs it); under SOCKTOP_REQUIRE_BPF=1 (CI) a missing podman fails.
 */
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { ChildProcess, execFileSync, spawn, spawnSync } from 'child_process';
import * as fs from 'fs';
import * as net from 'net';
import * as os from 'os';
import * as path from 'path';
import { ContainerNames, socketInspector } from '../../src/capture/container-names';
import { bpfUnavailableReason } from './bpf-available';
import { CLI, parseJsonLines } from './socktop-run';

function podmanMissing(): string | null {
  if (process.getuid?.() !== 0) return 'not root';
  return spawnSync('podman', ['--version']).status === 0 ? null : 'podman not installed (scripts/setup.sh installs it)';
}

function options(bpf = false): { skip?: string } {
  const why = podmanMissing() ?? (bpf ? bpfUnavailableReason() : null);
  if (!why) return {};
  if (process.env.SOCKTOP_REQUIRE_BPF === '1') throw new Error(`SOCKTOP_REQUIRE_BPF=1 but ${why}`);
  return { skip: why };
}

async function waitFor(p: string, ms: number): Promise<void> {
  const until = Date.now() + ms;
  while (!fs.existsSync(p)) {
    if (Date.now() > until) throw new Error(`${p} did not appear in ${ms} ms`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

test('a real container\'s name from the Podman API; unknown ids, absent and silent runtimes give no name', options(), async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'socktop-names-'));
  const sock = path.join(dir, 'podman.sock');
  const rootfs = path.join(dir, 'rootfs');
  fs.mkdirSync(path.join(rootfs, 'bin'), { recursive: true });
  const name = `socktop-names-${process.pid}`;
  let service: ChildProcess | undefined;
  let silent: net.Server | undefined;
  try {
    service = spawn('podman', ['system', 'service', '--time=0', `unix://${sock}`], { stdio: 'ignore' });
    await waitFor(sock, 20000);
    // A container needs no image here: --rootfs, with nothing in it, is enough to be created.
    const id = execFileSync('podman', ['create', '--name', name, '--rootfs', rootfs, '/bin/true'], { encoding: 'utf8' }).trim();
    assert.match(id, /^[0-9a-f]{64}$/);

    const names = new ContainerNames({ inspect: socketInspector([path.join(dir, 'absent.sock'), sock], 5000) });
    assert.equal(names.nameOf(id), undefined, 'unknown until the runtime answered');
    await names.settle();
    assert.equal(names.nameOf(id), name);
    const short = id.slice(0, 12);
    names.nameOf(short);
    await names.settle();
    assert.equal(names.nameOf(short), name, 'a short id, as cgroup paths of some drivers hold');
    const unknown = 'ab'.repeat(32);
    names.nameOf(unknown);
    await names.settle();
    assert.equal(names.nameOf(unknown), undefined, 'an id the runtime does not know');
    assert.equal(names.nameOf('../../etc'), undefined, 'nothing but a hex id goes into a request');

    // A runtime socket that accepts and never answers: no name, within the timeout, no error.
    const silentSock = path.join(dir, 'silent.sock');
    silent = net.createServer(() => { /* never answer */ }).listen(silentSock);
    await waitFor(silentSock, 2000);
    const patient = new ContainerNames({ inspect: socketInspector([silentSock], 300) });
    const t0 = Date.now();
    patient.nameOf(id);
    await patient.settle();
    assert.equal(patient.nameOf(id), undefined);
    assert.ok(Date.now() - t0 < 3000, 'gave up at its timeout');
  } finally {
    silent?.close();
    spawnSync('podman', ['rm', '-f', name], { stdio: 'ignore' });
    service?.kill('SIGTERM');
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

/** A busybox root file system: all a container needs here (no image, no registry). */
function busyboxRootfs(dir: string): string {
  const rootfs = path.join(dir, 'rootfs');
  fs.mkdirSync(path.join(rootfs, 'bin'), { recursive: true });
  const busybox = spawnSync('dpkg', ['-L', 'busybox-static'], { encoding: 'utf8' }).stdout.split('\n').find((l) => l.endsWith('/bin/busybox'));
  assert.ok(busybox, 'busybox-static installed (scripts/setup.sh)');
  fs.copyFileSync(busybox, path.join(rootfs, 'bin', 'busybox'));
  fs.chmodSync(path.join(rootfs, 'bin', 'busybox'), 0o755);
  return rootfs;
}

/** Run socktop ARGS with DOCKER_HOST at the test's podman service; resolves with stdout. */
function socktopWhile(args: string[], env: NodeJS.ProcessEnv, during: () => Promise<void>): Promise<{ out: string; err: string; code: number | null }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, ...args], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...env } });
    let out = '';
    let err = '';
    child.stdout!.setEncoding('utf8').on('data', (d) => (out += d));
    child.stderr!.setEncoding('utf8').on('data', (d) => {
      err += d;
      if (/attached/.test(d)) during().then(() => child.kill('SIGINT'), (e) => { child.kill('SIGKILL'); reject(e); });
    });
    child.on('exit', (code) => resolve({ out, err, code }));
  });
}

test('a real podman container: its events carry its cgroup; -b names it from the runtime and --container NAME selects it', options(true), async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'socktop-ctr-'));
  const sock = path.join(dir, 'podman.sock');
  const rootfs = busyboxRootfs(dir);
  const name = `stc-${process.pid % 100000}`;
  let service: ChildProcess | undefined;
  let id = '';
  try {
    service = spawn('podman', ['system', 'service', '--time=0', `unix://${sock}`], { stdio: 'ignore' });
    await waitFor(sock, 20000);
    // runc, not crun: crun refuses hybrid cgroup v1+v2 hosts such as this one. No network: the
    // container has only its own lo. A server answers one connection, a client makes it, then the
    // container lives 3 s more so that its name is asked while it exists.
    const script = '/bin/busybox nc -l -p 8080 -e /bin/busybox echo hello & /bin/busybox sleep 0.3; '
      + '/bin/busybox nc 127.0.0.1 8080 </dev/null; /bin/busybox sleep 3';
    const runContainer = async (): Promise<void> => {
      const r = spawnSync('podman', ['--runtime', 'runc', 'run', '--name', name, '--network', 'none',
        '--ulimit', 'nofile=1024:1024', '--ulimit', 'nproc=1024:1024', '--rootfs', rootfs, '/bin/busybox', 'sh', '-c', script], { encoding: 'utf8', timeout: 60000 });
      assert.equal(r.status, 0, r.stderr);
      assert.equal(r.stdout.trim(), 'hello', 'the client got the server\'s answer');
      id = execFileSync('podman', ['inspect', '--format', '{{.Id}}', name], { encoding: 'utf8' }).trim();
      await new Promise((r2) => setTimeout(r2, 1500)); // the last frames after it ended
    };
    const env = { DOCKER_HOST: `unix://${sock}` };
    const batch = await socktopWhile(['-b', '-d', '1', '--container', name], env, runContainer);
    assert.equal(batch.code, 0, batch.err);
    const frames = batch.out.split(/^(?=\S.*\n\S.*\n\s+PID )/m);
    const last = frames[frames.length - 1];
    const rows = last.split('\n').filter((l) => /^\s*\d+ /.test(l));
    assert.ok(rows.length >= 2, `the container's server and client rows:\n${last}`);
    for (const r of rows) assert.match(r, new RegExp(` ${name} `), `every row shown is the container's, by name: ${r}`);
    assert.ok(rows.every((r) => / busybox /.test(r)), 'busybox processes');

    // --json: the container's connection, each end's events carrying the container's cgroup id
    // (the BPF record's, from the socket) and netns; the container fields name it wherever its
    // cgroup's path was known when the line was written (a cgroup younger than the last walk of
    // the cgroup tree, at most a second old, has none yet: cgroup_id is always there).
    const json = await socktopWhile(['--json'], env, async () => {
      spawnSync('podman', ['rm', '-f', name], { stdio: 'ignore' });
      await runContainer();
    });
    const all = parseJsonLines(json.out).filter((e) => e.kind);
    const named = all.filter((e) => e.container_id === id);
    assert.ok(named.length > 0, 'the container named in JSON');
    const cgroups = new Set(named.map((e) => e.cgroup_id));
    assert.equal(cgroups.size, 1, 'one cgroup: the container\'s');
    const [cgroup] = [...cgroups];
    const mine = all.filter((e) => e.cgroup_id === cgroup);
    assert.ok(mine.every((e) => e.container_id === undefined || e.container_id === id), 'named, it is named right');
    const at8080 = (k: string) => mine.filter((e) => e.kind === k && (e.rport === 8080 || e.lport === 8080));
    assert.equal(at8080('connect').length, 1, JSON.stringify(mine.map((e) => [e.kind, e.lport, e.rport])));
    assert.equal(at8080('accept').length, 1);
    assert.equal(at8080('listen').length, 1);
    // (inet sockets: the runtime's own unix sockets in that cgroup were made before it entered the
    // container's namespace)
    const inet = mine.filter((e) => e.family === 'inet' || e.family === 'inet6');
    assert.equal(new Set(inet.map((e) => e.netns)).size, 1, 'its TCP sockets in one netns: the container\'s');
    assert.equal(all.filter((e) => e.kind === 'connect' && e.rport === 8080 && e.cgroup_id !== cgroup).length, 0,
      'the container\'s connect is not attributed elsewhere');
  } finally {
    spawnSync('podman', ['rm', '-f', name], { stdio: 'ignore' });
    service?.kill('SIGTERM');
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
