import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { PassThrough } from 'node:stream';
import { parseCli } from '../../src/cli/index';
import { describeError, NEEDS_PRIVILEGES, reportError, SocktopError, UsageError, usageLine } from '../../src/cli/errors';
import { assertTerminal } from '../../src/cli/run/tui';
import { runCheck } from '../../src/cli/run/check';
import { findTracefsMount, KernelSupport, TRACEPOINTS } from '../../src/capture/kernel';

const MAIN = path.resolve(__dirname, '../../src/cli/main.js');

async function usageError(args: string[], re: RegExp): Promise<void> {
  await assert.rejects(parseCli(args), (e: unknown) => {
    assert.ok(e instanceof UsageError, `${args.join(' ')}: ${String(e)}`);
    assert.equal(e.exitCode, 2);
    assert.match(e.message, re);
    return true;
  });
}

test('defaults: the live TUI, 1 s delay, auto probe, no filters', async () => {
  const p = (await parseCli([]))!;
  assert.equal(p.command, 'top');
  assert.deepEqual(
    { ...p.options, pids: p.options.pids?.text ?? null },
    { pids: null, comm: null, container: null, netns: null, families: null, delaySec: 1, probe: 'auto', json: false, batch: false, iterations: undefined, record: undefined, verbose: false, force: false, alerts: [], view: 'processes', foldExitedSec: 5 },
  );
});

test('options: filters, delay, batch, iterations, record, probe', async () => {
  const p = (await parseCli(['-p', '1,100-200', '--comm', 'nginx', '-d', '0.5', '-b', '-n', '3', '--probe', 'tracepoint', '--record', 'x.rec']))!;
  assert.equal(p.command, 'top');
  assert.equal(p.options.pids!.text, '1,100-200');
  assert.equal(p.options.pids!.matches(150), true);
  assert.equal(p.options.comm, 'nginx');
  assert.equal(p.options.delaySec, 0.5);
  assert.equal(p.options.batch, true);
  assert.equal(p.options.iterations, 3);
  assert.equal(p.options.probe, 'tracepoint');
  assert.equal(p.options.record, 'x.rec');
  const twice = (await parseCli(['-p', '1', '--pid', '!2,3']))!;
  assert.equal(twice.options.pids!.text, '1,!2,3');
  assert.equal((await parseCli(['--json']))!.options.json, true);
});

test('options: --container and --netns', async () => {
  const p = (await parseCli(['-b', '--container', ' 3f4e5d ', '--netns', '4026532000']))!;
  assert.equal(p.options.container, '3f4e5d');
  assert.equal(p.options.netns, 4026532000);
  assert.equal((await parseCli(['--netns', 'net:[4026531840]']))!.options.netns, 4026531840);
  await assert.rejects(parseCli(['--netns', 'abc']), /--netns: 'abc' is not a network namespace inode/);
  await assert.rejects(parseCli(['--netns', '0']), /--netns/);
  await assert.rejects(parseCli(['--container', '']), /--container: empty name/);
});

test('commands: check, record, replay', async () => {
  assert.equal((await parseCli(['check']))!.command, 'check');
  const rec = (await parseCli(['record', '-w', 'out.rec', '--duration', '30s']))!;
  assert.equal(rec.command, 'record');
  assert.equal(rec.argv.write, 'out.rec');
  assert.equal(rec.argv.duration, '30s');
  assert.equal((await parseCli(['record', '-w', 'out.rec', '-q']))!.argv.quiet, true);
  const rep = (await parseCli(['replay', 'out.rec', '--speed', '2', '--paused', '-p', '5']))!;
  assert.equal(rep.command, 'replay');
  assert.equal(rep.argv.file, 'out.rec');
  assert.equal(rep.argv.speed, 2);
  assert.equal(rep.argv.paused, true);
  assert.equal(rep.options.pids!.text, '5');
});

