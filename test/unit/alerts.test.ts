/**
 * Alerts (issue 13): the condition grammar (good and bad inputs: one-line errors naming the bad
 * token), the evaluator on synthetic model states (fires once per crossing with the value, clears,
 * no data), the JSON and text forms, and the record-clock evaluation replay --json uses.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SocketModel } from '../../src/model/model';
import { UserNames } from '../../src/capture/users';
import { EventKind as K, DropStage } from '../../src/capture/layout';
import { AlertSyntaxError, parseAlert, parseAlerts } from '../../src/model/alerts/grammar';
import { AlertEvaluator } from '../../src/model/alerts/evaluator';
import { alertJsonLine, alertTextLine, statusText } from '../../src/model/alerts/format';
import { METRIC_NAMES } from '../../src/model/alerts/metrics';
import { RecordClockAlerts } from '../../src/model/alerts/record-clock';
import { MemoryRing } from '../../src/record/memory-ring';
import { parseConditionOption } from '../../src/cli/options';
import { feed, kernelSock, makeRecord, MS, pack, SEC } from './helpers/records';
import { spawnSync } from 'node:child_process';
import * as path from 'node:path';
import { parseCli } from '../../src/cli/index';
import { UsageError } from '../../src/cli/errors';
import type { CliArgs } from '../../src/cli/command';
import { rotationOrTrigger } from '../../src/cli/run/record';
import { alertLine } from '../../src/ui/views/header';
import { Theme } from '../../src/ui/views/theme';

const T0 = 1000 * SEC;
const users = new UserNames(() => 'root:x:0:0::/root:/bin/sh\n');
const ECONNREFUSED = 111;

// ------------------------------------------------------------------------------------ grammar

test('grammar: metric, operator, number, unit, /s, scope', () => {
  const r = parseAlert('refused>10/s');
  assert.equal(r.metric.name, 'refused');
  assert.equal(r.op, '>');
  assert.equal(r.threshold, 10);
  assert.equal(r.rate, true);
  assert.equal(r.scope, null);
  assert.equal(r.displayUnit, '/s');

  const d = parseAlert('accept_p99>100ms');
  assert.equal(d.metric.name, 'accept_p99');
  assert.equal(d.threshold, 100e6);
  assert.equal(d.displayUnit, 'ms');
  assert.equal(parseAlert('connect_p50>=1.5s').threshold, 1.5e9);
  assert.equal(parseAlert('connect_p99<250us').threshold, 250e3);

  const c = parseAlert('  lost > 0 ');
  assert.equal(c.text, 'lost > 0');
  assert.equal(c.rate, false);
  assert.equal(c.threshold, 0);

  const s = parseAlert('comm=nginx:resets>0');
  assert.deepEqual(s.scope && { kind: s.scope.kind, text: s.scope.text }, { kind: 'comm', text: 'comm=nginx' });
  const p = parseAlert('pid=100-200,!150:connect_fail>=5/s');
  assert.equal(p.scope?.kind, 'pid');
  assert.ok(p.scope?.kind === 'pid' && p.scope.pids.matches(120) && !p.scope.pids.matches(150) && !p.scope.pids.matches(99));
  assert.equal(p.op, '>=');
  // The scope ends at the LAST ':': a command name may hold one.
  const colon = parseAlert('comm=a:b:retransmits>100/s');
  assert.ok(colon.scope?.kind === 'comm' && colon.scope.comm === 'a:b');
  for (const op of ['>', '>=', '<', '<=', '==', '!='] as const) assert.equal(parseAlert(`accepts${op}1`).op, op);
  assert.equal(parseAlert('sockets_open>1000').metric.kind, 'gauge');
  assert.equal(parseAlerts(['lost>0', 'refused>1/s']).length, 2);
});

test('grammar: every bad input is one line naming the bad token', () => {
  const cases: Array<[string, RegExp]> = [
    ['', /empty condition/],
    ['refuse>1', /unknown metric 'refuse' \(metrics: lost, connects, .*accept_p99, queue\)/],
    ['>1', /expected a metric at '>1' \(metrics: /],
    ['refused', /expected an operator .* after refused, got 'nothing'/],
    ['refused=>1', /expected an operator .* got '=>1'/],
    ['refused>x/s', /expected a number after '>', got 'x\/s'/],
    ['refused>', /expected a number after '>', got 'nothing'/],
    ['refused>10/m', /unexpected '\/m' after the number/],
    ['refused>10ms', /refused counts events: unit 'ms' does not apply/],
    ['accept_p99>100', /accept_p99 is a duration: give a unit/],
    ['accept_p99>100/s', /'\/s' does not apply/],
    ['accept_p99>100h', /unknown unit 'h' for accept_p99/],
    ['sockets_open>5/s', /sockets_open is a level/],
    ['foo=1:refused>0', /unknown scope 'foo=1' \(use pid=LIST: or comm=NAME:/],
    ['pid=abc:refused>0', /scope 'pid=abc': bad PID 'abc'/],
    ['pid=:refused>0', /no PID given/],
    ['comm=:refused>0', /no command name given/],
    ['pid=1:lost>0', /lost is host-wide: it takes no pid= scope/],
    ['refused>1 junk', /unexpected 'junk'|unit 'junk'/],
    ['refused>1\u001b[2J', /\\u001b/],
  ];
  for (const [input, re] of cases) {
    assert.throws(() => parseAlert(input), (e: unknown) => {
      assert.ok(e instanceof AlertSyntaxError, `${input}: ${String(e)}`);
      assert.match(e.message, re, input);
      assert.ok(!e.message.includes('\n'), `one line: ${input}`);
      assert.ok(!/\u001b/.test(e.message), `no raw escape: ${input}`);
      return true;
    });
  }
});

test('grammar: the CLI names the option and the condition (a UsageError, exit 2)', () => {
  assert.throws(() => parseConditionOption(['lost>0', 'nope>1'], '--alert'), (e: Error & { exitCode?: number }) => {
    assert.equal(e.message, `--alert 'nope>1': unknown metric 'nope' (metrics: ${METRIC_NAMES.join(', ')})`);
    assert.equal(e.exitCode, 2);
    return true;
  });
  assert.deepEqual(parseConditionOption(undefined, '--alert'), []);
  assert.equal(parseConditionOption('refused>0', '--trigger')[0].metric.name, 'refused');
});

// ------------------------------------------------------------------------------------ evaluator

function model(): SocketModel {
  return new SocketModel({ users });
}

/** `n` refused connects of pid/comm at `ts`. */
function refused(pid: number, comm: string, n: number, ts: number, first = 0): Uint8Array[] {
  const out: Uint8Array[] = [];
  for (let i = 0; i < n; i++) {
    const sock = kernelSock(first + i + 1);
    const tuple = { laddr: '127.0.0.1', lport: 40000 + first + i, raddr: '127.0.0.1', rport: 9 };
    out.push(makeRecord({ kind: K.Socket, pid, comm, sock, ts_ns: ts }));
    out.push(makeRecord({ kind: K.ConnectStart, pid, comm, sock, ts_ns: ts + 1, ...tuple }));
    out.push(makeRecord({ kind: K.Connect, pid, comm, sock, ts_ns: ts + 2, error: ECONNREFUSED, ...tuple }));
    out.push(makeRecord({ kind: K.Close, pid, comm, sock, ts_ns: ts + 3, ...tuple }));
  }
  return out;
}

