/**
 * bench/storm.ts: a loopback connection storm from bench/loadgen (its counters are the ground
 * truth), without and with socktop attached (in four modes, on the chosen probe backends), and with
 * peer tools on the same load.
 *
 *   node dist/bench/storm.js [--rates 10000,0] [--duration 5] [--reps 1] [--threads 1]
 *        [--sources 64] [--refused-every 10] [--modes tui,json,record,exporter] [--probes auto]
 *        [--peers tcplife,tcpstates,bpftrace,tcplife-bpfcc] [--no-peers] [--no-install]
 *        [--quiet-wait 60] [--out FILE]
 *   node dist/bench/storm.js --report bench/results/storm-DATE.json   (the tables again, no runs)
 *   (npm run bench -- storm ...; root needed)
 *
 * For each rate (0 = as fast as it goes), every run in a fresh network namespace (bench/netns.sh)
 * and bounded in time (--duration seconds of starting connections, then loadgen's grace):
 *   baseline        the load generator alone
 *   socktop[P]      (--modes tui) bench/headless.js --probe P (socktop's capture pipeline as the TUI
 *                   runs it, no screen) attached before the load starts
 *   socktop-json[P] (--modes json) the CLI, `socktop --json --probe P` with stdout to a file in /tmp
 *   socktop-record[P] (--modes record) the CLI, `socktop record -w FILE --probe P`; the load's events
 *                   counted afterwards from `socktop replay FILE --json` (bench/storm/socktop-cli.ts)
 *   socktop-exporter[P] (--modes exporter) the CLI, `socktop exporter --probe P --listen 127.0.0.1:0`;
 *                   the load's events from its scraped counters for loadgen's comms, caught up when
 *                   they stop growing; one timed GET /metrics at the end (bench/storm/socktop-exporter.ts)
 *                   ... once per backend P of --probes (auto, cgroup, kprobe, tracepoint: a list)
 *   tcplife, tcpstates (libbpf-tools), bpftrace (a one-liner counting inet_sock_set_state for
 *                   the load's ports), tcplife-bpfcc (BCC; needs kernel headers: Debian's 6.1
 *                   headers through BCC_KERNEL_SOURCE, skipped with a note if it cannot attach)
 *   baseline        again at the end (the baseline figure is the mean of both; their spread
 *                   shows the machine's noise)
 * With --reps N the whole sequence (opening baseline, socktop modes, peers) runs N times per rate,
 * and the comparison table gives medians with min-max over the reps.
 * Missing peers are installed with apt-get (--no-install: skipped instead).
 *
 * Ground truth per run: loadgen's JSON (connects ok / refused, accepts). The load uses fixed ports
 * (server 5001, closed port 5002) so every tool's output can be cut to the load's own events.
 * Kernel state changes per run are exactly 10 per successful connection (client 5: CLOSE>SYN_SENT>
 * ESTABLISHED>CLOSE_WAIT>LAST_ACK>CLOSE; server 5: LISTEN>SYN_RECV>ESTABLISHED>FIN_WAIT1>FIN_WAIT2>
 * CLOSE), 2 per refused one, and 2 for the listener; the bpftrace run checks that formula.
 * socktop's modes are checked event by event: connects ok, refused, accepts, client closes, server
 * closes seen / truth (tui and exporter per process, so lg-server's closes count its listener too;
 * json and record per socket on the load's ports: bench/storm/load-events.ts truthFor); "missing
 * with no drop reported" = what is missing beyond the drops the tool itself reported (0 when its
 * drop counters account for every missing event); "extra" = counted but did not happen.
 *
 * CPU: tools' CPU (user+sys, all threads) over the load, as % of one core, divided by the load's
 * wall time; machine-wide busy time from /proc/stat over the same window, and the load generator's
 * own CPU (children times), so CPU used by anything else on the machine (other sessions) shows as
 * "other". Before each run the harness waits (up to --quiet-wait s) for the machine to be quiet
 * and for no other tracing BPF programs to be attached; a run that started noisy is flagged.
 * Peak RSS: the tool process's VmHWM (headless: its maxRSS).
 *
 * Prints tables (all runs; socktop's pipeline in detail; seen / truth per socktop mode; per rate a
 * comparison of every tool and mode) and writes the raw results to bench/results/storm-<date>.json.
 *
 * This file wires bench/storm/: options.ts (the command line), sequence.ts and measured-run.ts (the
 * runs), load.ts (loadgen and its ground truth), socktop-run.ts, socktop-cli.ts and
 * socktop-exporter.ts (socktop's modes), peers.ts and peer-install.ts (the other tools), host.ts
 * (/proc, bpftool, sysctl, the quiet-machine wait), summary.ts and report.ts (the tables),
 * cleanup.ts (what an interrupt stops); ../exposition.ts reads the exporter's /metrics.
 */
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { cleanUpAll } from './storm/cleanup';
import { readSysctl, writeSysctl } from './storm/host';
import { loadgenArgs } from './storm/load';
import type { RunRecord } from './storm/measured-run';
import { STORM_USAGE, type StormOptions, argValue, parseSocktopKind, parseStormOptions } from './storm/options';
import { LOADGEN, ROOT } from './storm/paths';
import { preparePeers } from './storm/peer-install';
import { provenance } from './storm/provenance';
import { printReport } from './storm/report';
import { runSequence } from './storm/sequence';
import { recordHasQuiet } from './storm/socktop-cli';
import { summarize } from './storm/summary';