test('bad usage is a UsageError (exit 2) naming the option', async () => {
  await usageError(['-p', '12x'], /-p\/--pid: bad PID '12x'/);
  await usageError(['-p', '300-200'], /backwards/);
  await usageError(['-p', '0'], /out of range/);
  await usageError(['-d', '0'], /-d\/--delay: '0' is not a delay/);
  await usageError(['-d', 'abc'], /-d\/--delay/);
  await usageError(['-n', '0', '-b'], /-n\/--iterations/);
  await usageError(['-n', '1.5', '-b'], /-n\/--iterations/);
  await usageError(['--json', '-b'], /cannot be used together/);
  await usageError(['--probe', 'fentry'], /probe/i);
  await usageError(['frobnicate'], /Unknown argument: frobnicate/);
  await usageError(['--bogus'], /Unknown argument/);
  await usageError(['record'], /write/);
  await usageError(['replay'], /Not enough non-option arguments/);
  await usageError(['replay', 'f.socktop', '--record', 'g'], /^--record: not an option of `socktop replay` \(`socktop replay --help` lists them\)$/);
  await usageError(['replay', 'f.socktop', '--probe', 'kprobe'], /^--probe: not an option of `socktop replay`/);
  await usageError(['replay', 'f.socktop', '--force'], /^--force: not an option of `socktop replay`/);
  await usageError(['record', '-w', 'f', '-b'], /^-b: not an option of `socktop record`/);
  await usageError(['record', '-w', 'f', '--json', '--record', 'g'], /^--json, --record: not an option of `socktop record`/);
  await usageError(['record', '-w', 'f', '-p', '1'], /^-p: not an option of `socktop record`/);
  await usageError(['check', '--json'], /^--json: not an option of `socktop check`/);
  await usageError(['check', '--bogus'], /^Unknown argument: bogus$/);
});

test('--help and --version print and run nothing', async () => {
  const log = console.log;
  const printed: string[] = [];
  console.log = (...a: unknown[]) => void printed.push(a.join(' '));
  try {
    assert.equal(await parseCli(['--help']), null);
    assert.equal(await parseCli(['--version']), null);
  } finally {
    console.log = log;
  }
  assert.match(printed.join('\n'), /socktop check/);
});

test('error messages: one line, privileges named, bugs flagged', () => {
  // The capture's EPERM names the missing capability itself; any other EPERM (a set*id call, a
  // file) is told as it is, never turned into a capture-privilege message.
  const capture = Object.assign(new Error('the cgroup backend needs CAP_NET_ADMIN as well\nmore'), { name: 'CaptureError', code: 'EPERM' });
  assert.deepEqual(describeError(capture), { message: 'the cgroup backend needs CAP_NET_ADMIN as well', exitCode: 1, expected: true });
  assert.deepEqual(describeError(Object.assign(new Error('EPERM, Operation not permitted'), { code: 'EPERM' })),
    { message: 'EPERM, Operation not permitted', exitCode: 1, expected: true });
  assert.match(NEEDS_PRIVILEGES, /root or CAP_BPF\+CAP_PERFMON/);
  const backend = Object.assign(new Error('kprobes are not available on this kernel'), { name: 'BackendError' });
  assert.deepEqual(describeError(backend), { message: 'kprobes are not available on this kernel', exitCode: 1, expected: true });
  assert.equal(describeError(Object.assign(new Error('no BTF'), { code: 'ENOBTF' })).expected, true);
  assert.equal(describeError(new UsageError('bad')).exitCode, 2);
  const bug = describeError(new TypeError('x is undefined'));
  assert.equal(bug.expected, false);
  assert.equal(bug.message, 'internal error: x is undefined');

  const lines: string[] = [];
  const sink = { write: (s: string) => lines.push(s) } as unknown as NodeJS.WritableStream;
  // A usage message is made one line whole (the second line is often the point: yargs' choices).
  assert.equal(reportError(new UsageError('bad thing\nsecond line'), false, sink), 2);
  assert.deepEqual(lines, ['socktop: bad thing second line\n']);
  lines.length = 0;
  assert.equal(reportError(new SocktopError('first\nstack-ish detail'), false, sink), 1);
  assert.deepEqual(lines, ['socktop: first\n']);
  lines.length = 0;
  reportError(new TypeError('oops'), false, sink);
  assert.match(lines[0], /^socktop: internal error: oops\nsocktop: run with --verbose for the stack trace\n$/);
  lines.length = 0;
  reportError(new TypeError('oops'), true, sink);
  assert.match(lines[0], /^socktop: internal error: oops\nTypeError: oops\n\s+at /);
});

