/**
 * Alerts and triggered recordings on real BPF, through the real CLI (issue 13). The refused
 * connects come from a real client (fixtures/refused-burst.py, comm st-refuse) in a private network
 * namespace (`unshare -n`, only lo), connecting to a port where nothing listens; its own count of
 * ECONNREFUSED is the ground truth. Conditions are scoped to its command name, so the host's own
 * traffic cannot make them fire.
 *
 * - `socktop -b --alert`: the alert fires once, with the exact value (30 refused: 30 events; 6/s
 *   over the 5 s window), clears once when the burst has left the window; a condition that never
 *   crosses prints nothing; the run exits 3; a run in which nothing fires exits 0;
 * - `socktop --json --alert`: exactly one {"type":"alert"} line, with the value, after the connect
 *   events that made it true; exit 3;
 * - `socktop record --trigger COND --before 2 --after 2`: one incident file (mode 0600) holding the
 *   listener the client opened 1 s before the burst, the 30 refused connects, and the listener's
 *   close 1 s after; its header says the window; it is created as the sudo user (SUDO_UID), mode
 *   0600; `socktop replay FILE --json` shows them.
 */
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { spawn, spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { setTimeout as sleep } from 'node:timers/promises';
import { liveTestOptions } from './bpf-available';
import { CLI, closedPort, parseJsonLines, startSocktop } from './socktop-run';
import { openRecording } from '../../src/record/reader';

const FIXTURE = path.resolve(__dirname, '../../../test/live/fixtures/refused-burst.py');
const N = 30;
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'socktop-alerts-live-'));
// Sticky and world-writable, like /tmp: the incident file is created AS the invoking user (the sudo
// user, or the pretend one below).
fs.chmodSync(dir, 0o1777);

interface Truth {
  pid: number;
  refused: number;
  listen_port: number;
}

function options(): { skip?: string; timeout: number } {
  const base = liveTestOptions();
  if (base.skip) return { ...base, timeout: 60000 };
  const probe = spawnSync('unshare', ['-n', 'true']);
  if (probe.status !== 0) return { skip: `unshare -n unavailable: ${String(probe.stderr).trim()}`, timeout: 60000 };
  return { timeout: 60000 };
}