/** refresh at `now`, evaluate. */
function tick(ev: AlertEvaluator, m: SocketModel, now: number, drops: number[] = [0, 0, 0, 0]) {
  m.refresh(now);
  return ev.evaluate(m, { drops }, now);
}

test('evaluator: a rate fires once per crossing with its value, and clears', () => {
  const m = model();
  const ev = new AlertEvaluator(parseAlerts(['refused>10/s']), 5);
  assert.deepEqual(tick(ev, m, T0), []);
  feed(m, refused(100, 'client', 60, T0 + 100 * MS)); // 60 in the 5 s window: 12/s
  const fired = tick(ev, m, T0 + SEC);
  assert.equal(fired.length, 1);
  assert.equal(fired[0].state, 'firing');
  assert.equal(fired[0].value, 12);
  assert.equal(fired[0].tsNs, T0 + SEC);
  // Still above: no new event, the status says firing.
  for (let s = 2; s <= 5; s++) assert.deepEqual(tick(ev, m, T0 + s * SEC), [], `second ${s}`);
  assert.equal(ev.statuses[0].state, 'firing');
  assert.equal(ev.statuses[0].fired, 1);
  // The burst leaves the window (5 s after the tick that counted it): cleared, once.
  const cleared = tick(ev, m, T0 + 6 * SEC);
  assert.deepEqual(cleared.map((t) => [t.state, t.value]), [['cleared', 0]]);
  assert.deepEqual(tick(ev, m, T0 + 7 * SEC), []);
  // A second crossing fires again.
  feed(m, refused(100, 'client', 55, T0 + 7500 * MS, 100));
  assert.deepEqual(tick(ev, m, T0 + 8 * SEC).map((t) => [t.state, t.value]), [['firing', 11]]);
  assert.equal(ev.statuses[0].fired, 2);
  assert.ok(ev.anyFired);
});

