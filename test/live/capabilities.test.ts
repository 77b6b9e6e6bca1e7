/**
 * The capability sets README "Requirements" documents, proved on the real CLI (setpriv):
 *   - as user nobody with exactly the minimal set as ambient capabilities, each backend captures a
 *     real connection with the right pids and comms, then holds no capability in any thread;
 *   - as uid 0 holding only the minimal set (bounding set cut down), each backend captures too,
 *     stays uid 0 (no CAP_SETUID) without a capability, and says nothing about privileges;
 *   - one capability short, it fails with one line naming that capability (never a false "cannot
 *     mount tracefs", never "needs root or CAP_BPF+CAP_PERFMON" when those are there), and so does
 *     the native layer on its own;
 *   - the start snapshot without CAP_SYS_PTRACE says, on the status line, that it hides sockets;
 *     with it, it shows them with their owner;
 *   - `socktop check` under a reduced set lists what each backend has and lacks.
 * Root only (it switches to nobody); skips when BPF is unavailable unless SOCKTOP_REQUIRE_BPF=1.
 */
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { ChildProcess, execFile, spawn, spawnSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { liveTestOptions } from './bpf-available';
import { CLI, parseJsonLines } from './socktop-run';

const opts = { ...liveTestOptions(), timeout: 60000 };
const FIXTURES = path.resolve(__dirname, '../../../test/live/fixtures');
const OPEN_BACKEND = path.join(__dirname, 'capture-scripts/open-capture.js');

/** The minimal sets, as README "Requirements" gives them (setpriv's names). */
const REQUIRED = { cgroup: ['bpf', 'perfmon', 'net_admin'], tracepoint: ['bpf', 'perfmon'] } as const;
/** What a non-root user needs beyond that: tracefs (0700) for the classic tracepoints' ids; the
 *  cgroup backend's tracepoint programs are tp_btf ones and read no tracefs. */
const NON_ROOT_EXTRA: Record<Backend, readonly string[]> = { cgroup: [], tracepoint: ['dac_read_search'] };

type Backend = keyof typeof REQUIRED;

function capList(caps: readonly string[]): string {
  return ['-all', ...caps.map((c) => `+${c}`)].join(',');
}

/** setpriv arguments: user nobody holding `caps` as ambient capabilities (inherited across exec). */
function asNobody(caps: readonly string[]): string[] {
  return ['--reuid=65534', '--regid=65534', '--clear-groups', `--inh-caps=${capList(caps)}`, `--ambient-caps=${capList(caps)}`, '--'];
}

/** setpriv arguments: uid 0 whose bounding set (hence all it can hold) is `caps`. */
function asRootWith(caps: readonly string[]): string[] {
  return [`--bounding-set=${capList(caps)}`, `--inh-caps=${capList(caps)}`, '--'];
}

/** The environment of the child: no SOCKTOP_KEEP_PRIVILEGES, no sudo user. */
function childEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, NO_COLOR: '1' };
  for (const k of ['SOCKTOP_KEEP_PRIVILEGES', 'SUDO_UID', 'SUDO_GID', 'SUDO_USER']) delete env[k];
  return env;
}

