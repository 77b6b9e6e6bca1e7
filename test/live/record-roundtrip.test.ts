/**
 * Record and replay on real BPF, through the real CLI (issue 4):
 *
 * - round trip: `socktop --json --record FILE` while the traffic fixture runs, stopped with SIGINT;
 *   the file is created as the invoking user (the sudo user under sudo), mode 0600;
 *   `socktop replay FILE --json` (as the file's owner, not root, when it is not root's) prints
 *   byte for byte the same lines, in the same order, with no DROPS markers;
 * - `socktop record -w FILE --duration 3s`, headless: the replay shows the fixture's exact accepts
 *   and connects for st-server / st-client, and the file's process metadata names them;
 * - a recording killed with SIGKILL mid-capture replays its whole records with one warning, exit 0;
 * - a full disk while recording (a 64 KiB tmpfs in a private mount namespace, `unshare -m`, so the
 *   host is untouched): the lost records are counted (status line, --json summary, a DROPS record
 *   in the file), the capture goes on, `record` exits 1 as documented;
 * - the shipped sample replays as user nobody (--json and -b -n 2).
 *
 * Files are written to a private temp dir; socktop's stdout goes to files, not pipes into this
 * process, so a busy machine's event volume does not matter.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { after, test } from 'node:test';
import * as assert from 'node:assert/strict';
import { ChildProcess, spawn, spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { openRecording } from '../../src/record/reader';
import { liveTestOptions } from './bpf-available';
import { CLI, closedPort, runNode } from './socktop-run';
import type { Traffic } from './traffic-report';

const TRAFFIC = path.join(__dirname, 'fixtures/traffic.js');
const SAMPLE = path.resolve(__dirname, '../../../samples/demo.socktop');
const N = 5;
const M = 3000;

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'socktop-rec-live-'));
// Sticky and world-writable, like /tmp: recordings are created AS the invoking user (the sudo user,
// or the pretend one below), who must be able to create them here; the replays run as non-root
// users and must reach the files.
fs.chmodSync(dir, 0o1777);
after(() => fs.rmSync(dir, { recursive: true, force: true }));



async function traffic(n = N, bytes = M): Promise<Traffic> {
  return JSON.parse((await runNode(TRAFFIC, ['server', String(n), String(bytes), String(await closedPort())])).trim());
}

interface Proc {
  child: ChildProcess;
  stderr(): string;
  exited: Promise<number | null>;
}

/** Spawn `cmd args`; stdout to `stdoutFile` (or ignored), stderr collected. */
function spawnTo(cmd: string, args: string[], stdoutFile: string | null, env?: NodeJS.ProcessEnv): Proc {
  const fd = stdoutFile ? fs.openSync(stdoutFile, 'w') : 'ignore';
  const child = spawn(cmd, args, { stdio: ['ignore', fd, 'pipe'], env: env ?? process.env, cwd: dir });
  if (typeof fd === 'number') fs.closeSync(fd);
  let err = '';
  child.stderr!.setEncoding('utf8').on('data', (d) => (err += d));
  const exited = new Promise<number | null>((r) => child.on('exit', (code, sig) => r(code ?? (sig ? -1 : null))));
  return { child, stderr: () => err, exited };
}

/** Wait until `re` shows on the process's stderr; fail if it exits first or takes too long. */
async function waitStderr(p: Proc, re: RegExp, timeoutMs = 20000): Promise<void> {
  const t0 = Date.now();
  let code: number | null | undefined;
  void p.exited.then((c) => (code = c));
  while (!re.test(p.stderr())) {
    if (code !== undefined) throw new Error(`exited (${code}) before ${re}: ${p.stderr().trim()}`);
    if (Date.now() - t0 > timeoutMs) {
      p.child.kill('SIGKILL');
      throw new Error(`no ${re} on stderr in ${timeoutMs} ms: ${p.stderr().trim()}`);
    }
    await sleep(50);
  }
}

/** Prefix that runs a command as uid:gid (setpriv), or nothing for root. */
function asUser(uid: number, gid: number): string[] {
  return uid === 0 ? [] : ['setpriv', `--reuid=${uid}`, `--regid=${gid}`, '--clear-groups', '--'];
}

