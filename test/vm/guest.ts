/**
 * guest.ts: runs INSIDE the VM test's guest (test/vm/run.sh boots it; /init starts it from
 * /socktop). For each backend it does what test/live/lifecycle.test.ts does on the host, with the
 * same helpers: start `socktop --json --probe X`, wait for "attached", run the traffic fixture,
 * wait, stop with SIGINT; then it summarizes the events (summarize.ts) and writes one result line
 * per backend to the result port ($SOCKTOP_VM_RESULTS, the second serial port), between markers.
 * The host checks the results (checks.ts). Human-readable progress goes to the console (stdout).
 */
import { spawn } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { CLI, closedPort, parseJsonLines, runNode, startSocktop } from '../live/socktop-run';
import { summarize } from './summarize';

const N = Number(process.env.SOCKTOP_VM_N ?? 5);
const M = Number(process.env.SOCKTOP_VM_M ?? 3000);
const PROBES = (process.env.SOCKTOP_VM_PROBES ?? 'cgroup kprobe auto tracepoint').split(/\s+/).filter(Boolean);
const RAW = process.env.SOCKTOP_VM_RAW !== '0';
const SETTLE_MS = Number(process.env.SOCKTOP_VM_SETTLE_MS ?? 500); // as lifecycle.test.ts
const ATTACH_TIMEOUT_MS = 120000; // emulated CPUs verify and attach more slowly than the host
const TRAFFIC = path.resolve(__dirname, '../live/fixtures/traffic.js');

const out = process.env.SOCKTOP_VM_RESULTS ? fs.openSync(process.env.SOCKTOP_VM_RESULTS, 'w') : 1;
const emit = (tag: string, payload: unknown) => fs.writeSync(out, `${tag} ${JSON.stringify(payload)}\n`);
const say = (msg: string) => process.stdout.write(`GUEST: ${msg}\n`);
const uptime = () => Number(fs.readFileSync('/proc/uptime', 'utf8').split(' ')[0]);
const ms = (t0: number) => Math.round(performance.now() - t0);
const sleep = (n: number) => new Promise((r) => setTimeout(r, n));
const TRAFFIC_TIMEOUT_MS = 60000;
const STOP_TIMEOUT_MS = 20000;

/** p, or a rejection after timeoutMs (the guest must report, not hang until the host's limit). */
function within<T>(p: Promise<T>, timeoutMs: number, what: string, onTimeout?: () => void): Promise<T> {
  let timer: NodeJS.Timeout;
  const t = new Promise<never>((_, reject) => {
    timer = setTimeout(() => { onTimeout?.(); reject(new Error(`${what} took more than ${timeoutMs} ms`)); }, timeoutMs);
  });
  return Promise.race([p, t]).finally(() => clearTimeout(timer));
}

/** Run the CLI with args to completion (bounded). */
function cli(args: string[], timeoutMs = 60000): Promise<{ code: number | null; stdout: string; stderr: string; ms: number }> {
  const t0 = performance.now();
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [CLI, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d) => (stderr += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('error', (e) => { stderr += String(e); });
    child.on('close', (code) => { clearTimeout(timer); resolve({ code, stdout, stderr, ms: ms(t0) }); });
  });
}

async function check(): Promise<void> {
  const r = await cli(['check']);
  let json: unknown = null;
  try { json = JSON.parse(r.stdout); } catch { json = null; } // a text report (today), or JSON
  say(`socktop check (${r.ms} ms, exit ${r.code}):`);
  for (const line of (r.stdout + r.stderr).trimEnd().split('\n')) say(`  | ${line}`);
  emit('SOCKTOP_VM_CHECK', { code: r.code, stdout: r.stdout, stderr: r.stderr, json, ms: r.ms });
}

async function runBackend(probe: string): Promise<void> {
  const t0 = performance.now();
  const result: Record<string, unknown> = { probe };
  let events: Array<Record<string, any>> = [];
  try {
    const socktop = await startSocktop(['--json', '--probe', probe], ATTACH_TIMEOUT_MS);
    result.attachMs = ms(t0);
    result.attachedLine = socktop.stderr().split('\n').find((l) => /attached/.test(l)) ?? '';
    say(`--probe ${probe}: attached after ${result.attachMs} ms: ${result.attachedLine}`);
    let traffic: any;
    try {
      const t1 = performance.now();
      const stdout = await within(runNode(TRAFFIC, ['server', String(N), String(M), String(await closedPort())]), TRAFFIC_TIMEOUT_MS, 'the traffic fixture');
      traffic = JSON.parse(stdout.trim());
      result.trafficMs = ms(t1);
      await sleep(SETTLE_MS);
    } finally {
      const t2 = performance.now();
      try {
        result.exitCode = await within(socktop.stop('SIGINT'), STOP_TIMEOUT_MS, 'socktop stopping on SIGINT',
          () => socktop.child.kill('SIGKILL'));
        result.stopMs = ms(t2);
      } finally {
        result.stderr = socktop.stderr().slice(-4000);
      }
    }
    events = parseJsonLines(socktop.stdout());
    result.summary = summarize(events, traffic, N, M);
    say(`--probe ${probe}: ${events.length} events, traffic ${result.trafficMs} ms, stop ${result.stopMs} ms, socktop exit ${result.exitCode}`);
  } catch (e) {
    result.error = (e as Error).message;
    say(`--probe ${probe}: ERROR ${(e as Error).message}`);
  }
  result.totalMs = ms(t0);
  emit('SOCKTOP_VM_RESULT', result);
  if (RAW && events.length) {
    fs.writeSync(out, `SOCKTOP_VM_EVENTS_BEGIN ${probe}\n`);
    for (const e of events) fs.writeSync(out, JSON.stringify(e) + '\n');
    fs.writeSync(out, `SOCKTOP_VM_EVENTS_END ${probe}\n`);
  }
}

async function main(): Promise<void> {
  const t0 = performance.now();
  emit('SOCKTOP_VM_BEGIN', { kernel: os.release(), uptime: uptime(), cpus: os.cpus().length, node: process.version, N, M, probes: PROBES });
  await check();
  for (const probe of PROBES) await runBackend(probe);
  emit('SOCKTOP_VM_END', { guestMs: ms(t0), uptime: uptime() });
}

main().catch((e) => {
  say(`guest.js failed: ${e?.stack ?? e}`);
  emit('SOCKTOP_VM_END', { error: String(e?.message ?? e) });
  process.exitCode = 1;
});
