/**
 * Live capture with the real bpf/socktop.bpf.o on the tracepoint backend, through session.ts:
 * a child process's socket operations arrive in the shared ring with its pid and comm, and the
 * programs are gone after stop() and after the capturing process gets SIGTERM (or SIGKILL).
 * Root only; skips when BPF is unavailable unless SOCKTOP_REQUIRE_BPF=1.
 */
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { ChildProcess, execFile, execFileSync, spawn } from 'child_process';
import * as path from 'path';
import { bpfObjectPath, OpenResult } from '../../src/capture/addon';
import { decodeEvent, EventJson } from '../../src/capture/decode';
import { startCapture } from '../../src/capture/session';
import { liveTestOptions } from './bpf-available';
import { programsStillLoaded, waitFor } from './native-fixture';

const opts = { ...liveTestOptions(), timeout: 30000 };
const TRAFFIC = path.join(__dirname, 'capture-scripts/tcp-traffic.js');
const UNTIL_SIGNAL = path.join(__dirname, 'capture-scripts/capture-until-signal.js');

function runNode(script: string): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(process.execPath, [script], (err, stdout, stderr) => (err ? reject(new Error(stderr || err.message)) : resolve(stdout)));
  });
}

test('a child\'s socket operations arrive with its pid and comm; stop() detaches', opts, async (t) => {
  const session = await startCapture({ backend: 'tracepoint', ringCapacity: 1 << 16 });
  const events: EventJson[] = [];
  let child: { pid: number; comm: string; port: number };
  try {
    assert.equal(session.info.backend, 'tracepoint');
    assert.ok(session.info.programs.length > 0);
    child = JSON.parse((await runNode(TRAFFIC)).trim());
    const collect = (): boolean => {
      session.ring.drain((view, at) => {
        if (view.getUint32(at + 40, true) === child.pid) events.push(decodeEvent(view, at));
      });
      return events.length >= 3;
    };
    await waitFor(collect, 3000);
    await new Promise((r) => setTimeout(r, 300)); // the worker polls on a 50 ms timeout
    collect();
  } finally {
    await session.stop();
  }
  assert.ok(events.length >= 3, `records from the child: ${events.length}`);
  assert.ok(events.every((e) => e.comm === child.comm), `comm ${child.comm}: ${[...new Set(events.map((e) => e.comm))]}`);
  t.diagnostic(`child ${child.pid} (${child.comm}), port ${child.port}: ${events.map((e) => e.kind).join(' ')}`);
  const of = (kind: string): EventJson[] => events.filter((e) => e.kind === kind);
  assert.equal(of('listen').filter((e) => e.lport === child.port).length, 1, 'its listen');
  assert.equal(of('connect').filter((e) => e.rport === child.port && e.error === null).length, 3, 'its connects');
  assert.deepEqual(programsStillLoaded(session.info.programIds), [], 'programs gone after stop()');
});

/** Start a process that captures until a signal; resolves with it and its session info. */
function startCapturingChild(backend: string): Promise<{ child: ChildProcess; info: OpenResult; exited: Promise<number | null> }> {
  const child = spawn(process.execPath, [UNTIL_SIGNAL, bpfObjectPath(), backend], { stdio: ['ignore', 'pipe', 'inherit'] });
  const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
  return new Promise((resolve, reject) => {
    let out = '';
    child.stdout!.setEncoding('utf8').on('data', (d: string) => {
      out += d;
      if (!out.includes('\n')) return;
      const info = JSON.parse(out.split('\n')[0]);
      if (info.error) reject(new Error(`${info.code}: ${info.error}`));
      else resolve({ child, info, exited });
    });
    child.once('exit', (code) => reject(new Error(`capturing child exited early (${code})`)));
  });
}

/** socktop's programs still attached to the cgroup root (`bpftool cgroup show`), by id. */
function cgroupAttached(cgroup: string, ids: number[]): number[] {
  if (!cgroup) return [];
  const out = execFileSync('bpftool', ['-j', 'cgroup', 'show', cgroup], { encoding: 'utf8' });
  const attached = (JSON.parse(out.trim() || '[]') as { id: number }[]).map((p) => p.id);
  return ids.filter((id) => attached.includes(id));
}

for (const [backend, signal] of [['tracepoint', 'SIGTERM'], ['tracepoint', 'SIGKILL'], ['cgroup', 'SIGTERM'], ['cgroup', 'SIGKILL']] as const) {
  test(`a process capturing with --probe ${backend} killed with ${signal} leaves no program or link attached`, opts, async () => {
    const { child, info, exited } = await startCapturingChild(backend);
    if (backend === 'cgroup') {
      assert.ok(cgroupAttached(info.cgroup, info.programIds).length >= 4, 'cgroup programs attached at the root while running');
    }
    assert.deepEqual(programsStillLoaded(info.programIds), info.programIds, 'attached while running');
    child.kill(signal);
    const code = await exited;
    if (signal === 'SIGTERM') assert.equal(code, 0, 'the SIGTERM handler stopped the capture and exited 0');
    // After SIGKILL the kernel drops the programs when the last fd goes; that may take a moment.
    assert.ok(await waitFor(() => programsStillLoaded(info.programIds).length === 0, 2000),
      `still loaded: ${programsStillLoaded(info.programIds)}`);
    assert.deepEqual(cgroupAttached(info.cgroup, info.programIds), [], 'no link left on the cgroup root');
  });
}