/** `socktop replay ARGS` as uid:gid, stdout to outFile. */
function replay(args: string[], outFile: string, uid = 0, gid = 0): { code: number | null; stderr: string } {
  const fd = fs.openSync(outFile, 'w');
  try {
    const cmd = [...asUser(uid, gid), process.execPath, CLI, 'replay', ...args];
    const r = spawnSync(cmd[0], cmd.slice(1), { stdio: ['ignore', fd, 'pipe'], encoding: 'utf8', cwd: dir, timeout: 120000 });
    return { code: r.status, stderr: r.stderr };
  } finally {
    fs.closeSync(fd);
  }
}

/** Who should own a new recording: the sudo user under sudo, else root. */
function expectedOwner(env: NodeJS.ProcessEnv = process.env): { uid: number; gid: number } {
  const uid = Number(env.SUDO_UID);
  if (Number.isInteger(uid) && uid > 0) {
    const gid = Number(env.SUDO_GID);
    return { uid, gid: Number.isInteger(gid) && gid > 0 ? gid : fs.statSync('/').gid };
  }
  return { uid: 0, gid: 0 };
}

/** null when equal, else where the two JSON-lines files first differ. */
function firstDifference(a: string, b: string): string | null {
  const A = fs.readFileSync(a);
  const B = fs.readFileSync(b);
  if (A.equals(B)) return null;
  const la = A.toString('utf8').split('\n');
  const lb = B.toString('utf8').split('\n');
  for (let i = 0; i < Math.max(la.length, lb.length); i++) {
    if (la[i] !== lb[i]) {
      return `${la.length - 1} live lines, ${lb.length - 1} replayed; first difference at line ${i + 1}:\n` +
        `  live:   ${la[i] ?? '(end)'}\n  replay: ${lb[i] ?? '(end)'}`;
    }
  }
  return 'differ';
}

/** The events of one pid in a JSON-lines file (lines filtered as text first: the file may be big). */
function eventsOf(file: string, pid: number): Array<Record<string, any>> {
  const key = `"pid":${pid},`;
  return fs.readFileSync(file, 'utf8').split('\n').filter((l) => l.includes(key)).map((l) => JSON.parse(l))
    .filter((e) => e.pid === pid);
}

/** The fixture's exact accepts (server) and connects (client). */
function checkTrafficEvents(file: string, t: Traffic, n = N): void {
  const accepts = eventsOf(file, t.serverPid).filter((e) => e.kind === 'accept');
  assert.equal(accepts.length, 2 * n, 'st-server accepts');
  assert.ok(accepts.every((e) => e.comm === 'st-server'));
  assert.equal(accepts.filter((e) => e.family === 'inet' && e.lport === t.port4).length, n);
  assert.equal(accepts.filter((e) => e.family === 'inet6' && e.lport === t.port6).length, n);
  const connects = eventsOf(file, t.clientPid).filter((e) => e.kind === 'connect');
  assert.ok(connects.every((e) => e.comm === 'st-client'));
  const ok = connects.filter((e) => e.error === null);
  assert.equal(ok.length, 2 * n, 'st-client connects');
  assert.equal(ok.filter((e) => e.raddr === '127.0.0.1' && e.rport === t.port4).length, n);
  assert.equal(ok.filter((e) => e.raddr === '::1' && e.rport === t.port6).length, n);
  assert.deepEqual(connects.filter((e) => e.error !== null).map((e) => [e.error, e.rport]), [['ECONNREFUSED', t.closedPort]]);
}

function fileMode(file: string): { mode: number; uid: number; gid: number } {
  const st = fs.statSync(file);
  return { mode: st.mode & 0o777, uid: st.uid, gid: st.gid };
}

const ZERO_DROPS = /drops: kernel_miss 0, udp_flows 0, bpf_ring 0, shared_ring 0, recording 0/;

// ------------------------------------------------------------------------------------ round trip

