/**
 * Helpers for live tests of the addon and the capture worker: the fixture BPF object
 * (native/test-fixtures, built on demand into dist/native-fixtures), skip-or-fail options like
 * bpf-available.ts, and kernel program lookups.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { execFileSync, spawnSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { nativeAddonPath } from '../../src/capture/addon';
import { parsePrivileges, VMLINUX_BTF } from '../../src/capture/kernel';

const BUILD_SCRIPT = path.resolve(__dirname, '../../../native/test-fixtures/build.sh');

let fixtureOut: string | null = null;
let fixtureError: string | null = null;

/** Directory holding fixture.bpf.o and broken.bpf.o (built once per process). */
export function fixtureDir(): string {
  if (fixtureOut === null && fixtureError === null) {
    try {
      fixtureOut = execFileSync(BUILD_SCRIPT, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }).trim();
    } catch (e) {
      fixtureError = `cannot build the BPF test fixture: ${String((e as { stderr?: string }).stderr ?? e).split('\n')[0]}`;
    }
  }
  if (fixtureOut === null) throw new Error(fixtureError ?? 'fixture not built');
  return fixtureOut;
}

export const fixtureObject = (): string => path.join(fixtureDir(), 'fixture.bpf.o');
export const brokenObject = (): string => path.join(fixtureDir(), 'broken.bpf.o');

function privileged(): boolean {
  try {
    return parsePrivileges(fs.readFileSync('/proc/self/status', 'utf8')).sufficient;
  } catch {
    return false;
  }
}

/** Why BPF tests cannot run here (not privileged, no BTF, addon or fixture missing), or null. */
export function fixtureUnavailableReason(): string | null {
  if (!privileged()) return 'not root (needs root or CAP_BPF+CAP_PERFMON)';
  if (!fs.existsSync(VMLINUX_BTF)) return 'no kernel BTF';
  if (!fs.existsSync(nativeAddonPath())) return `native addon not built (${nativeAddonPath()})`;
  try {
    fixtureDir();
  } catch (e) {
    return (e as Error).message;
  }
  return null;
}

/** node:test options: skip with the reason, or throw when SOCKTOP_REQUIRE_BPF=1. */
export function fixtureTestOptions(extra: { timeout?: number } = {}): { skip?: string; timeout?: number } {
  const reason = fixtureUnavailableReason();
  if (!reason) return { timeout: 30000, ...extra };
  if (process.env.SOCKTOP_REQUIRE_BPF === '1') {
    throw new Error(`SOCKTOP_REQUIRE_BPF=1 but live BPF tests cannot run: ${reason}`);
  }
  return { skip: `BPF unavailable: ${reason}` };
}

/** Whether the kernel still has a BPF program with this id. */
export function programExists(id: number): boolean {
  return spawnSync('bpftool', ['prog', 'show', 'id', String(id)], { stdio: 'ignore' }).status === 0;
}

/** The ids in `ids` that the kernel still has (empty when all are gone). */
export function programsStillLoaded(ids: number[]): number[] {
  return ids.filter(programExists);
}

export { sleep };

/** Poll `cond` every 20 ms until it is true or `timeoutMs` passed; returns its last value. */
export async function waitFor(cond: () => boolean, timeoutMs: number): Promise<boolean> {
  const end = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > end) return false;
    await sleep(20);
  }
  return true;
}

export function ownComm(): string {
  return fs.readFileSync('/proc/self/comm', 'utf8').trim();
}
