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
import { ContainerNames } from '../../src/capture/container-names';

function podmanMissing(): string | null {
  if (process.getuid?.() !== 0) return 'not root';
  return spawnSync('podman', ['--version']).status === 0 ? null : 'podman not installed (scripts/setup.sh installs it)';
}

function options(): { skip?: string } {
  const why = podmanMissing();
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

    const names = new ContainerNames({ sockets: [path.join(dir, 'absent.sock'), sock], timeoutMs: 5000 });
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
    const patient = new ContainerNames({ sockets: [silentSock], timeoutMs: 300 });
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