const PRIVILEGE_MISREPORT = /needs root or CAP_BPF\+CAP_PERFMON \(|cannot mount tracefs|capturing needs root/;

interface ThreadState {
  uid: string;
  caps: string[]; // CapInh CapPrm CapEff CapAmb of each thread, as printed
}

interface CaptureRun {
  code: number | null;
  stderr: string;
  events: Array<Record<string, any>>;
  attachedLine: string;
  threads: ThreadState[];
}

function threadStates(pid: number): ThreadState[] {
  const out: ThreadState[] = [];
  for (const tid of fs.readdirSync(`/proc/${pid}/task`)) {
    let text: string;
    try {
      text = fs.readFileSync(`/proc/${pid}/task/${tid}/status`, 'utf8');
    } catch {
      continue; // the thread ended
    }
    const field = (k: string): string => new RegExp(`^${k}:\\s*(.*)$`, 'm').exec(text)?.[1].trim() ?? '';
    out.push({ uid: field('Uid'), caps: ['CapInh', 'CapPrm', 'CapEff', 'CapAmb'].map(field) });
  }
  return out;
}

/** Run `socktop --json args` under setpriv, make traffic once it is attached, stop it with SIGINT. */
async function captureUnder(setpriv: string[], args: string[], during: () => Promise<void>): Promise<CaptureRun> {
  const child = spawn('setpriv', [...setpriv, process.execPath, CLI, '--json', ...args], {
    stdio: ['ignore', 'pipe', 'pipe'], env: childEnv(),
  });
  let out = '';
  let err = '';
  child.stdout!.setEncoding('utf8').on('data', (d: string) => (out += d));
  child.stderr!.setEncoding('utf8').on('data', (d: string) => (err += d));
  const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
  const attached = await Promise.race([
    waitUntil(() => /attached/.test(err), 20000).then(() => true),
    exited.then(() => false),
  ]);
  if (!attached) return { code: await exited, stderr: err, events: [], attachedLine: '', threads: [] };
  await new Promise((r) => setTimeout(r, 300)); // the privilege drop follows the attached line at once
  const threads = threadStates(child.pid!);
  try {
    await during();
    await new Promise((r) => setTimeout(r, 1000));
  } finally {
    child.kill('SIGINT');
  }
  const code = await exited;
  return { code, stderr: err, events: parseJsonLines(out), attachedLine: err.split('\n').find((l) => /attached/.test(l)) ?? '', threads };
}

async function waitUntil(cond: () => boolean, ms: number): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 50));
  }
}

interface Traffic {
  server: { pid: number; comm: string };
  client: { pid: number; comm: string };
  port: number;
}

function traffic(): Promise<Traffic> {
  return new Promise((resolve, reject) => {
    execFile('python3', [path.join(FIXTURES, 'cap-traffic.py')], { timeout: 10000 }, (e, stdout, stderr) =>
      (e ? reject(new Error(stderr || e.message)) : resolve(JSON.parse(stdout.trim()))));
  });
}

/** The connection's listen, connect and accept, each from the right process with its comm. */
function assertCaptured(run: CaptureRun, t: Traffic, backend: Backend): void {
  const live = run.events.filter((e) => !e.snapshot);
  const listen = live.find((e) => e.kind === 'listen' && e.lport === t.port);
  const connect = live.find((e) => e.kind === 'connect' && e.rport === t.port && e.error === null);
  const accept = live.find((e) => e.kind === 'accept' && e.lport === t.port);
  assert.ok(listen && connect && accept, `listen, connect and accept of port ${t.port} on ${backend}: ${run.stderr}`);
  assert.deepEqual([listen.pid, listen.comm], [t.server.pid, t.server.comm], 'the listen is the server\'s');
  assert.deepEqual([connect.pid, connect.comm], [t.client.pid, t.client.comm], 'the connect is the client\'s');
  assert.deepEqual([accept.pid, accept.comm], [t.server.pid, t.server.comm], 'the accept is the server\'s');
  assert.ok(live.every((e) => e.backend === undefined || e.backend === backend), `all from the ${backend} backend`);
}

/** After the drop: every thread holds no capability in any set. */
function assertNoCapabilities(run: CaptureRun, uid: string): void {
  assert.ok(run.threads.length > 1, 'threads were read');
  for (const th of run.threads) {
    assert.match(th.uid, new RegExp(`^${uid}\\s+${uid}\\s+${uid}\\s+${uid}$`));
    assert.deepEqual(th.caps.map((c) => BigInt(`0x${c}`)), [0n, 0n, 0n, 0n], `a thread still holds ${th.caps.join(' ')}`);
  }
}

/** A root-owned listener that exists before socktop starts (for the snapshot). */
async function preexistingListener(): Promise<{ child: ChildProcess; pid: number; port: number; comm: string }> {
  const child = spawn('python3', [path.join(FIXTURES, 'cap-traffic.py'), 'listen-only'], { stdio: ['pipe', 'pipe', 'inherit'] });
  const line = await new Promise<string>((resolve, reject) => {
    child.stdout!.once('data', (d) => resolve(String(d)));
    child.once('exit', (code) => reject(new Error(`listener exited ${code}`)));
  });
  return { child, ...JSON.parse(line) };
}

