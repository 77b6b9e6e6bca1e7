/**
 * bench/storm/socktop-exporter.ts: the storm's exporter mode (--modes exporter): the real
 * `socktop exporter --probe P --listen 127.0.0.1:0` on the load, measured from outside the way the
 * other CLI modes are (bench/storm/socktop-cli.ts).
 *
 *   Attached:   its stderr lines "socktop: attached ..." and "exporter serving http://ADDR/metrics"
 *               (port 0: the port it bound, read from that line).
 *   Caught up:  after the load, GET /metrics every POLL_MS until the load's counters (connects,
 *               accepts, closes of loadgen's comms) stop growing for QUIET_MS. The CPU mark is read
 *               just before the scrape that last saw them grow, so the polls after it are not
 *               counted (the ones before it are: a real Prometheus scrapes too).
 *   Seen:       the scraped counters of loadgen's client and server comms (lg-client, lg-server),
 *               minus a scrape just before the load: socktop_connects_total{result="ok"|"refused"},
 *               socktop_accepts_total, socktop_closes_total. Counters per comm, not per port (the
 *               load runs in its own network namespace), checked against the per-process truth:
 *               lg-server's closes include its listener's (load-events.ts processTruth).
 *   Drops:      socktop_events_lost_total by stage, from the last scrape.
 *   Scrape:     one timed GET /metrics once caught up (ms to the last byte, bytes, series).
 *
 * CPU: utime+stime from just before the load to the caught-up mark, / the load's wall time; peak
 * RSS: VmHWM after the last scrape, just before SIGINT.
 */
import { spawn } from 'node:child_process';
import * as path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { type Sample, countSeries, parseExposition, scrape, sumOf } from '../exposition';
import { trackChild } from './cleanup';
import { peakRssMB, procCpuMs, progIdsOf } from './host';
import { type LoadEvents, type LoadTruth, CATEGORIES, missingEvents, truthFor } from './load-events';
import { runLoad } from './load';
import { log } from './log';
import { CLI_MAIN, ROOT } from './paths';
import { type CliResult, type CliRunOptions, CliProcess, waitAttached } from './socktop-cli';
import type { ToolRun } from './socktop-run';

const POLL_MS = 250;
const QUIET_MS = 1000;
const MAX_CATCH_UP_MS = 10000;

/** loadgen's process names (bench/loadgen.c child_setup; its JSON repeats them). */
export interface LoadComms { client: string; server: string }
const LOADGEN_COMMS: LoadComms = { client: 'lg-client', server: 'lg-server' };

/** The load's events as the exporter's counters hold them. */
export function scrapedLoadEvents(s: Sample[], c: LoadComms): LoadTruth {
  return {
    connectsOk: sumOf(s, 'socktop_connects_total', { comm: c.client, result: 'ok' }),
    refused: sumOf(s, 'socktop_connects_total', { comm: c.client, result: 'refused' }),
    accepts: sumOf(s, 'socktop_accepts_total', { comm: c.server }),
    clientCloses: sumOf(s, 'socktop_closes_total', { comm: c.client }),
    serverCloses: sumOf(s, 'socktop_closes_total', { comm: c.server }),
  };
}

/** Drops per stage: socktop_events_lost_total{stage}. */
export function scrapedDrops(s: Sample[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const x of s) if (x.name === 'socktop_events_lost_total') out[x.labels.stage ?? 'unknown'] = x.value;
  return out;
}

const total = (e: LoadTruth): number => CATEGORIES.reduce((a, c) => a + e[c], 0);

/** Wait for the "exporter serving http://ADDR/metrics" line; the URL of /metrics. */
async function waitServing(p: CliProcess): Promise<string> {
  const serving = (): RegExpExecArray | null => /exporter serving (http:\/\/\S+\/metrics)/.exec(p.stderr);
  const until = Date.now() + 10000;
  while (!serving() && p.running && Date.now() < until) await sleep(10);
  const m = serving();
  if (!m) throw new Error(`socktop exporter printed no "serving" line: ${p.lastLines(2).slice(0, 300)}`);
  return m[1];
}

/** Scrape until the load's counters stop growing; the CPU and time of the last scrape that saw them grow. */
async function waitScrapedCaughtUp(url: string, pid: number, comms: LoadComms): Promise<{ cpuMs: number; at: number; scrapes: number }> {
  let last = -1;
  let mark = { cpuMs: procCpuMs(pid), at: Date.now() };
  let scrapes = 0;
  const until = Date.now() + MAX_CATCH_UP_MS;
  while (Date.now() < until && Date.now() - mark.at < QUIET_MS) {
    const cpuMs = procCpuMs(pid);
    const at = Date.now();
    const n = total(scrapedLoadEvents(parseExposition((await scrape(url)).body), comms));
    scrapes++;
    if (n !== last) mark = { cpuMs, at };
    last = n;
    await sleep(POLL_MS);
  }
  return { ...mark, scrapes };
}