test('socktop --json --record: replay --json of the file prints exactly what --json printed live', { ...liveTestOptions(), timeout: 120000 }, async () => {
  const file = path.join(dir, 'roundtrip.socktop');
  const live = path.join(dir, 'roundtrip.live.jsonl');
  const replayed = path.join(dir, 'roundtrip.replay.jsonl');
  const socktop = spawnTo(process.execPath, [CLI, '--json', '--record', file], live);
  await waitStderr(socktop, /attached/);
  assert.match(socktop.stderr(), new RegExp(`recording to ${file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`));
  let t: Traffic;
  try {
    t = await traffic();
    await sleep(500); // the worker polls on a short timeout
  } finally {
    socktop.child.kill('SIGINT');
  }
  assert.equal(await socktop.exited, 0, socktop.stderr());
  assert.match(socktop.stderr(), ZERO_DROPS, socktop.stderr());
  assert.equal(t.accepted, 2 * N);

  // The file: 0600, owned by the sudo user under sudo (so they can replay it), else by root.
  const owner = expectedOwner();
  assert.deepEqual(fileMode(file), { mode: 0o600, ...owner });

  // Replay as the file's owner: no root needed when it is a user's.
  const r = replay([file, '--json'], replayed, owner.uid, owner.gid);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stderr, '', 'a complete recording replays without warnings');
  assert.ok(!fs.readFileSync(live, 'utf8').includes('"kind":"drops"'), 'no DROPS markers live');
  assert.equal(firstDifference(live, replayed), null);
  checkTrafficEvents(replayed, t);

  // The same file, given to user nobody, replays the same without root.
  const copy = path.join(dir, 'roundtrip.nobody.socktop');
  fs.copyFileSync(file, copy);
  fs.chownSync(copy, 65534, 65534);
  fs.chmodSync(copy, 0o600);
  const asNobody = path.join(dir, 'roundtrip.nobody.jsonl');
  const rn = replay([copy, '--json'], asNobody, 65534, 65534);
  assert.equal(rn.code, 0, rn.stderr);
  assert.equal(firstDifference(live, asNobody), null);
});

// ------------------------------------------------------------------------------------ headless

test('socktop record -w FILE --duration 3s: exact accepts/connects and process names in the file', { ...liveTestOptions(), timeout: 120000 }, async () => {
  const file = path.join(dir, 'headless.socktop');
  // Not under sudo: pretend to be, as user nobody, to check the file is created as the sudo user.
  const env = process.env.SUDO_UID ? process.env : { ...process.env, SUDO_UID: '65534', SUDO_GID: '65534' };
  const owner = expectedOwner(env);
  const rec = spawnTo(process.execPath, [CLI, 'record', '-w', file, '--duration', '3s'], null, env);
  await waitStderr(rec, /^recording /m); // the first status line: attached and recording for 1 s
  const t = await traffic();
  const code = await rec.exited;
  assert.equal(code, 0, rec.stderr());
  const lines = rec.stderr().trim().split('\n');
  assert.match(lines[lines.length - 1], /^recording .*: \d+ events, .* 0 drops .*: done$/, rec.stderr());
  assert.deepEqual(fileMode(file), { mode: 0o600, ...owner });

  // The replay, as the owner (not root), has the fixture's exact counts.
  const out = path.join(dir, 'headless.jsonl');
  const r = replay([file, '--json'], out, owner.uid, owner.gid);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stderr, '');
  checkTrafficEvents(out, t);

  // The file itself: a whole header, an END frame, the fixture's processes named.
  const recording = openRecording(file);
  try {
    assert.deepEqual(recording.warnings, []);
    assert.ok(recording.end, 'END frame');
    assert.equal(recording.end!.records_lost, 0);
    assert.equal(recording.header.host, os.hostname());
    assert.equal(recording.header.kernel, os.release());
    assert.ok(['cgroup', 'tracepoint', 'kprobe'].includes(recording.header.backend), recording.header.backend);
    const named = (pid: number) => recording.processes.filter((p) => p.info.pid === pid).map((p) => p.info.comm);
    assert.deepEqual(named(t.serverPid), ['st-server']);
    assert.deepEqual(named(t.clientPid), ['st-client']);
    const server = recording.processes.find((p) => p.info.pid === t.serverPid)!.info;
    if (server.from_proc) {
      assert.match(server.cmdline ?? '', /st-server/); // process.title rewrites argv
      assert.equal(server.user, 'root');
    }
  } finally {
    recording.close();
  }
});

// ------------------------------------------------------------------------------------ flight recorder