/** --report FILE: the tables again from a raw results file (no runs, no root). */
function reprint(file: string): number {
  const r = JSON.parse(fs.readFileSync(file, 'utf8')) as { options: StormOptions; notes: Record<string, string>; runs: RunRecord[] };
  const rates = [...new Set(r.runs.map((x) => x.rate))];
  printReport(r.runs, rates.map((rate) => summarize(rate, r.runs.filter((x) => x.rate === rate))), r.notes ?? {}, r.options);
  return 0;
}

/** The raw results: bench/results/storm-<date>.json unless --out. */
function writeResults(o: StormOptions, started: Date, body: Record<string, unknown>): string {
  const outFile = o.out ?? path.join(ROOT, 'bench/results', `storm-${started.toISOString().replace(/[:]/g, '-').replace(/\..*/, '')}.json`);
  fs.mkdirSync(path.dirname(outFile), { recursive: true });
  fs.writeFileSync(outFile, `${JSON.stringify(body, null, 2)}\n`);
  return outFile;
}

async function storm(o: StormOptions): Promise<number> {
  if (!fs.existsSync(LOADGEN)) execFileSync('sh', [path.join(ROOT, 'bench/build-loadgen.sh')], { stdio: 'inherit' });
  const { peers, notes } = preparePeers(o.peers, o.install);
  const recordQuiet = o.modes.includes('record') && recordHasQuiet();
  if (o.modes.includes('record') && !recordQuiet) {
    notes['socktop-record'] = 'this build\'s `socktop record` has no --quiet: run without it (a status line a second on stderr, to a pipe)';
  }
  const statsWas = readSysctl('kernel.bpf_stats_enabled');
  const onSignal = (): void => {
    cleanUpAll();
    if (statsWas !== null) writeSysctl('kernel.bpf_stats_enabled', statsWas);
    process.exit(130);
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);

  const started = new Date();
  const runs = await runSequence({ o, recordQuiet }, peers, statsWas);
  const summaries = o.rates.map((rate) => summarize(rate, runs.filter((r) => r.rate === rate)));
  printReport(runs, summaries, notes, o);

  const outFile = writeResults(o, started, {
    bench: 'storm',
    provenance: provenance(),
    date: started.toISOString(),
    host: os.hostname(), kernel: os.release(), cpus: os.cpus().length, node: process.version,
    options: o,
    loadgenArgs: loadgenArgs(-1, o).join(' ').replace('--rate -1', '--rate R'),
    notes,
    summaries,
    runs,
  });
  console.log(`\nraw results: ${path.relative(process.cwd(), outFile)}`);
  return runs.some((r) => r.error && (r.kind === 'baseline' || parseSocktopKind(r.kind))) ? 1 : 0;
}

async function main(argv: string[]): Promise<number> {
  if (argv.includes('--help') || argv.includes('-h')) {
    console.log(STORM_USAGE);
    return 0;
  }
  let o: StormOptions;
  try {
    o = parseStormOptions(argv);
  } catch (e) {
    console.error(`storm: ${(e as Error).message}`);
    return 2;
  }
  const reportFile = argValue(argv, 'report');
  if (reportFile) return reprint(reportFile);
  if (process.getuid?.() !== 0) {
    console.error('storm: needs root (BPF, network namespaces)');
    return 1;
  }
  return storm(o);
}

if (require.main === module) {
  main(process.argv.slice(2)).then((code) => { process.exitCode = code; }, (e) => {
    console.error(e);
    process.exitCode = 1;
  });
}