/** `after - before` per category. */
function minus(after: LoadTruth, before: LoadTruth): LoadTruth {
  const out = { ...after };
  for (const c of CATEGORIES) out[c] -= before[c];
  return out;
}

/** LoadEvents (the other modes' shape) from the scraped counters: lines = series, loadLines = the load's series. */
function asLoadEvents(seen: LoadTruth, samples: Sample[], comms: LoadComms, backend: string | null): LoadEvents {
  const own = samples.filter((s) => s.labels.comm === comms.client || s.labels.comm === comms.server).length;
  return {
    ...seen, duplicateCloses: 0, dropRecords: {}, lines: samples.length, loadLines: own, backends: backend ? { [backend]: 1 } : {},
  };
}

/** One run of `socktop exporter` on the load. */
export async function runExporterCli(probe: string, rate: number, o: CliRunOptions): Promise<CliResult> {
  const args = [CLI_MAIN, 'exporter', '--probe', probe, '--listen', '127.0.0.1:0'];
  const command = `node ${[...o.nodeFlags, path.relative(ROOT, args[0])].join(' ')} ${args.slice(1).join(' ')}`;
  const t0 = Date.now();
  const child = spawn(process.execPath, [...o.nodeFlags, ...args], { stdio: ['ignore', 'ignore', 'pipe'] });
  trackChild(child);
  const p = new CliProcess(child);
  try {
    const attached = await waitAttached('exporter', p);
    const url = await waitServing(p);
    const attachWallMs = Date.now() - t0;
    await sleep(500); // as for the others: let the start settle
    const progIds = progIdsOf(p.pid);
    const comms = LOADGEN_COMMS;
    const before = scrapedLoadEvents(parseExposition((await scrape(url)).body), comms);

    const cpu0 = procCpuMs(p.pid);
    const load = await runLoad(rate, o.load);
    const loadEnd = Date.now();
    const caught = await waitScrapedCaughtUp(url, p.pid, comms);
    const last = await scrape(url);
    const rssMB = peakRssMB(p.pid);
    child.kill('SIGINT');
    await Promise.race([p.exited, sleep(60000)]);
    if (p.running) throw new Error('socktop exporter did not stop within 60 s of SIGINT');

    const gtComms = { client: String(load.gt.client_comm ?? comms.client), server: String(load.gt.server_comm ?? comms.server) };
    if (gtComms.client !== comms.client || gtComms.server !== comms.server) {
      throw new Error(`loadgen names its processes ${gtComms.client} / ${gtComms.server}, not ${comms.client} / ${comms.server}`);
    }
    const samples = parseExposition(last.body);
    const labelled = new Set(samples.map((s) => s.labels.comm));
    for (const c of [comms.client, comms.server]) {
      if (!labelled.has(c)) log(`  note: no comm="${c}" series (top-comms full?): its events count under ~other`);
    }
    const seenCounts = minus(scrapedLoadEvents(samples, comms), before);
    const drops = scrapedDrops(samples);
    const lostReported = Object.values(drops).reduce((a, n) => a + n, 0);
    const truth = truthFor('exporter', load.gt);
    const missing = missingEvents(seenCounts, truth);
    const cpuMs = caught.cpuMs - cpu0;
    const tool: ToolRun = { attachWallMs, cpuMs, cpuPctOfCore: (100 * cpuMs) / load.wallMs, pid: p.pid, progIds, peakRssMB: rssMB };
    const series = countSeries(samples);
    return {
      mode: 'exporter', probe, backend: attached.backend, command, load, tool, attachMsReported: attached.attachMsReported,
      exitCode: p.exitCode ?? null, stderrTail: p.stderr.trim().split('\n').slice(-3), drops, lostReported,
      seen: asLoadEvents(seenCounts, samples, comms, attached.backend), truth, missing,
      missingNoDrop: Math.max(0, missing - lostReported), outputBytes: last.bytes, catchUpMs: caught.at - loadEnd, countMs: 0,
      events: { read: sumOf(samples, 'socktop_records_total') },
      scrape: { ms: last.ms, bytes: last.bytes, series: series.all, socktopSeries: series.socktop, pollScrapes: caught.scrapes },
    };
  } finally {
    if (p.running) {
      child.kill('SIGKILL');
      await p.exited;
    }
  }
}