test('record -W 20 -G 1: files in turn, each a whole recording of its stretch, made as the user before the privilege drop', { ...liveTestOptions(), timeout: 120000 }, async () => {
  const file = path.join(dir, 'flight.socktop');
  const env = process.env.SUDO_UID ? process.env : { ...process.env, SUDO_UID: '65534', SUDO_GID: '65534' };
  const owner = expectedOwner(env);
  const rec = spawnTo(process.execPath, [CLI, 'record', '-w', file, '-W', '20', '-G', '1', '--duration', '5s'], null, env);
  await waitStderr(rec, /^recording /m);
  const first = await traffic();
  await sleep(1500); // past -G 1: the next events start a new file
  const second = await traffic();
  const code = await rec.exited;
  assert.equal(code, 0, rec.stderr());
  assert.match(rec.stderr(), /\(file \d+, rotating\): \d+ events, .* 0 drops .*: done\n$/);
  const used = fs.readdirSync(dir).filter((f) => /^flight\.\d\d\.socktop$/.test(f)).sort();
  assert.ok(used.length >= 2, `rotated: ${used.join(' ')}`);
  // Each file: the user's, 0600, a whole recording (END frame, no warning); replayed one after
  // the other they hold both traffic runs exactly.
  const all = path.join(dir, 'flight-all.jsonl');
  fs.writeFileSync(all, '');
  for (const f of used) {
    const p = path.join(dir, f);
    assert.deepEqual(fileMode(p), { mode: 0o600, ...owner }, f);
    const r = openRecording(p);
    assert.deepEqual(r.warnings, [], f);
    assert.ok(r.end, `${f}: END frame`);
    r.close();
    const out = path.join(dir, `${f}.jsonl`);
    const rp = replay([p, '--json'], out, owner.uid, owner.gid);
    assert.equal(rp.code, 0, rp.stderr);
    fs.appendFileSync(all, fs.readFileSync(out));
  }
  checkTrafficEvents(all, first);
  checkTrafficEvents(all, second);
});

// ------------------------------------------------------------------------------------ kill -9

test('a recording killed with SIGKILL mid-capture replays its whole records with one warning', { ...liveTestOptions(), timeout: 120000 }, async () => {
  const file = path.join(dir, 'killed.socktop');
  const rec = spawnTo(process.execPath, [CLI, 'record', '-w', file, '--duration', '60s'], null);
  await waitStderr(rec, /^recording /m);
  const running = traffic(200, 1000); // several seconds of connections
  await sleep(2000);
  rec.child.kill('SIGKILL');
  assert.equal(await rec.exited, -1);
  const t = await running;

  const out = path.join(dir, 'killed.jsonl');
  const r = replay([file, '--json'], out);
  assert.equal(r.code, 0, r.stderr);
  const warnings = r.stderr.split('\n').filter((l) => l);
  assert.equal(warnings.length, 1, r.stderr);
  assert.match(warnings[0], /^socktop: warning: .*no end marker/);
  const lines = fs.readFileSync(out, 'utf8').split('\n').filter((l) => l);
  assert.ok(lines.length > 0, 'whole records replayed');
  for (const l of lines) JSON.parse(l); // every line a whole record
  const recording = openRecording(file);
  try {
    assert.equal(recording.end, null);
    assert.equal(recording.records, lines.length);
  } finally {
    recording.close();
  }
  // Flushed at least every second: the traffic of the first second is in.
  assert.ok(eventsOf(out, t.serverPid).some((e) => e.kind === 'accept'), 'st-server accepts flushed before the kill');
});

// ------------------------------------------------------------------------------------ full disk

function unshareReason(): string | null {
  if (process.getuid?.() !== 0) return 'needs root';
  const probe = spawnSync('unshare', ['-m', '--propagation', 'private', 'true']);
  return probe.status === 0 ? null : `unshare -m unavailable: ${String(probe.stderr).trim()}`;
}

/**
 * socktop ARGS in a private mount namespace where `mnt` is a 64 KiB tmpfs; once socktop exits,
 * the recording is copied to `outDir` (the tmpfs goes away with the namespace).
 */
