import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { parseCli } from '../../src/cli/index';
import { describeError, NEEDS_PRIVILEGES, reportError, UsageError } from '../../src/cli/errors';

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
    { pids: null, comm: null, delaySec: 1, probe: 'auto', json: false, batch: false, iterations: undefined, record: undefined, verbose: false },
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

test('commands: check, record, replay', async () => {
  assert.equal((await parseCli(['check']))!.command, 'check');
  const rec = (await parseCli(['record', '-w', 'out.rec', '--duration', '30s']))!;
  assert.equal(rec.command, 'record');
  assert.equal(rec.argv.write, 'out.rec');
  assert.equal(rec.argv.duration, '30s');
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
  await usageError(['replay', 'f.socktop', '--record', 'g'], /--record: not for `socktop replay`/);
  await usageError(['replay', 'f.socktop', '--probe', 'kprobe'], /--probe: not for `socktop replay`/);
  await usageError(['record', '-w', 'f', '-b'], /--batch: not for `socktop record`/);
  await usageError(['record', '-w', 'f', '--json', '--record', 'g'], /--json, --record: not for `socktop record`/);
  await usageError(['check', '--json'], /--json: not for `socktop check`/);
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
  assert.deepEqual(describeError(Object.assign(new Error('bpf_prog_load: Operation not permitted\nmore'), { code: 'EPERM' })),
    { message: NEEDS_PRIVILEGES, exitCode: 1, expected: true });
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
  assert.equal(reportError(new UsageError('bad thing\nsecond line'), false, sink), 2);
  assert.deepEqual(lines, ['socktop: bad thing\n']);
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
    assert.equal(r.stderr, `socktop: ${NEEDS_PRIVILEGES}\n`);
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