test('evaluator: below the threshold never fires; counts without /s compare the window total', () => {
  const m = model();
  const ev = new AlertEvaluator(parseAlerts(['refused>10/s', 'refused>49', 'connect_fail>=50', 'connects>0']), 5);
  feed(m, refused(7, 'c', 50, T0)); // 10/s: not > 10
  const t = tick(ev, m, T0 + SEC);
  assert.deepEqual(t.map((x) => [x.rule.text, x.state, x.value]), [
    ['refused>49', 'firing', 50], ['connect_fail>=50', 'firing', 50], ['connects>0', 'firing', 50],
  ]);
  assert.equal(ev.statuses[0].state, 'ok');
  assert.equal(ev.statuses[0].value, 10);
});

test('evaluator: a scope counts only its processes; a process that goes does not make totals go back', () => {
  const m = new SocketModel({ users, exitedTtlSec: 1 });
  const ev = new AlertEvaluator(parseAlerts(['comm=curl:refused>0', 'pid=7:refused>0', 'refused>20']), 5);
  feed(m, refused(7, 'python3', 15, T0));
  let t = tick(ev, m, T0 + SEC);
  assert.deepEqual(t.map((x) => [x.rule.text, x.value]), [['pid=7:refused>0', 15]]);
  // pid 7 exits and ages out of the model; another process refuses 10 more: 25 in the window.
  feed(m, [makeRecord({ kind: K.Exit, pid: 7, comm: 'python3', ts_ns: T0 + SEC + 1 })]);
  tick(ev, m, T0 + 2 * SEC);
  tick(ev, m, T0 + 3 * SEC);
  assert.equal(m.process(7), undefined, 'aged out');
  feed(m, refused(8, 'curl', 10, T0 + 3500 * MS, 100));
  t = tick(ev, m, T0 + 4 * SEC);
  assert.deepEqual(t.map((x) => [x.rule.text, x.state, x.value]), [['comm=curl:refused>0', 'firing', 10], ['refused>20', 'firing', 25]]);
});

test('evaluator: lost counts every drop stage, host-wide', () => {
  const m = model();
  const ev = new AlertEvaluator(parseAlerts(['lost>0']), 5);
  assert.deepEqual(tick(ev, m, T0), []);
  const d = [0, 0, 0, 0];
  d[DropStage.BpfRing] = 3;
  d[DropStage.SharedRing] = 4;
  assert.deepEqual(tick(ev, m, T0 + SEC, d).map((x) => [x.state, x.value]), [['firing', 7]]);
  assert.deepEqual(tick(ev, m, T0 + 2 * SEC, d), [], 'the same totals: nothing new');
  assert.deepEqual(tick(ev, m, T0 + 7 * SEC, d).map((x) => x.state), ['cleared']);
});