function inTinyTmpfs(mnt: string, outDir: string, cliArgs: string[], stdoutFile: string | null): Proc & { node(): number | null } {
  const script = 'mount -t tmpfs -o size=64k tmpfs "$1" || exit 97; m=$1; o=$2; shift 2; ' +
    '"$@"; rc=$?; cp "$m/rec.socktop" "$o/"; exit $rc';
  const p = spawnTo('unshare', ['-m', '--propagation', 'private', 'sh', '-c', script, 'sh', mnt, outDir,
    process.execPath, CLI, ...cliArgs], stdoutFile);
  // unshare execs sh; socktop is sh's only child.
  const node = (): number | null => {
    try {
      const pid = Number(fs.readFileSync(`/proc/${p.child.pid}/task/${p.child.pid}/children`, 'utf8').trim().split(/\s+/)[0]);
      return pid > 0 ? pid : null;
    } catch {
      return null;
    }
  };
  return { ...p, node };
}

function fullDiskOptions(): { skip?: string; timeout: number } {
  const base = liveTestOptions();
  if (base.skip) return { ...base, timeout: 120000 };
  const reason = unshareReason();
  return reason ? { skip: reason, timeout: 120000 } : { timeout: 120000 };
}

/**
 * A recording made on the full disk, with `lost` records lost to write errors: it replays, and
 * says where records were lost (DROPS stage-3 records) and how many (END frame). Unless not even
 * the few hundred bytes of the last DROPS record and END frame fitted (the machine's own events
 * refilled the disk to its last bytes): then it is a cut file, one warning, like after a crash.
 */
function checkFullDiskFile(file: string, lost: number, name: string, t: { diagnostic(m: string): void }) {
  const out = path.join(dir, `${name}.jsonl`);
  const r = replay([file, '--json'], out);
  assert.equal(r.code, 0, r.stderr);
  const events = fs.readFileSync(out, 'utf8').split('\n').filter((l) => l).map((l) => JSON.parse(l));
  const markers = events.filter((e) => e.kind === 'drops' && e.stage === 'recording');
  const marked = markers.reduce((sum, e) => sum + e.dropped, 0);
  const recording = openRecording(file);
  try {
    if (recording.end) {
      assert.equal(r.stderr, '');
      assert.deepEqual(recording.warnings, []);
      assert.equal(marked, lost, 'the file says where records were lost');
      assert.equal(recording.end.records_lost, lost);
      // Every record handed to the recorder is on disk or counted lost (plus the writer's markers).
      assert.equal(recording.records, recording.end.records - lost + markers.length);
    } else {
      assert.match(r.stderr, /^socktop: warning: .*no end marker[^\n]*\n$/);
      assert.ok(marked < lost);
      t.diagnostic(`${name}: no room left even for the END frame; ${marked} of ${lost} lost records marked`);
    }
  } finally {
    recording.close();
  }
  return { events, markers };
}

/** The counters of `record`'s status lines (one a second). */
function statusCounts(stderr: string): Array<{ events: number; lost: number; error: boolean }> {
  return stderr.split('\n').filter((l) => l.startsWith('recording ')).map((l) => ({
    events: Number(/: (\d+) events/.exec(l)?.[1] ?? NaN),
    lost: Number(/, write (\d+)\)/.exec(l)?.[1] ?? 0),
    error: /write error/.test(l),
  }));
}

