/**
 * results.ts: host side of the VM test's result port. Parses what guest.ts wrote on the guest's
 * second serial port (run.sh saves it as results.serial in its output directory), and the timings
 * run.sh wrote (host.json).
 */
import * as fs from 'fs';
import * as path from 'path';
import type { BackendSummary } from './summarize';

export interface CheckResult {
  code: number | null;
  stdout: string;
  stderr: string;
  json: unknown;
  ms: number;
}

export interface BackendResult {
  probe: string;
  attachMs?: number;
  attachedLine?: string;
  trafficMs?: number;
  stopMs?: number;
  exitCode?: number | null;
  stderr?: string;
  summary?: BackendSummary;
  error?: string;
  totalMs: number;
}

export interface VmResults {
  begin: { kernel: string; uptime: number; cpus: number; node: string; N: number; M: number; probes: string[] } | null;
  check: CheckResult | null;
  backends: BackendResult[];
  end: { guestMs?: number; uptime?: number; error?: string } | null;
  /** Raw --json events per probe (when the guest sent them). */
  events: Record<string, string[]>;
  host: { bootSeconds: number; totalSeconds: number; kernel: string; N: number; M: number } | null;
}

export function parseSerial(text: string): VmResults {
  const res: VmResults = { begin: null, check: null, backends: [], end: null, events: {}, host: null };
  let rawProbe: string | null = null;
  for (const line of text.replace(/\r/g, '').split('\n')) {
    if (rawProbe !== null) {
      if (line === `SOCKTOP_VM_EVENTS_END ${rawProbe}`) rawProbe = null;
      else if (line.trim()) res.events[rawProbe].push(line);
      continue;
    }
    const m = /^(SOCKTOP_VM_[A-Z_]+) (.*)$/.exec(line);
    if (!m) continue;
    const [, tag, rest] = m;
    if (tag === 'SOCKTOP_VM_EVENTS_BEGIN') {
      rawProbe = rest.trim();
      res.events[rawProbe] = [];
      continue;
    }
    let payload: any;
    try {
      payload = JSON.parse(rest);
    } catch {
      continue; // a line cut short (the guest died mid-write): reported as missing
    }
    if (tag === 'SOCKTOP_VM_BEGIN') res.begin = payload;
    else if (tag === 'SOCKTOP_VM_CHECK') res.check = payload;
    else if (tag === 'SOCKTOP_VM_RESULT') res.backends.push(payload);
    else if (tag === 'SOCKTOP_VM_END') res.end = payload;
  }
  return res;
}

/** Read an output directory of run.sh; also saves results.json and events-<probe>.jsonl there. */
export function loadResults(outDir: string): VmResults {
  const serial = path.join(outDir, 'results.serial');
  if (!fs.existsSync(serial)) throw new Error(`no ${serial}: did test/vm/run.sh run?`);
  const res = parseSerial(fs.readFileSync(serial, 'utf8'));
  const hostFile = path.join(outDir, 'host.json');
  if (fs.existsSync(hostFile)) res.host = JSON.parse(fs.readFileSync(hostFile, 'utf8'));
  for (const [probe, lines] of Object.entries(res.events)) {
    fs.writeFileSync(path.join(outDir, `events-${probe}.jsonl`), lines.join('\n') + '\n');
  }
  const { events: _events, ...rest } = res;
  void _events;
  fs.writeFileSync(path.join(outDir, 'results.json'), JSON.stringify(rest, null, 2) + '\n');
  return res;
}
