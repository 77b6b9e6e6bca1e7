/**
 * Why connections fail, and whether a server keeps up (issue 13), on every backend this machine
 * offers, in private network namespaces with only lo (nothing leaves them), against the kernel's
 * and the programs' own ground truth:
 *  - test/live/fixtures/failures.sh: refused, refused without blocking (poll + SO_ERROR, then
 *    connect() again), timed out by the kernel (tcp_syn_retries=1: one SYN retransmit, as the
 *    namespace's RetransSegs counts), timed out by the program's own 1.5 s timeout, an ICMP host
 *    unreachable answer (iptables REJECT), an `unreachable` route, no route (both fail in the
 *    call: the destination comes from the call; once more with the socket kept open until the
 *    process exits), a reset after establishment: each failure once, with its
 *    reason, errno, SYN retries, destination and pid;
 *  - test/live/fixtures/slow-accept.py: a server that lets 3 connections wait 1.5 s before
 *    accepting them (queue length 3 of 5, each wait 1.5 s), then a listener with backlog 1 that
 *    never accepts while 8 clients connect: its queue full (2 > 1) and its overflows equal to the
 *    namespace's ListenOverflows.
 * The model sees the same: a recording of the run, replayed as a batch snapshot, shows each
 * process's FAIL count, the server's overflows and its accept wait.
 */
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { liveTestOptions } from './bpf-available';
import { CLI, parseJsonLines, startSocktop } from './socktop-run';

const FIXTURES = path.resolve(__dirname, '../../../test/live/fixtures');
const settle = (): Promise<void> => new Promise((r) => setTimeout(r, 600)); // the reader's poll timeout
type Ev = ReturnType<typeof parseJsonLines>[number];

interface Case {
  case: string; pid: number; comm: string; errno: number | 'timeout'; rport: number; lport?: number;
  raddr?: string; seconds?: number; retransmits?: number;
}

interface SlowServer {
  pid: number; wait_port: number; wait: number; waits: { rport: number; seconds: number }[];
  overflow_port: number; backlog: number; overflows: number; listen_drops: number;
}

/** What each case must show: its one failure record's kind, reason and errno. */
const EXPECTED: Record<string, { kind: string; reason: string; error: string | null }> = {
  refused: { kind: 'connect', reason: 'refused', error: 'ECONNREFUSED' },
  nonblocking: { kind: 'connect', reason: 'refused', error: 'ECONNREFUSED' },
  kernel_timeout: { kind: 'connect', reason: 'timeout', error: 'ETIMEDOUT' },
  client_timeout: { kind: 'connect', reason: 'timeout', error: 'ECONNABORTED' },
  icmp_unreachable: { kind: 'connect', reason: 'unreachable', error: 'EHOSTUNREACH' },
  unreachable: { kind: 'connect', reason: 'unreachable', error: 'EHOSTUNREACH' },
  no_route: { kind: 'connect', reason: 'unreachable', error: 'ENETUNREACH' },
  no_route_kept: { kind: 'connect', reason: 'unreachable', error: 'ENETUNREACH' },
  reset: { kind: 'close', reason: 'reset', error: null },
};

function recordingDir(): { dir: string; file: string } {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'socktop-reasons-'));
  fs.chmodSync(dir, 0o1777); // under sudo the recording is created as the invoking user
  return { dir, file: path.join(dir, 'run.socktop') };
}

/** One cell of a batch snapshot: the row of `pid`, the column titled `title` (right-aligned). */
function batchCell(text: string, pid: number, title: string): string {
  const lines = text.split('\n');
  const header = lines.find((l) => /^\s*PID /.test(l));
  assert.ok(header, `a table header in:\n${text}`);
  const end = header.indexOf(title) + title.length;
  assert.ok(end > title.length - 1, `column ${title} in ${header}`);
  const row = lines.find((l) => l.trim().startsWith(`${pid} `));
  assert.ok(row, `a row for pid ${pid} in:\n${text}`);
  return row.slice(0, end).trim().split(/\s+/).pop()!;
}

function replayBatch(file: string): string {
  const out = spawnSync(process.execPath, [CLI, 'replay', file, '--speed', '0', '-b', '--fold-exited', '3600'], { encoding: 'utf8' });
  assert.equal(out.status, 0, out.stderr);
  return out.stdout;
}

/** Records telling a failure: a CONNECT with an errno or a reason, any record with a reason. */
function failures(events: Ev[], pid: number): Ev[] {
  return events.filter((e) => e.pid === pid && ((e.kind === 'connect' && (e.error || e.reason)) || e.reason));
}

/** Exact counts need every event: say so first when some were lost (the kernel skips a classic
 * tracepoint program while another BPF program runs on that CPU: kernel_miss). */
function assertNothingLost(events: Ev[]): void {
  const lost = events.filter((e) => e.kind === 'drops' && e.dropped > 0).map((e) => `${e.stage} ${e.dropped}`);
  assert.deepEqual(lost, [], 'events lost during the run');
}

function assertCase(events: Ev[], c: Case): void {
  const want = EXPECTED[c.case];
  const got = failures(events, c.pid);
  assert.equal(got.length, 1, `${c.case}: one failure, told once: ${JSON.stringify(got)}`);
  const e = got[0];
  assert.deepEqual([e.kind, e.reason, e.error ?? null, e.comm], [want.kind, want.reason, want.error, c.comm], `${c.case}: ${JSON.stringify(e)}`);
  assert.equal(e.rport, c.rport, `${c.case}: the destination port`);
  if (c.raddr) assert.equal(e.raddr, c.raddr, `${c.case}: the destination the program asked for`);
  else assert.equal(e.raddr, '127.0.0.1');
  if (c.lport) assert.equal(e.lport, c.lport);
  if (e.kind !== 'connect') return;
  // SYN retransmits: what the namespace's RetransSegs counted for this case (0 where none went out).
  assert.equal(e.syn_retries, c.retransmits ?? 0, `${c.case}: SYN retries`);
  if (c.seconds !== undefined) {
    assert.ok(Math.abs(e.latency_us / 1e6 - c.seconds) < 0.1, `${c.case}: ${e.latency_us} us spent, the program waited ${c.seconds} s`);
  }
}