test('evaluator: a percentile nobody has is no data, never firing; the worst process in scope counts', () => {
  const m = model();
  const ev = new AlertEvaluator(parseAlerts(['accept_p99>100ms', 'connect_p99>1ms', 'comm=fast:connect_p99>1ms']), 5);
  let t = tick(ev, m, T0);
  assert.deepEqual(t.map((x) => [x.rule.text, x.state, x.value]), [
    ['accept_p99>100ms', 'no_data', null], ['connect_p99>1ms', 'no_data', null], ['comm=fast:connect_p99>1ms', 'no_data', null],
  ]);
  assert.deepEqual(tick(ev, m, T0 + SEC), [], 'no data is said once');
  const conn = (pid: number, comm: string, n: number, lat: number) => {
    const sock = kernelSock(500 + n);
    const tuple = { laddr: '127.0.0.1', lport: 41000 + n, raddr: '127.0.0.1', rport: 80 };
    return [
      makeRecord({ kind: K.Socket, pid, comm, sock, ts_ns: T0 + SEC }),
      makeRecord({ kind: K.ConnectStart, pid, comm, sock, ts_ns: T0 + SEC + 1, ...tuple }),
      makeRecord({ kind: K.Connect, pid, comm, sock, ts_ns: T0 + SEC + lat, duration_ns: lat, ...tuple }),
    ];
  };
  feed(m, [...conn(1, 'fast', 1, 100_000), ...conn(2, 'slow', 2, 50 * MS)]);
  t = tick(ev, m, T0 + 2 * SEC);
  assert.deepEqual(t.map((x) => [x.rule.text, x.state]), [['connect_p99>1ms', 'firing']]);
  assert.ok(t[0].value! > 40 && t[0].value! < 60, `worst p99 in ms: ${t[0].value}`);
  assert.equal(ev.statuses[0].state, 'no_data', 'accept latency: not measured by the model yet');
  assert.equal(ev.statuses[2].state, 'ok');
});

test('evaluator: gauges compare the level now (sockets_open, listen, opens)', () => {
  const m = model();
  const ev = new AlertEvaluator(parseAlerts(['sockets_open>=2', 'listen>0', 'opens>=3']), 5);
  const recs = [0, 1, 2].map((i) => makeRecord({ kind: K.Socket, pid: 5, comm: 's', sock: kernelSock(i + 1), ts_ns: T0 }));
  recs.push(makeRecord({ kind: K.Listen, pid: 5, comm: 's', sock: kernelSock(1), ts_ns: T0, laddr: '0.0.0.0', lport: 80 }));
  recs.push(makeRecord({ kind: K.Close, pid: 5, comm: 's', sock: kernelSock(3), ts_ns: T0 + 1 }));
  feed(m, recs);
  assert.deepEqual(tick(ev, m, T0 + SEC).map((x) => [x.rule.text, x.value]), [['sockets_open>=2', 2], ['listen>0', 1], ['opens>=3', 3]]);
});

// ------------------------------------------------------------------------------------ formats

test('format: the JSON line, the batch line and the header status', () => {
  const m = model();
  const ev = new AlertEvaluator(parseAlerts(['refused>10/s', 'accept_p99>100ms']), 5);
  feed(m, refused(100, 'client', 60, T0));
  const t = tick(ev, m, T0 + SEC);
  assert.equal(alertJsonLine(t[0]),
    `{"type":"alert","alert":"refused>10/s","state":"firing","value":12,"unit":"/s","threshold":10,"ts_ns":${T0 + SEC}}`);
  assert.deepEqual(JSON.parse(alertJsonLine(t[1])), {
    type: 'alert', alert: 'accept_p99>100ms', state: 'no_data', value: null, unit: 'ms', threshold: 100, ts_ns: T0 + SEC,
  });
  assert.equal(alertTextLine(t[0]), 'ALERT refused>10/s firing: 12/s');
  assert.equal(alertTextLine(t[1]), 'ALERT accept_p99>100ms no data');
  assert.equal(statusText(ev.statuses[0]), 'refused>10/s FIRING 12/s');
  // A hostile scope name stays one safe line.
  const hostile = parseAlert('comm=a\u009b\u007f"x:resets>0');
  const line = alertJsonLine({ rule: hostile, state: 'firing', value: 1, tsNs: 1 });
  assert.ok(!/[\u007f-\u009f]/.test(line));
  assert.equal(JSON.parse(line).alert, 'comm=a\u009b\u007f"x:resets>0');
});