function run(args: string[], opts: { user?: string } = {}) {
  const cmd = opts.user ? 'setpriv' : process.execPath;
  const argv = opts.user
    ? ['--reuid', opts.user, '--regid', opts.user === 'nobody' ? 'nogroup' : opts.user, '--clear-groups', '--inh-caps=-all', process.execPath, MAIN, ...args]
    : [MAIN, ...args];
  return spawnSync(cmd, argv, { encoding: 'utf8', timeout: 20000, env: { ...process.env, NO_COLOR: '1' } });
}

test('the program: bad usage exits 2 with one line on stderr', () => {
  const r = run(['-p', '12x']);
  assert.equal(r.status, 2);
  assert.equal(r.stdout, '');
  assert.equal(r.stderr, "socktop: -p/--pid: bad PID '12x' (use 123,456 or ranges 100-200; !123 excludes)\n");
});

test('the program: the TUI refuses a pipe before attaching anything', () => {
  const r = run([]);
  assert.equal(r.status, 2);
  assert.match(r.stderr, /^socktop: the TUI needs a terminal; for a pipe or a file use --json or -b/);
});

const canDropPrivileges = process.getuid?.() === 0 && fs.existsSync('/usr/bin/setpriv');

test('the program: without privileges, one line naming root or CAP_BPF+CAP_PERFMON, exit 1', { skip: !canDropPrivileges && 'needs root and setpriv' }, () => {
  for (const args of [['-b', '-n', '1'], ['--json']]) {
    const r = run(args, { user: 'nobody' });
    assert.equal(r.status, 1, r.stderr);
    // One line naming the backend's whole set and what is missing (here: all of it).
    assert.match(r.stderr, /^socktop: capturing with the \w+ backend needs root or CAP_BPF\+CAP_PERFMON\b[^\n]*; missing: CAP_BPF \([^\n]*\n$/);
  }
  const check = run(['check'], { user: 'nobody' });
  assert.equal(check.status, 1);
  assert.match(check.stdout, /privileges\s+no: needs root or CAP_BPF\+CAP_PERFMON/);
  assert.match(check.stdout, /socktop cannot run here: .*root or CAP_BPF\+CAP_PERFMON/);
});

test('errors that carry their own exit code keep it (a bad recording: 2)', () => {
  const rec = Object.assign(new Error('x.rec: not a socktop recording'), { name: 'RecordingError', code: 'EFOREIGN', exitCode: 2 });
  assert.deepEqual(describeError(rec), { message: 'x.rec: not a socktop recording', exitCode: 2, expected: true });
  const r = spawnSync(process.execPath, [MAIN, 'replay', '/nonexistent/file.rec'], { encoding: 'utf8', timeout: 20000 });
  assert.notEqual(r.status, 0);
  assert.match(r.stderr, /^socktop: [^\n]*\n$/);
});

test('--probe with a bad value: the value and the choices, on one line', async () => {
  await usageError(['--probe', 'foo'], /^--probe: 'foo' is not one of auto, cgroup, kprobe, tracepoint$/);
  await usageError(['check', '--probe', 'nope'], /^--probe: 'nope' is not one of auto, cgroup, kprobe, tracepoint$/);
  await usageError(['--probe', 'a', '--probe', 'b'], /^--probe: 'a', 'b' given; each must be one of auto, cgroup, kprobe, tracepoint$/);
  assert.equal(usageLine('Invalid values:\n  Argument: probe, Given: "foo", Choices: "auto", "kprobe"'), "--probe: 'foo' is not one of auto, kprobe");
  assert.equal(usageLine('Something:\n  else\n'), 'Something: else');
  const r = run(['--probe', 'foo']);
  assert.equal(r.status, 2);
  assert.equal(r.stderr, "socktop: --probe: 'foo' is not one of auto, cgroup, kprobe, tracepoint\n");
});

test('-p with no PID in it is a usage error, not "every process"', async () => {
  for (const p of ['', ',,,', ' , ']) {
    await usageError(['-p', p], /^-p\/--pid: empty PID list$/);
    await usageError(['-b', '--pid', p], /^-p\/--pid: empty PID list$/);
    await usageError(['replay', 'f.socktop', '-p', p], /^-p\/--pid: empty PID list$/);
  }
  assert.equal((await parseCli(['-p', '1,,2']))!.options.pids!.text, '1,2'); // stray commas in a real list are fine
  const r = run(['-p', '', '-b', '-n', '1']);
  assert.equal(r.status, 2);
  assert.equal(r.stderr, 'socktop: -p/--pid: empty PID list\n');
});

test('TERM=dumb: the TUI refuses with one line pointing to -b, before attaching anything', () => {
  const tty = { stdout: { isTTY: true }, stdin: { isTTY: true } };
  assert.throws(() => assertTerminal({ TERM: 'dumb' }, tty), (e: unknown) => {
    assert.ok(e instanceof UsageError);
    assert.equal(e.message, 'the TUI cannot draw on TERM=dumb; use -b (batch mode, text snapshots) or --json');
    return true;
  });
  assert.doesNotThrow(() => assertTerminal({ TERM: 'xterm-256color' }, tty));
  assert.doesNotThrow(() => assertTerminal({}, tty));
  assert.throws(() => assertTerminal({ TERM: 'xterm' }, { stdout: { isTTY: false }, stdin: { isTTY: true } }), /needs a terminal/);
});

test('TERM=dumb under a real terminal (script(1) gives a pty): exit 2, one line', { skip: !fs.existsSync('/usr/bin/script') && 'needs script(1)' }, () => {
  const cmd = `${JSON.stringify(process.execPath)} ${JSON.stringify(MAIN)} replay ${JSON.stringify(path.resolve(__dirname, '../../../samples/demo.socktop'))}`;
  const r = spawnSync('script', ['-qec', cmd, '/dev/null'], { encoding: 'utf8', timeout: 20000, env: { ...process.env, TERM: 'dumb' } });
  assert.equal(r.status, 2, r.stdout);
  assert.match(r.stdout, /socktop: the TUI cannot draw on TERM=dumb; use -b/);
  assert.doesNotMatch(r.stdout, /\x1b\[/, 'nothing drawn');
});

test('replay samples/demo.socktop --speed 0 -b -n 2 -d 0.2 prints two snapshots, then exits 0', () => {
  const sample = path.resolve(__dirname, '../../../samples/demo.socktop');
  const r = spawnSync(process.execPath, [MAIN, 'replay', sample, '--speed', '0', '-b', '-n', '2', '-d', '0.2'], { encoding: 'utf8', timeout: 20000 });
  assert.equal(r.status, 0, r.stderr);
  assert.equal(r.stdout.match(/^socktop - /gm)?.length, 2, r.stdout);
  assert.equal(r.stdout.match(/events 742 /g)?.length, 2, 'both show the whole recording');
});

test('findTracefsMount: a tracefs mount from mountinfo, readable or not', () => {
  const info = [
    '22 1 0:21 / /sys rw,nosuid,nodev,noexec,relatime shared:7 - sysfs sysfs rw',
    '44 22 0:13 / /sys/kernel/tracing rw,relatime shared:20 - tracefs tracefs rw',
    '45 22 0:7 / /sys/kernel/debug rw,relatime shared:21 - debugfs debugfs rw',
  ].join('\n');
  assert.equal(findTracefsMount(info), '/sys/kernel/tracing');
  assert.equal(findTracefsMount('50 1 0:13 / /mnt/my\\040trace rw - tracefs nodev rw\n'), '/mnt/my trace');
  assert.equal(findTracefsMount(info.split('\n').filter((l) => !l.includes('tracefs')).join('\n')), null);
  assert.equal(findTracefsMount(''), null);
});

test('socktop check: tracefs mounted but unreadable is not "not mounted"', async () => {
  const support = (tracefs: string | null, tracefsMount: string | null): KernelSupport => ({
    btf: true, cgroup: { hooks: true, mount: '/sys/fs/cgroup', kernel: [6, 8] }, kprobes: true, tracefs, tracefsMount,
    tracepoints: TRACEPOINTS.map((t) => ({ ...t, present: tracefs === null ? 'unknown' as const : true })),
    privileges: { capSysAdmin: false, capBpf: false, capPerfmon: false, sufficient: false },
  });
  const report = async (s: KernelSupport, probe: 'auto' | 'tracepoint' = 'auto') => {
    const out = new PassThrough();
    let text = '';
    out.on('data', (d) => (text += d));
    await runCheck(probe, out, { detect: () => s });
    return text;
  };
  const unreadable = await report(support(null, '/sys/kernel/tracing'));
  assert.match(unreadable, /tracefs\s+mounted at \/sys\/kernel\/tracing, but not readable by you \(root can read it\)/);
  assert.match(unreadable, /sock\/inet_sock_set_state\s+unknown \(tracefs not readable by you\)/);
  assert.doesNotMatch(unreadable, /not mounted|until tracefs is mounted/);
  assert.match(await report(support(null, '/sys/kernel/tracing'), 'tracepoint'), /tracefs at \/sys\/kernel\/tracing is not readable by this user/);
  const absent = await report(support(null, null));
  assert.match(absent, /tracefs\s+not mounted \(socktop mounts it/);
  assert.match(absent, /unknown until tracefs is mounted/);
  assert.match(await report(support('/sys/kernel/tracing', '/sys/kernel/tracing')), /tracefs\s+\/sys\/kernel\/tracing\n/);
});

test('the program: socktop check as a user who cannot read tracefs says so', { skip: !canDropPrivileges && 'needs root and setpriv' }, () => {
  const mount = findTracefsMount(fs.readFileSync('/proc/self/mountinfo', 'utf8'));
  if (!mount) return; // no tracefs here at all: "not mounted" is the truth
  const r = run(['check'], { user: 'nobody' });
  assert.doesNotMatch(r.stdout, /tracefs\s+not mounted/, r.stdout);
  // tracefs is usually mode 0700 (root only): then nobody is told it is there but unreadable.
  const othersCanRead = (fs.statSync(mount).mode & 0o005) === 0o005;
  if (!othersCanRead) assert.match(r.stdout, new RegExp(`tracefs\\s+mounted at ${mount}, but not readable by you`), r.stdout);
});

test('socktop check: the unix socket features, from the names in the kernel BTF', async () => {
  const { detectUnixSupport } = await import('../../src/capture/unix-support');
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'socktop-btf-'));
  try {
    // A 6.1-like kernel: the iterator, no BTF send/recv tracepoints, no unix address hooks.
    const old = path.join(dir, 'old');
    fs.writeFileSync(old, Buffer.from('\0bpf_iter__unix\0BPF_CGROUP_INET4_CONNECT\0btf_trace_sock_send_length_x\0', 'latin1'));
    const features = detectUnixSupport(old);
    assert.deepEqual(features.map((f) => f.present), [true, false, false, false, false]);
    const support: KernelSupport = {
      btf: true, cgroup: { hooks: true, mount: '/sys/fs/cgroup', kernel: [6, 1] }, kprobes: true, tracefs: null,
      tracepoints: [], privileges: { capSysAdmin: true, capBpf: true, capPerfmon: true, sufficient: true }, unix: features,
    };
    const out = new PassThrough();
    let text = '';
    out.on('data', (d) => (text += d));
    await runCheck('auto', out, { detect: () => support, choose: () => ({ backend: 'cgroup', reason: 'test' }) });
    assert.match(text, /iter\/unix \(walk, every backend\)\s+yes: listeners/);
    assert.match(text, /tp_btf sk_data_ready\s*no: no unix connect records \(kernel 6\.3\+\)/);
    assert.match(text, /cgroup connect_unix\s*no: no unix connect records on the cgroup backend \(kernel 6\.7\+\)/);
    assert.deepEqual(detectUnixSupport(path.join(dir, 'missing')).map((f) => f.present), ['unknown', 'unknown', 'unknown', 'unknown', 'unknown']);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