for (const backend of ['cgroup', 'tracepoint'] as const) {
  test(`${backend}: as nobody with exactly ${[...REQUIRED[backend], ...NON_ROOT_EXTRA[backend]].join('+')}, a connection is captured; no capability is left`, opts, async () => {
    const listener = await preexistingListener();
    let t: Traffic | undefined;
    let run: CaptureRun;
    try {
      run = await captureUnder(asNobody([...REQUIRED[backend], ...NON_ROOT_EXTRA[backend]]), ['--probe', backend], async () => { t = await traffic(); });
    } finally {
      listener.child.stdin!.end();
    }
    assert.equal(run.code, 0, run.stderr);
    assert.doesNotMatch(run.stderr, PRIVILEGE_MISREPORT);
    assertCaptured(run, t!, backend);
    assertNoCapabilities(run, '65534');
    // root's listener predates socktop: without CAP_SYS_PTRACE its owner cannot be read, and the
    // status line says so instead of silently leaving it out.
    assert.match(run.attachedLine, /; snapshot: \d+ sockets? hidden \(no CAP_SYS_PTRACE(\+CAP_DAC_READ_SEARCH)?\)$/);
    assert.equal(run.events.filter((e) => e.snapshot && e.lport === listener.port).length, 0);
  });

  test(`${backend}: as uid 0 holding only ${REQUIRED[backend].join('+')}, a connection is captured; it stays uid 0 with no capability`, opts, async () => {
    let t: Traffic | undefined;
    const run = await captureUnder(asRootWith(REQUIRED[backend]), ['--probe', backend], async () => { t = await traffic(); });
    assert.equal(run.code, 0, run.stderr);
    assert.doesNotMatch(run.stderr, PRIVILEGE_MISREPORT);
    assert.doesNotMatch(run.stderr, /setgroups|setuid|setgid|EPERM/);
    assertCaptured(run, t!, backend);
    assertNoCapabilities(run, '0');
  });
}

test('with CAP_SYS_PTRACE+CAP_DAC_READ_SEARCH the snapshot shows other users\' sockets with their owner, and no note', opts, async () => {
  const listener = await preexistingListener();
  let run: CaptureRun;
  try {
    run = await captureUnder(asNobody([...REQUIRED.cgroup, 'dac_read_search', 'sys_ptrace']), ['--probe', 'cgroup'], async () => {});
  } finally {
    listener.child.stdin!.end();
  }
  assert.equal(run.code, 0, run.stderr);
  assert.doesNotMatch(run.attachedLine, /hidden/);
  const snap = run.events.find((e) => e.snapshot && e.kind === 'listen' && e.lport === listener.port);
  assert.ok(snap, 'root\'s listener is in the snapshot');
  assert.deepEqual([snap.pid, snap.comm], [listener.pid, listener.comm]);
});

/** One capability short: exit 1, one line naming what is missing. */
function refused(setpriv: string[], args: string[]): string {
  const r = spawnSync('setpriv', [...setpriv, process.execPath, CLI, '--json', ...args], { encoding: 'utf8', timeout: 20000, env: childEnv() });
  assert.equal(r.status, 1, `${r.stderr}${r.stdout}`);
  assert.equal(r.stdout, '');
  assert.match(r.stderr, /^socktop: [^\n]+\n$/, 'one line');
  assert.doesNotMatch(r.stderr, PRIVILEGE_MISREPORT);
  return r.stderr;
}