test('record -w on a full disk: lost records counted and shown, capture goes on, exit 1', fullDiskOptions(), async (t) => {
  const mnt = fs.mkdtempSync(path.join(dir, 'mnt-'));
  const outDir = fs.mkdtempSync(path.join(dir, 'out-'));
  const rec = inTinyTmpfs(mnt, outDir, ['record', '-w', path.join(mnt, 'rec.socktop'), '--duration', '60s'], null);
  await waitStderr(rec, /^recording /m);
  await traffic(60, 1000); // ~2000 records, 250 kB: far more than 64 KiB
  await waitStderr(rec, /write error: ENOSPC/);
  // Still capturing: a second, small run after the error is recorded (the failed write was cut
  // back, so there is room again for small frames).
  const lostBefore = statusCounts(rec.stderr()).pop()!.lost;
  const second = await traffic(1, 100);
  await sleep(1500); // one flush
  const node = rec.node();
  assert.ok(node, 'socktop running in the namespace');
  process.kill(node!, 'SIGINT');
  const code = await rec.exited;
  assert.equal(code, 1, `record exits 1 when records were lost: ${rec.stderr()}`);
  const last = rec.stderr().trim().split('\n').pop()!;
  const m = /(\d+) drops \(bpf ring \d+, write (\d+)\), write error: ENOSPC: no space left on device .*: done$/.exec(last);
  assert.ok(m, `final status line: ${last}`);
  const lost = Number(m![2]);
  assert.ok(lost > 0);
  // The status line kept counting events after the first write error.
  const counts = statusCounts(rec.stderr());
  const firstError = counts.findIndex((c) => c.error);
  assert.ok(counts[counts.length - 1].events > counts[firstError].events, rec.stderr());
  assert.equal(fs.readdirSync(mnt).length, 0, 'the host never saw the tmpfs');

  const { events, markers } = checkFullDiskFile(path.join(outDir, 'rec.socktop'), lost, 'fulldisk', t);
  const after = events.slice(events.indexOf(markers[0]) + 1);
  assert.ok(after.length > 0, 'records written after the write error');
  if (lost === lostBefore) {
    // Nothing lost since the second run started: all of it is in the file, after the hole.
    assert.equal(after.filter((e) => e.pid === second.serverPid && e.kind === 'accept').length, 2, 'capture went on after the write error');
  } else {
    // A busy machine (other processes' events) filled the disk again meanwhile.
    t.diagnostic(`${lost - lostBefore} more records lost after the second run started: not checking it is whole`);
  }
});

test('--json --record on a full disk: the summary counts the recording drops, exit 1, live output is whole', fullDiskOptions(), async (ctx) => {
  const mnt = fs.mkdtempSync(path.join(dir, 'mnt-'));
  const outDir = fs.mkdtempSync(path.join(dir, 'out-'));
  const live = path.join(dir, 'fulldisk.live.jsonl');
  const p = inTinyTmpfs(mnt, outDir, ['--json', '--record', path.join(mnt, 'rec.socktop')], live);
  await waitStderr(p, /attached/);
  const t = await traffic(60, 1000);
  await sleep(1500); // the recorder flushes (and fails) at least once a second
  const node = p.node();
  assert.ok(node, 'socktop running in the namespace');
  process.kill(node!, 'SIGINT');
  // Like `record`, a recording that lost records makes --json --record exit 1, with the reason.
  assert.equal(await p.exited, 1, p.stderr());
  assert.match(p.stderr(), /the recording lost \d+ records \(.*ENOSPC/);
  const m = /drops: kernel_miss (\d+), udp_flows \d+, bpf_ring (\d+), shared_ring (\d+), recording (\d+)/.exec(p.stderr());
  assert.ok(m, p.stderr());
  const lost = Number(m![4]);
  assert.ok(lost > 0, `recording drops in the summary: ${p.stderr()}`);
  // The live output does not depend on the disk: the whole fixture is there.
  checkTrafficEvents(live, t, 60);
  checkFullDiskFile(path.join(outDir, 'rec.socktop'), lost, 'fulldisk-json', ctx);
});

// ------------------------------------------------------------------------------------ the sample

test('the shipped sample replays as user nobody: --json and -b -n 2', {
  skip: process.getuid?.() !== 0 ? 'needs root to switch to user nobody' : !fs.existsSync(SAMPLE) ? 'no sample' : false,
  timeout: 60000,
}, () => {
  const json = path.join(dir, 'sample.jsonl');
  const r = replay([SAMPLE, '--json'], json, 65534, 65534);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stderr, '');
  const events = fs.readFileSync(json, 'utf8').split('\n').filter((l) => l).map((l) => JSON.parse(l));
  const recording = openRecording(SAMPLE);
  try {
    assert.equal(events.length, recording.records);
  } finally {
    recording.close();
  }
  assert.ok(events.some((e) => e.kind === 'accept'));
  const batch = path.join(dir, 'sample.batch.txt');
  const b = replay([SAMPLE, '-b', '-n', '2'], batch, 65534, 65534);
  assert.equal(b.code, 0, b.stderr);
  const text = fs.readFileSync(batch, 'utf8');
  assert.equal(text.match(/^socktop - /gm)?.length, 2, text);
  assert.match(text, /PID .*COMM/);
});
