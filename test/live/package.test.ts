/**
 * The npm package as users get it: `npm pack` the checkout, install the tarball into an empty
 * directory with a PATH that holds node and npm only (no cc, clang, g++, make, python: so nothing
 * can be compiled), then run the installed `socktop`: `check`, a live `--json` capture with exact
 * counts against a real server and client (test/live/fixtures/traffic.ts), `replay` of the shipped
 * sample, `--version`. The capture must use the package's prebuilt addon and its bundled libbpf
 * (read from the socktop process's /proc/PID/maps). Runs on whichever Node runs the test: CI runs it
 * on Node 24, and .ci/run's smoke runs on 20 and 22.
 *
 * Prints the tarball's size and file list. Needs a full build first (`npm run build`): the pack
 * runs with --ignore-scripts so as not to build again.
 */
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { ChildProcess, execFileSync, spawn } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { PACKAGE_ROOT } from '../../src/capture/addon';
import { liveTestOptions } from './bpf-available';
import { closedPort, CLI, parseJsonLines, runNode } from './socktop-run';
import type { Traffic } from './traffic-report';

const N = 4;
const M = 2500;
const TRAFFIC = path.join(__dirname, 'fixtures/traffic.js');
const PREBUILD = path.join(PACKAGE_ROOT, 'native/prebuilds/linux-x64/socktop.napi.glibc.node');
const COMPILERS = ['cc', 'gcc', 'clang', 'g++', 'c++', 'make', 'python', 'python3'];

interface PackResult {
  filename: string;
  size: number;
  unpackedSize: number;
  entryCount: number;
  files: Array<{ path: string; size: number }>;
}

/** Where `name` is on PATH, or null. */
function which(name: string, searchPath = process.env.PATH ?? ''): string | null {
  for (const dir of searchPath.split(':').filter(Boolean)) {
    const file = path.join(dir, name);
    try {
      fs.accessSync(file, fs.constants.X_OK);
      return file;
    } catch { /* next */ }
  }
  return null;
}

/** The npm CLI script (the one running this test, or the one on PATH). */
function npmCli(): string {
  const fromNpm = process.env.npm_execpath;
  if (fromNpm && /npm-cli\.js$/.test(fromNpm)) return fromNpm;
  const onPath = which('npm');
  assert.ok(onPath, 'npm not found on PATH');
  return fs.realpathSync(onPath);
}

/** The global npmrc of the npm CLI in use: <prefix>/etc/npmrc, prefix being above lib/node_modules/npm. */
function npmGlobalConfig(): string {
  return process.env.npm_config_globalconfig ?? path.resolve(npmCli(), '../../../../../etc/npmrc');
}

/** A directory for PATH holding only node (the one running this test) and npm. */
function toolDir(root: string): string {
  const bin = path.join(root, 'bin');
  fs.mkdirSync(bin);
  fs.symlinkSync(process.execPath, path.join(bin, 'node'));
  fs.symlinkSync(npmCli(), path.join(bin, 'npm'));
  for (const tool of COMPILERS) assert.equal(which(tool, bin), null, `${tool} is on the package test's PATH`);
  return bin;
}