// ------------------------------------------------------------------------------------ record clock

test('record clock: ticks on the records own time; the same result at any speed', () => {
  const c = new RecordClockAlerts(parseAlerts(['refused>0']), SEC);
  const records = [
    makeRecord({ kind: K.Socket, pid: 1, comm: 'x', sock: kernelSock(900), ts_ns: T0 }),
    ...refused(3, 'c', 4, T0 + 2500 * MS),
    makeRecord({ kind: K.Socket, pid: 1, comm: 'x', sock: kernelSock(901), ts_ns: T0 + 3200 * MS }),
    makeRecord({ kind: K.Socket, pid: 1, comm: 'x', sock: kernelSock(902), ts_ns: T0 + 12 * SEC }),
  ];
  const { view, offsets } = pack(records);
  const seen: string[] = [];
  for (const off of offsets) for (const t of c.ingest(view, off) ?? []) seen.push(`${t.state}@${(t.tsNs - T0) / SEC}=${t.value}`);
  // Fired at the first tick after the refused connects (3 s), cleared 5 s later (8 s).
  assert.deepEqual(seen, ['firing@3=4', 'cleared@8=0']);
  assert.deepEqual(c.finish(), []);
  assert.ok(c.evaluator.anyFired);
});

// ------------------------------------------------------------------------------------ memory ring

test('memory ring: keeps the window by record time, counts what its byte cap let go inside it', () => {
  const batch = (ts: number, n = 2) => pack(refused(1, 'c', n, ts)).bytes; // 4 records per connect
  const size = batch(T0).length; // 8 records
  const aging = new MemoryRing(2 * SEC, 100 * size);
  for (let s = 0; s <= 3; s++) aging.push(batch(T0 + s * SEC), 8);
  assert.equal(aging.records, 24, 'the batch older than the 2 s window went');
  assert.equal(aging.evictedRecords, 0, 'ageing out is no loss');

  const ring = new MemoryRing(10 * SEC, 3 * size);
  for (let s = 0; s <= 2; s++) ring.push(batch(T0 + s * SEC), 8);
  assert.equal(ring.evictedRecords, 0);
  ring.push(batch(T0 + 3 * SEC, 1), 4); // over the cap: the T0 batch goes while inside the window
  assert.equal(ring.evictedRecords, 8);
  assert.equal(ring.records, 20);
  assert.equal(ring.evictedSince(T0 - SEC), 8);
  assert.equal(ring.evictedSince(T0 + SEC), 0);
  assert.deepEqual(ring.since(T0 + 1500 * MS).map((b) => b.count), [8, 4]);
  ring.clear();
  assert.equal(ring.bytes, 0);
});

// ------------------------------------------------------------------------------------ the CLI

const MAIN = path.resolve(__dirname, '../../src/cli/main.js');
const SAMPLE = path.resolve(__dirname, '../../../samples/demo.socktop');

test('CLI: --alert repeats; record --trigger and its options are checked', async () => {
  const p = (await parseCli(['-b', '--alert', 'refused>10/s', '--alert', 'comm=nginx:resets>0']))!;
  assert.deepEqual(p.options.alerts.map((r) => r.text), ['refused>10/s', 'comm=nginx:resets>0']);
  const r = (await parseCli(['replay', 'f.socktop', '--alert', 'lost>0']))!;
  assert.equal(r.options.alerts[0].metric.name, 'lost');
  assert.deepEqual(rotationOrTrigger({ trigger: 'refused>0', before: 2, after: 3 }), {
    trigger: { conditions: ['refused>0'], beforeSec: 2, afterSec: 3, maxBytes: 64e6, files: 1 },
  });
  assert.equal(rotationOrTrigger({ trigger: ['refused>0', 'lost>0'], W: 4, 'ring-mb': 8 }).trigger?.files, 4);
  const bad: Array<[CliArgs, RegExp]> = [
    [{ before: 2 }, /^--before goes with --trigger COND$/],
    [{ trigger: 'refused>0', C: 1 }, /-C\/-G \(rotation\) do not go with --trigger/],
    [{ trigger: 'refused>0', before: -1 }, /--before: '-1' is not a number of seconds/],
    [{ trigger: 'refused>0', 'ring-mb': 0 }, /--ring-mb: '0' is not a size/],
    [{ trigger: 'refused>0', W: 0 }, /-W: '0' is not a file count/],
    [{ trigger: 'refused>>0' }, /^--trigger 'refused>>0': expected a number after '>', got '>0'$/],
  ];
  for (const [argv, re] of bad) assert.throws(() => rotationOrTrigger(argv), (e: Error) => re.test(e.message) && e instanceof UsageError);
});