test('one capability short, the CLI names exactly what is missing, before any BPF call', opts, () => {
  const cgroupNoNetAdmin = refused(asNobody(['bpf', 'perfmon']), ['--probe', 'cgroup']);
  assert.match(cgroupNoNetAdmin, /cgroup backend needs root or CAP_BPF\+CAP_PERFMON\+CAP_NET_ADMIN; missing: CAP_NET_ADMIN \(cgroup socket programs\) \(/);

  const tracefsUnreadable = refused(asNobody(['bpf', 'perfmon']), ['--probe', 'tracepoint']);
  assert.match(tracefsUnreadable, /missing: CAP_DAC_READ_SEARCH \(reading tracepoint ids in tracefs: \/\S+ is mode 0?7[0-7]0, owner root\)/);

  const noPerfmon = refused(asNobody(['bpf', 'dac_read_search']), ['--probe', 'tracepoint']);
  assert.match(noPerfmon, /missing: CAP_PERFMON \(/);

  const rootNoNetAdmin = refused(asRootWith(['bpf', 'perfmon']), []);
  assert.match(rootNoNetAdmin, /cgroup backend needs root or CAP_BPF\+CAP_PERFMON\+CAP_NET_ADMIN; missing: CAP_NET_ADMIN .*--probe tracepoint would run/);
});

function openBackend(setpriv: string[], backend: Backend): { code?: string; message?: string; ok?: boolean } {
  const r = spawnSync('setpriv', [...setpriv, process.execPath, OPEN_BACKEND, backend], { encoding: 'utf8', timeout: 20000, env: childEnv() });
  return JSON.parse(r.stdout.trim());
}

test('the native layer names the capability too: tracefs mounted but unreadable is not "cannot mount"', opts, () => {
  const tracefs = openBackend(asNobody(['bpf', 'perfmon']), 'tracepoint');
  assert.equal(tracefs.code, 'EPERM');
  assert.match(tracefs.message!, /^cannot read tracefs \(\/\S+ is mode \d+, owner root\): needs CAP_DAC_READ_SEARCH \(or CAP_DAC_OVERRIDE\), or root$/);
  const cgroup = openBackend(asNobody(['bpf', 'perfmon']), 'cgroup');
  assert.equal(cgroup.code, 'EPERM');
  assert.match(cgroup.message!, /^the cgroup backend needs CAP_NET_ADMIN as well/);
  assert.deepEqual(openBackend(asNobody(['bpf', 'perfmon', 'dac_read_search']), 'tracepoint'), { ok: true });
});

function check(setpriv: string[], args: string[] = []): { status: number | null; stdout: string } {
  const r = spawnSync('setpriv', [...setpriv, process.execPath, CLI, 'check', ...args], { encoding: 'utf8', timeout: 20000, env: childEnv() });
  return { status: r.status, stdout: r.stdout };
}

test('check under a reduced set lists, per backend, what is present and what is missing', opts, () => {
  const nobody = check(asNobody(['bpf', 'perfmon']));
  assert.equal(nobody.status, 1, nobody.stdout);
  assert.match(nobody.stdout, /^\s+capabilities\s+uid 65534; effective: CAP_PERFMON CAP_BPF$/m);
  assert.match(nobody.stdout, /^\s+cgroup backend needs CAP_BPF\+CAP_PERFMON\+CAP_NET_ADMIN: missing CAP_NET_ADMIN$/m);
  assert.match(nobody.stdout, /^\s+tracepoint backend needs CAP_BPF\+CAP_PERFMON\+CAP_DAC_READ_SEARCH: missing CAP_DAC_READ_SEARCH$/m);
  assert.match(nobody.stdout, /^\s+CAP_BPF\s+yes: /m);
  assert.match(nobody.stdout, /^\s+CAP_NET_ADMIN\s+MISSING: cgroup socket programs$/m);
  assert.match(nobody.stdout, /^\s+CAP_DAC_READ_SEARCH\s+MISSING: reading tracepoint ids in tracefs: /m);
  assert.match(nobody.stdout, /^\s+CAP_SYS_PTRACE\+CAP_DAC_READ_SEARCH\s+missing: without them, the sockets that existed at start are not shown for other users' processes/m);
  assert.match(nobody.stdout, /^\s+CAP_SYS_ADMIN\s+missing: without it, no bpf cost in the header/m);
  assert.match(nobody.stdout, /^\s+privileges\s+no: needs root or CAP_BPF\+CAP_PERFMON\+CAP_NET_ADMIN for the cgroup backend; missing CAP_NET_ADMIN$/m);
  assert.doesNotMatch(nobody.stdout, /tracefs\s+not mounted/);

  const minimal = check(asNobody([...REQUIRED.cgroup, ...NON_ROOT_EXTRA.cgroup]));
  assert.equal(minimal.status, 0, minimal.stdout);
  assert.match(minimal.stdout, /^\s+cgroup backend needs [A-Z_+]+: has them all$/m);
  assert.match(minimal.stdout, /^socktop can run here\.$/m);

  const root = check(asRootWith(['bpf', 'perfmon']));
  assert.equal(root.status, 1, root.stdout);
  assert.match(root.stdout, /^\s+cgroup backend needs CAP_BPF\+CAP_PERFMON\+CAP_NET_ADMIN: missing CAP_NET_ADMIN$/m);
  assert.match(root.stdout, /^\s+tracepoint backend needs CAP_BPF\+CAP_PERFMON: has them all$/m);
  assert.match(root.stdout, /^\s+CAP_SETUID\+CAP_SETGID\s+missing: without them, socktop stays uid 0/m);
  assert.equal(check(asRootWith(['bpf', 'perfmon']), ['--probe', 'tracepoint']).status, 0);
});