/** The client, in its own network namespace; resolves with its ground truth once it exited. */
function burst(port: number, before = 0, after = 0): Promise<Truth> {
  return new Promise((resolve, reject) => {
    const child = spawn('unshare', ['-n', 'python3', FIXTURE, String(N), String(port), String(before), String(after)],
      { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.setEncoding('utf8').on('data', (d) => (out += d));
    child.on('exit', (code) => {
      if (code !== 0) return reject(new Error(`refused-burst.py exited ${code}`));
      const truth = JSON.parse(out.trim()) as Truth;
      assert.equal(truth.refused, N, 'every connect of the client was refused');
      resolve(truth);
    });
  });
}

function waitExit(child: import('child_process').ChildProcess): Promise<number | null> {
  return new Promise((r) => (child.exitCode !== null ? r(child.exitCode) : child.on('exit', (c) => r(c))));
}

test('-b --alert: fires once with the exact value, exit 3; nothing crossing: exit 0', options(), async () => {
  const port = await closedPort();
  const run = await startSocktop(['-b', '-d', '1', '-n', '12', '--alert', 'comm=st-refuse:refused>=30',
    '--alert', 'comm=st-refuse:refused>=6/s', '--alert', 'comm=st-refuse:refused>30', '--alert', 'accept_p99>100ms']);
  await sleep(1500);
  await burst(port);
  const code = await waitExit(run.child);
  const out = run.stdout();
  const alerts = out.split('\n').filter((l) => l.startsWith('ALERT'));
  assert.deepEqual(alerts, [
    'ALERT accept_p99>100ms no data',
    'ALERT comm=st-refuse:refused>=30 firing: 30 events',
    'ALERT comm=st-refuse:refused>=6/s firing: 6/s',
    // 5 s later (the rate window) the burst has left the window: each clears, once.
    'ALERT comm=st-refuse:refused>=30 cleared: 0 events',
    'ALERT comm=st-refuse:refused>=6/s cleared: 0/s',
  ], out);
  assert.match(out, /^Alerts: comm=st-refuse:refused>=30 FIRING 30 events; comm=st-refuse:refused>=6\/s FIRING 6\/s; comm=st-refuse:refused>30 ok; accept_p99>100ms no data$/m);
  assert.equal(code, 3, `exit status: ${run.stderr()}`);

  const quiet = await startSocktop(['-b', '-d', '0.5', '-n', '2', '--alert', 'comm=st-refuse:refused>0']);
  assert.equal(await waitExit(quiet.child), 0);
  assert.ok(!quiet.stdout().includes('ALERT'));
});

test('--json --alert: one alert line after the events that made it true, exit 3', options(), async () => {
  const port = await closedPort();
  const run = await startSocktop(['--json', '--alert', 'comm=st-refuse:refused>=30']);
  await sleep(1000);
  const truth = await burst(port);
  await sleep(2500); // a tick or two after the burst
  const code = await run.stop('SIGINT');
  const lines = parseJsonLines(run.stdout());
  const alerts = lines.filter((l) => l.type === 'alert');
  assert.equal(alerts.length, 1, JSON.stringify(alerts));
  const a = alerts[0];
  assert.deepEqual({ ...a, ts_ns: 0 }, {
    type: 'alert', alert: 'comm=st-refuse:refused>=30', state: 'firing', value: N, unit: 'events', threshold: 30, ts_ns: 0,
  });
  const at = lines.indexOf(a);
  const refused = lines.filter((l) => l.kind === 'connect' && l.pid === truth.pid && l.error === 'ECONNREFUSED');
  assert.equal(refused.length, N);
  assert.ok(refused.every((l) => lines.indexOf(l) < at), 'the alert comes after the connects it counts');
  assert.ok(refused.every((l) => l.ts_ns <= a.ts_ns), 'its time is at or after theirs (the same clock)');
  assert.equal(code, 3, run.stderr());
});

test('record --trigger: the seconds before and after the moment, replayable', options(), async () => {
  const port = await closedPort();
  const file = path.join(dir, 'incident.socktop');
  // Not under sudo: pretend to be, as user nobody, to check the file is created as the sudo user.
  const env = process.env.SUDO_UID ? process.env : { ...process.env, SUDO_UID: '65534', SUDO_GID: '65534' };
  const rec = spawn(process.execPath, [CLI, 'record', '-w', file, '--trigger', 'comm=st-refuse:refused>0',
    '--before', '2', '--after', '2', '--duration', '11'], { stdio: ['ignore', 'pipe', 'pipe'], env });
  let err = '';
  rec.stderr!.setEncoding('utf8').on('data', (d) => (err += d));
  for (let i = 0; i < 100 && !/armed/.test(err); i++) await sleep(100);
  assert.match(err, /armed/, err);
  await sleep(1500);
  const truth = await burst(port, 1, 1); // listen, 1 s, 30 refused, 1 s, close
  assert.equal(await waitExit(rec), 0, err);
  assert.match(err, /1 incident \(1 firings\)/, err);
  assert.match(err, new RegExp(`done; written: ${file.replace(/[.]/g, '\\.')}\n`), err);
  const st = fs.statSync(file);
  assert.equal(st.mode & 0o777, 0o600);
  assert.equal(st.uid, Number(env.SUDO_UID), 'created as the invoking (sudo) user');

  const r = openRecording(file);
  const trigger = (r.header.json as unknown as { trigger: Record<string, unknown> }).trigger;
  r.close();
  assert.equal(trigger.condition, 'comm=st-refuse:refused>0');
  assert.equal(trigger.before_s, 2);
  assert.equal(trigger.after_s, 2);
  const fired = Number(trigger.fired_mono_ns);
  assert.equal(Number(trigger.window_from_mono_ns), fired - 3e9, 'the tick\'s second, less --before');

  const replay = spawnSync(process.execPath, [CLI, 'replay', file, '--json'], { encoding: 'utf8', maxBuffer: 64 << 20 });
  assert.equal(replay.status, 0, replay.stderr);
  const events = parseJsonLines(replay.stdout).filter((e) => e.pid === truth.pid);
  const refused = events.filter((e) => e.kind === 'connect' && e.error === 'ECONNREFUSED');
  assert.equal(refused.length, N, 'every refused connect is in the incident');
  const listen = events.find((e) => e.kind === 'listen' && e.lport === truth.listen_port);
  const close = events.find((e) => e.kind === 'close' && e.lport === truth.listen_port);
  assert.ok(listen, 'the listener opened 1 s before the burst (inside --before 2)');
  assert.ok(close, 'the listener closed 1 s after the burst (inside --after 2)');
  const first = Math.min(...refused.map((e) => e.ts_ns));
  assert.ok(first - listen.ts_ns > 0.8e9 && first - listen.ts_ns < 1.5e9, 'the listen is about 1 s before');
  assert.ok(close.ts_ns - first > 0.8e9 && close.ts_ns - first < 1.5e9, 'the close is about 1 s after');
  assert.ok(listen.ts_ns >= fired - 3e9, 'nothing before the window');
  assert.ok(first <= fired + 1e9 && first >= fired - 1e9, 'fired at the tick after the burst');
});