function pack(dest: string): PackResult {
  const out = execFileSync(process.execPath, [npmCli(), 'pack', '--ignore-scripts', '--json', '--pack-destination', dest],
    { cwd: PACKAGE_ROOT, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  return (JSON.parse(out) as PackResult[])[0];
}

function printPack(p: PackResult): void {
  const js = p.files.filter((f) => f.path.startsWith('dist/src/'));
  const lines = [
    `package: ${p.filename}: ${p.size} bytes packed, ${p.unpackedSize} unpacked, ${p.entryCount} files`,
    `  dist/src/**/*.js: ${js.length} files, ${js.reduce((n, f) => n + f.size, 0)} bytes`,
    ...p.files.filter((f) => !f.path.startsWith('dist/src/')).map((f) => `  ${f.path} ${f.size}`),
  ];
  console.log(lines.join('\n'));
}

function assertContents(p: PackResult): void {
  const paths = new Set(p.files.map((f) => f.path));
  for (const need of ['package.json', 'README.md', 'LICENSE', 'dist/src/cli/main.js', 'dist/src/capture/worker.js',
    'bpf/socktop.bpf.o', 'samples/demo.socktop', 'native/prebuilds/linux-x64/socktop.napi.glibc.node',
    'native/prebuilds/linux-x64/libbpf.so.1', 'native/binding.gyp']) {
    assert.ok(paths.has(need), `the tarball lacks ${need}`);
  }
  const unwanted = [...paths].filter((f) => /^(dist\/(test|bench)|test|bench|src|scripts|\.ci)\/|\.map$|\.tgz$|node_modules/.test(f)
    || (f.endsWith('.ts') && !f.endsWith('.d.ts')));
  assert.deepEqual(unwanted, [], 'files users do not need');
}

interface Installed {
  bin: string;       // node_modules/.bin/socktop
  pkg: string;       // node_modules/socktop
  env: NodeJS.ProcessEnv;
  installLog: string;
}

function install(root: string, tarball: string): Installed {
  const app = path.join(root, 'app');
  fs.mkdirSync(app);
  fs.writeFileSync(path.join(app, 'package.json'), '{ "private": true }\n');
  const env: NodeJS.ProcessEnv = {
    PATH: toolDir(root),
    HOME: path.join(root, 'home'),
    // The registry as this machine's npm reaches it: its global npmrc (which may name a CA file) is
    // found from the Node binary's prefix, and the Node under test can live anywhere; the user's.
    npm_config_globalconfig: npmGlobalConfig(),
    npm_config_userconfig: process.env.npm_config_userconfig ?? path.join(os.homedir(), '.npmrc'),
    npm_config_cache: process.env.npm_config_cache ?? path.join(os.homedir(), '.npm'),
    npm_config_update_notifier: 'false',
    npm_config_audit: 'false',
    npm_config_fund: 'false',
  };
  const installLog = execFileSync('npm', ['install', '--foreground-scripts', '--loglevel=info', tarball],
    { cwd: app, env, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: 180000 });
  return { bin: path.join(app, 'node_modules/.bin/socktop'), pkg: path.join(app, 'node_modules/socktop'), env, installLog };
}

function run(inst: Installed, args: string[]): string {
  return execFileSync(inst.bin, args, { env: inst.env, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: 60000 });
}

/** Start the installed socktop with args; resolve when it says it attached. */
function startInstalled(inst: Installed, args: string[]): Promise<{ child: ChildProcess; out: () => string; err: () => string }> {
  const child = spawn(inst.bin, args, { env: inst.env, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout!.setEncoding('utf8').on('data', (d) => (out += d));
  child.stderr!.setEncoding('utf8').on('data', (d) => (err += d));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => { child.kill('SIGKILL'); reject(new Error(`no attach in 20 s: ${err}`)); }, 20000);
    child.stderr!.on('data', () => {
      if (/attached/.test(err)) { clearTimeout(timer); resolve({ child, out: () => out, err: () => err }); }
    });
    child.on('exit', (code) => { clearTimeout(timer); reject(new Error(`socktop exited (${code}) before attaching: ${err.trim()}`)); });
  });
}

function stop(child: ChildProcess): Promise<number | null> {
  return new Promise((resolve) => {
    if (child.exitCode !== null) return resolve(child.exitCode);
    child.on('exit', (code) => resolve(code));
    child.kill('SIGINT');
  });
}

/** Shared objects the process has mapped (from /proc/PID/maps). */
function mappedFiles(pid: number): string[] {
  const maps = fs.readFileSync(`/proc/${pid}/maps`, 'utf8');
  return [...new Set(maps.split('\n').map((l) => l.split(/\s+/)[5]).filter((f) => f?.startsWith('/')))];
}


/**
 * What the installed prebuilt addon needs at run time, as ldd resolves it: the README's list
 * ("Install"). libbpf must come from the package itself.
 */
function assertRuntimeLibraries(inst: Installed): void {
  const prebuilt = path.join(inst.pkg, 'native/prebuilds/linux-x64');
  const out = execFileSync('ldd', [path.join(prebuilt, 'socktop.napi.glibc.node')], { encoding: 'utf8' });
  console.log(`ldd of the installed prebuilt addon:\n${out.trimEnd()}`);
  const libs = new Map(out.split('\n').map((l) => /^\s*(\S+) => (\S+)/.exec(l)).filter((m) => m !== null)
    .map((m) => [m[1], m[2]]));
  assert.deepEqual([...libs.keys()].sort(),
    ['libbpf.so.1', 'libc.so.6', 'libelf.so.1', 'libgcc_s.so.1', 'libm.so.6', 'libstdc++.so.6', 'libz.so.1']);
  assert.equal(libs.get('libbpf.so.1'), path.join(prebuilt, 'libbpf.so.1'));
}

async function liveCapture(inst: Installed): Promise<void> {
  // inet only: node's stdio pipes are unix sockets, seen too (with bytes), and not this test's traffic
  const socktop = await startInstalled(inst, ['--json', '--family', 'inet']);
  let traffic: Traffic;
  let maps: string[];
  try {
    maps = mappedFiles(socktop.child.pid!);
    traffic = <Traffic>JSON.parse((await runNode(TRAFFIC, ['server', String(N), String(M), String(await closedPort())])).trim());
    await new Promise((r) => setTimeout(r, 500)); // the reader polls on a short timeout
  } finally {
    assert.equal(await stop(socktop.child), 0, socktop.err());
  }
  const prebuilt = path.join(inst.pkg, 'native/prebuilds/linux-x64');
  assert.ok(maps.includes(path.join(prebuilt, 'socktop.napi.glibc.node')), `the prebuilt addon is not loaded: ${maps.join(' ')}`);
  assert.ok(maps.includes(path.join(prebuilt, 'libbpf.so.1')), 'the bundled libbpf is not loaded');

  const events = parseJsonLines(socktop.out());
  const { serverPid, clientPid, port4, port6 } = traffic;
  const of = (pid: number, kind: string) => events.filter((e) => e.pid === pid && e.kind === kind);
  assert.equal(traffic.accepted, 2 * N);
  assert.deepEqual(of(serverPid, 'listen').map((e) => `${e.laddr}:${e.lport}`).sort(),
    [`127.0.0.1:${port4}`, `::1:${port6}`].sort());
  const accepts = of(serverPid, 'accept');
  assert.equal(accepts.length, 2 * N);
  assert.ok(accepts.every((e) => e.comm === 'st-server'));
  const connects = of(clientPid, 'connect');
  assert.ok(connects.every((e) => e.comm === 'st-client'));
  assert.equal(connects.filter((e) => e.error === null).length, 2 * N);
  assert.deepEqual(connects.filter((e) => e.error !== null).map((e) => [e.error, e.rport]), [['ECONNREFUSED', traffic.closedPort]]);
  for (const pid of [serverPid, clientPid]) {
    const closes = of(pid, 'close').filter((e) => e.bytes_sent > 0);
    assert.equal(closes.length, 2 * N);
    assert.ok(closes.every((c) => c.bytes_sent === M && c.bytes_received === M));
    assert.equal(of(pid, 'exit').length, 1);
  }
}

test('the npm package installs without a compiler and runs check, a live capture and replay', liveTestOptions(), async () => {
  assert.ok(fs.existsSync(PREBUILD), `no prebuilt addon staged (${PREBUILD}): run npm run build`);
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'socktop-package-'));
  // socktop gives up root after attaching: the installed files must stay readable by nobody.
  fs.chmodSync(root, 0o755);
  try {
    const packed = pack(root);
    printPack(packed);
    assertContents(packed);

    const inst = install(root, path.join(root, packed.filename));
    assert.doesNotMatch(inst.installLog, /gyp|node-gyp-build|prebuild-install/, 'the install ran a build step');

    const version = JSON.parse(fs.readFileSync(path.join(PACKAGE_ROOT, 'package.json'), 'utf8')).version;
    assert.equal(run(inst, ['--version']).trim(), version);
    assert.match(run(inst, ['check']), /socktop can run here\./);
    assertRuntimeLibraries(inst);

    await liveCapture(inst);

    const sample = path.join(inst.pkg, 'samples/demo.socktop');
    const replayed = run(inst, ['replay', sample, '--json']);
    const fromCheckout = execFileSync(process.execPath, [CLI, 'replay', path.join(PACKAGE_ROOT, 'samples/demo.socktop'), '--json'], { encoding: 'utf8' });
    assert.ok(parseJsonLines(replayed).length > 700, 'the sample replays its events');
    assert.equal(replayed, fromCheckout);
  } finally {
    fs.rmSync(root, { recursive: true, force: true });
  }
});