test('the program: a bad --alert is one line on stderr, exit 2, no stack', () => {
  const r = spawnSync(process.execPath, [MAIN, '-b', '--alert', 'refused>10/x'], { encoding: 'utf8' });
  assert.equal(r.status, 2);
  assert.equal(r.stderr, "socktop: --alert 'refused>10/x': unexpected '/x' after the number (only a unit such as ms, or /s, may follow)\n");
});

test('the program: replay -b and --json apply --alert, exit 3 when one fired, 0 when none did', () => {
  const batch = spawnSync(process.execPath, [MAIN, 'replay', SAMPLE, '--speed', '0', '-b', '-n', '1', '-d', '0.2',
    '--alert', 'connects>0', '--alert', 'connects>1000000'], { encoding: 'utf8' });
  assert.equal(batch.status, 3, batch.stderr);
  assert.match(batch.stdout, /^ALERT connects>0 firing: \d+ events$/m);
  assert.ok(!batch.stdout.includes('ALERT connects>1000000'));
  assert.match(batch.stdout, /^Alerts: connects>0 FIRING \d+ events; connects>1000000 ok$/m);

  const json = spawnSync(process.execPath, [MAIN, 'replay', SAMPLE, '--json', '--alert', 'connects>0'], { encoding: 'utf8', maxBuffer: 64 << 20 });
  assert.equal(json.status, 3, json.stderr);
  const lines = json.stdout.trim().split('\n').map((l) => JSON.parse(l));
  const alerts = lines.filter((l) => l.type === 'alert');
  assert.ok(alerts.length >= 1 && alerts[0].state === 'firing' && alerts[0].value > 0, JSON.stringify(alerts));
  // Each firing is followed by its clear before the next firing: once per crossing.
  alerts.forEach((a, i) => assert.equal(a.state, i % 2 === 0 ? 'firing' : 'cleared'));
  // The same run without --alert: the same event lines, nothing else.
  const plain = spawnSync(process.execPath, [MAIN, 'replay', SAMPLE, '--json'], { encoding: 'utf8', maxBuffer: 64 << 20 });
  assert.equal(plain.status, 0);
  assert.equal(plain.stdout, lines.filter((l) => l.type !== 'alert').map((l) => `${JSON.stringify(l)}\n`).join(''));

  const none = spawnSync(process.execPath, [MAIN, 'replay', SAMPLE, '--json', '--alert', 'connects>1000000'], { encoding: 'utf8', maxBuffer: 64 << 20 });
  assert.equal(none.status, 0);
  assert.ok(!none.stdout.includes('"type":"alert"'));
});

test('TUI header: the alert line, firing first, coloured by the theme, plain under NO_COLOR', () => {
  const m = model();
  const ev = new AlertEvaluator(parseAlerts(['lost>0', 'refused>10/s', 'accept_p99>100ms']), 5);
  feed(m, refused(100, 'client', 60, T0));
  tick(ev, m, T0 + SEC);
  assert.equal(alertLine(ev.statuses, new Theme(false), 200),
    '{bold}alerts{/bold} (1 firing):{bold}  refused>10/s FIRING 12/s{/bold}  accept_p99>100ms no data  lost>0 ok');
  assert.match(alertLine(ev.statuses, new Theme(true), 200), /\{red-fg\}\s*refused>10\/s FIRING 12\/s\{\/red-fg\}/);
  assert.match(alertLine(ev.statuses, new Theme(false), 56), /refused>10\/s FIRING 12\/s\{\/bold\}  \+2 more$/);
});