for (const probe of ['cgroup', 'tracepoint']) {
  test(`--probe ${probe}: each failed connect once, with its reason, SYN retries, destination and pid`, liveTestOptions(), async () => {
    const { dir, file } = recordingDir();
    const socktop = await startSocktop(['--json', '--probe', probe, '--record', file]);
    let cases: Case[];
    try {
      const out = execFileSync('unshare', ['-n', 'sh', path.join(FIXTURES, 'failures.sh')], { encoding: 'utf8', timeout: 60000 });
      cases = out.trim().split('\n').map((l) => JSON.parse(l));
      await settle();
    } finally {
      assert.equal(await socktop.stop('SIGINT'), 0, socktop.stderr());
    }
    assert.deepEqual(cases.map((c) => c.case), Object.keys(EXPECTED));
    // The programs' own view first: each case failed the way it was built to.
    const errnos = Object.fromEntries(cases.map((c) => [c.case, c.errno]));
    assert.deepEqual(errnos, {
      refused: 111, nonblocking: 111, kernel_timeout: 110, client_timeout: 'timeout', icmp_unreachable: 113, unreachable: 113,
      no_route: 101, no_route_kept: 101, reset: 104,
    });
    assert.equal(cases.find((c) => c.case === 'kernel_timeout')!.retransmits, 1, 'tcp_syn_retries=1: one SYN retransmit');
    assert.equal(cases.find((c) => c.case === 'client_timeout')!.retransmits, 1, 'one SYN retransmit (at 1 s) before the 1.5 s timeout');
    const events = parseJsonLines(socktop.stdout());
    assertNothingLost(events);
    for (const c of cases) assertCase(events, c);
    // The model, from the recording: each process's FAIL column counts its one failure.
    const batch = replayBatch(file);
    for (const c of cases) assert.equal(batchCell(batch, c.pid, 'FAIL'), '1', `${c.case}: FAIL in\n${batch}`);
    fs.rmSync(dir, { recursive: true, force: true });
  });

  test(`--probe ${probe}: a slow server's accept queue, accept wait and overflows`, liveTestOptions(), async () => {
    const { dir, file } = recordingDir();
    const socktop = await startSocktop(['--json', '--probe', probe, '--record', file]);
    let run: SlowServer;
    try {
      const out = execFileSync('unshare', ['-n', 'sh', '-c', `ip link set lo up && exec python3 ${path.join(FIXTURES, 'slow-accept.py')} 1.5`],
        { encoding: 'utf8', timeout: 60000 });
      run = JSON.parse(out.trim());
      await settle();
    } finally {
      assert.equal(await socktop.stop('SIGINT'), 0, socktop.stderr());
    }
    assertNothingLost(parseJsonLines(socktop.stdout()));
    const events = parseJsonLines(socktop.stdout()).filter((e) => e.proto === 'tcp');
    // Phase "wait": three connections joined a queue of 5 and waited 1.5 s each.
    const joined = events.filter((e) => e.kind === 'state' && e.lport === run.wait_port && e.new_state === 'ESTABLISHED');
    assert.deepEqual(joined.map((e) => [e.queue_len, e.queue_max]), [[1, 5], [2, 5], [3, 5]], JSON.stringify(joined));
    const sampled = events.filter((e) => e.kind === 'queue' && e.lport === run.wait_port);
    assert.ok(sampled.some((e) => e.queue_len === 3 && e.queue_max === 5 && e.pid === run.pid), `a sample of the full wait: ${JSON.stringify(sampled)}`);
    const accepts = events.filter((e) => e.kind === 'accept' && e.lport === run.wait_port);
    assert.deepEqual(accepts.map((e) => [e.pid, e.queue_len]), [[run.pid, 2], [run.pid, 1], [run.pid, 0]]);
    for (const w of run.waits) {
      const a = accepts.find((e) => e.rport === w.rport);
      assert.ok(a, `the accept of ${w.rport}`);
      // The server measured from its connect() returning to its accept() (and its first write).
      assert.ok(Math.abs(a.queue_wait_us / 1e6 - w.seconds) < 0.05, `waited ${a.queue_wait_us} us, measured ${w.seconds} s`);
    }
    // Phase "overflow": backlog 1 holds 2; every dropped connection is counted, as the kernel did.
    assert.ok(run.overflows > 0, 'the kernel dropped connections');
    assert.equal(run.listen_drops, run.overflows, 'every listen drop was an overflow');
    const full = events.filter((e) => e.kind === 'queue' && e.lport === run.overflow_port);
    assert.ok(full.length > 0, 'queue samples of the full listener');
    assert.ok(full.every((e) => e.pid === run.pid && e.queue_max === run.backlog && e.queue_len === run.backlog + 1), JSON.stringify(full));
    assert.equal(full.reduce((n, e) => n + e.overflows, 0), run.overflows, `overflows as ListenOverflows counted: ${JSON.stringify(full)}`);
    // The model, from the recording: the server's overflows and accept wait.
    const batch = replayBatch(file);
    assert.equal(batchCell(batch, run.pid, 'OVFL'), String(run.overflows), batch);
    assert.equal(batchCell(batch, run.pid, 'ACCW-p99'), '1.5s', batch);
    fs.rmSync(dir, { recursive: true, force: true });
  });
}
