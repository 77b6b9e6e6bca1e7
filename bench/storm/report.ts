/**
 * bench/storm/report.ts: the storm's tables: all runs; socktop's pipeline in detail; seen / truth
 * per socktop mode; per rate a comparison of every tool and mode; the peers run by run.
 */
import { f0, f1, fStat, rateName, seenCell, seenVsTruth, table } from './format';
import { loadUsPerConn } from './load';
import type { RunRecord } from './measured-run';
import type { StormOptions } from './options';
import { stat } from './stats';
import type { HeadlessDetail, SeenRun, Summary } from './summary';

/** The options the tables mention (a saved run's, for --report). */
export type ReportOptions = Pick<StormOptions, 'reps' | 'maxOther' | 'retries'>;

/** Every run: the ground truth, the tool's cost, how disturbed it was. */
function printRuns(runs: RunRecord[], o: ReportOptions): void {
  console.log('\nAll runs (loadgen ground truth; "other" = CPU used by anything else on the machine during the load, in cores;');
  console.log(`"foreign" = tracing BPF programs of somebody else attached during the load; a run with other > ${o.maxOther}`);
  console.log(`or foreign programs is tried again, up to ${o.retries} times, and the least disturbed try is kept)`);
  const rows = [['rate', 'run', 'conn/s', 'ok', 'refused', 'accepts', 'failed', 'load µs/conn', 'tool CPU%', 'RSS MB', 'attach ms', 'other', 'foreign', 'tries', 'clean']];
  for (const r of runs) {
    const g = r.load?.gt;
    rows.push([
      rateName(r.rate), r.kind + (o.reps > 1 ? `#${r.rep + 1}` : ''), g ? f0(g.rate) : 'FAILED',
      g ? String(g.connects_ok) : '-', g ? String(g.connects_refused) : '-', g ? String(g.accepts) : '-',
      g ? String(g.connects_failed_other + g.exchanges_failed + g.aborted_at_end) : '-',
      r.load ? f1(loadUsPerConn(r.load)) : '-',
      r.tool ? f1(r.tool.cpuPctOfCore) : '-', r.tool ? f1(r.tool.peakRssMB) : '-', r.tool ? f0(r.tool.attachWallMs) : '-',
      r.otherCores !== undefined ? r.otherCores.toFixed(2) : '-', String(r.foreignPrograms?.length ?? '-'),
      String(1 + (r.discarded?.length ?? 0)),
      r.noisy || !r.quiet.quiet ? 'NO' : 'yes',
    ]);
    if (r.error) rows[rows.length - 1].push(r.error.slice(0, 60));
  }
  console.log(table(rows));
}

/** socktop's pipeline (bench/headless) in detail, per rate and backend. */
function printHeadless(summaries: Summary[], o: ReportOptions): void {
  const tuiCols = summaries.flatMap((s) => Object.keys(s.socktop).map((kind) => ({ s, kind })));
  if (tuiCols.length) {
    console.log(`\nsocktop (bench/headless: the TUI's capture + model pipeline, no screen${o.reps > 1 ? '; the median run by workload rate' : ''})`);
    const srows: string[][] = [['', ...tuiCols.map((c) => `${rateName(c.s.rate)} ${c.kind}`), 'target']];
    const add = (label: string, f: (x: HeadlessDetail, s: Summary) => string, target = ''): void => {
      srows.push([label, ...tuiCols.map((c) => f(c.s.socktop[c.kind], c.s)), target]);
    };
    add('backend', (x) => String(x.backend));
    add('workload conn/s without socktop', (_x, s) => `${f0(s.baselineRate)} (${s.baselineRates.map(f0).join(', ')})`);
    add('workload conn/s with socktop', (x) => f0(x.genRate));
    add('  with / without', (x) => `${f1(x.genRatePct)}%`, '>= 85%');
    add('connects ok seen / truth', (x) => seenVsTruth(x.seen.connectsOk, x.gt.connectsOk), 'equal');
    add('refused seen / truth', (x) => seenVsTruth(x.seen.refused, x.gt.refused), 'equal');
    add('accepts seen / truth', (x) => seenVsTruth(x.seen.accepts, x.gt.accepts), 'equal');
    add('client closes seen / attempts', (x) => seenVsTruth(x.seen.clientCloses, x.gt.attempts), 'equal');
    add('server closes seen / accepts + listener', (x) => seenVsTruth(x.seen.serverCloses, x.truth.serverCloses), 'equal');
    add('state changes told (load) / kernel', (x) => seenVsTruth(x.stateEventsOnPorts, x.stateChangesExpected), 'equal');
    add('events delivered / emitted', (x) => `${x.delivered}/${x.emitted} (${x.deliveredRatio === null ? '-' : (100 * x.deliveredRatio).toFixed(3)}%)`, '100%');
    add('drops: BPF ring / shared ring', (x) => `${x.drops.bpfRing} / ${x.drops.sharedRing}`, '0 / 0');
    add('load CPU µs/conn without / with', (x) => `${f1(x.baselineUsPerConn)} / ${f1(x.loadUsPerConn)}`);
    add('socktop CPU µs per connection', (x) => f1(x.socktopUsPerConn));
    add('socktop CPU, % of one core', (x) => f1(x.cpuPctOfCore), '< 10% at 10k/s');
    add('  main / worker / other threads, %', (x) => ['main', 'worker', 'other'].map((k) => f1(pctOfLoad(x, k))).join(' / '));
    add('BPF ns per program run', (x) => f0(x.bpfNsPerRun), '< 1000');
    add('BPF ns per event emitted', (x) => f0(x.bpfNsPerEvent));
    add('BPF ns per connection attempt', (x) => f0(x.bpfNsPerConnection));
    add('peak RSS MB', (x) => f1(x.maxRssMB), '< 100');
    add('attach: addon open() ms', (x) => f1(x.attachMs));
    add('attach: process start -> ready ms', (x) => f1(x.readyMs), '< 500');
    add('attach: spawn -> ready ms (outside)', (x) => f0(x.attachWallMs));
    console.log(table(srows));
  }
}

/** Every socktop mode: the load's events seen / truth. */
function printSeen(summaries: Summary[], o: ReportOptions): void {
  const seenCols = summaries.flatMap((s) => Object.keys(s.socktopSeen).map((label) => ({ s, label, rs: s.socktopSeen[label] })));
  if (seenCols.length) {
    console.log(`\nsocktop's modes: the load's events seen / loadgen's truth${o.reps > 1 ? ` (over ${o.reps} reps: "all equal", or how many short or extra, median [min-max])` : ''}`);
    console.log('(tui: the model\'s counters for loadgen\'s processes; json and record: the lines on the load\'s ports, closes once per socket;');
    console.log(' exporter: its scraped counters for loadgen\'s comms, drops from socktop_events_lost_total; tui and exporter count per');
    console.log(' process: lg-server\'s closes are its accepted sockets and its listener, which it closes as it exits)');
    const rows2: string[][] = [['', ...seenCols.map((c) => `${rateName(c.s.rate)} ${c.label}`)]];
    const add = (label: string, f: (rs: SeenRun[]) => string): void => void rows2.push([label, ...seenCols.map((c) => f(c.rs))]);
    add('connects ok seen / truth', (rs) => seenCell(rs, 'connectsOk'));
    add('refused seen / truth', (rs) => seenCell(rs, 'refused'));
    add('accepts seen / truth', (rs) => seenCell(rs, 'accepts'));
    add('client closes seen / attempts', (rs) => seenCell(rs, 'clientCloses'));
    add('server closes seen / truth', (rs) => seenCell(rs, 'serverCloses'));
    add('drops kernel_miss / bpf_ring / shared_ring / recording', (rs) => (rs.length
      ? ['kernel_miss', 'bpf_ring', 'shared_ring', 'recording'].map((k) => fStat(stat(rs.map((r) => r.drops[k] ?? 0)), f0)).join(' / ')
      : '-'));
    add('missing (truth - seen)', (rs) => fStat(stat(rs.map((r) => r.missing)), f0));
    add('missing with no drop reported', (rs) => fStat(stat(rs.map((r) => r.missingNoDrop)), f0));
    add('extra (seen - truth): counted, did not happen', (rs) => fStat(stat(rs.map((r) => r.extra)), f0));
    if (seenCols.some((c) => c.rs.some((r) => r.scrape))) {
      const scrapes = (rs: SeenRun[]) => rs.flatMap((r) => (r.scrape ? [r.scrape] : []));
      add('exporter: last GET /metrics ms', (rs) => (scrapes(rs).length ? fStat(stat(scrapes(rs).map((x) => x.ms)), f1) : '-'));
      add('  its KB / series (socktop_*)', (rs) => {
        const xs = scrapes(rs);
        return xs.length
          ? `${fStat(stat(xs.map((x) => x.bytes / 1024)), f1)} / ${fStat(stat(xs.map((x) => x.series)), f0)} (${fStat(stat(xs.map((x) => x.socktopSeries)), f0)})`
          : '-';
      });
    }
    console.log(table(rows2));
  }
}

/** Per rate, every tool and mode side by side. */
function printCompare(summaries: Summary[], o: ReportOptions): void {
  for (const s of summaries) {
    console.log(`\nrate ${rateName(s.rate)}: every tool on the same load${o.reps > 1 ? ` (median [min-max] over ${o.reps} reps)` : ''}; baseline ${f0(s.baselineRate)} conn/s (mean of ${s.baselineRates.length})`);
    const crows = [['tool', 'runs', 'conn/s', '% of base', 'CPU % core', 'peak RSS MB', 'lost (reported)', 'missing, no drop rep.', 'attach ms']];
    for (const c of s.compare) {
      crows.push([
        c.label, `${c.runs - c.failed}${c.failed ? ` (${c.failed} failed)` : ''}${c.noisy ? ` (${c.noisy} noisy)` : ''}`, fStat(c.genRate, f0), fStat(c.pctOfBase, f1),
        fStat(c.cpuPct, f1), fStat(c.rssMB, f0), fStat(c.lost, f0), fStat(c.missingNoDrop, f0), fStat(c.attachMs, f0),
      ]);
    }
    console.log(table(crows));
  }
  console.log('(lost / missing: socktop modes count connects ok, refused, accepts, client and server closes; tcplife and tcplife-bpfcc');
  console.log(' lines, one per session; tcpstates lines and bpftrace its in-kernel count, one per state change. "lost (reported)":');
  console.log(' what the tool itself said it dropped (socktop: drops per stage; libbpf-tools/BCC: "lost N events"); "missing, no drop');
  console.log(' rep.": truth - seen - reported, at least 0: events gone without the tool saying so)');
}

/** socktop's tui runs and the peers, run by run: events seen / expected and who they were attributed to. */
function printPeers(summaries: Summary[], o: ReportOptions): void {
  if (summaries.some((s) => s.peers.length)) {
    console.log('\nPeers on the same load, per run (conn/s % = workload rate with the tool / mean baseline)');
    const prows = [['rate', 'tool', 'conn/s', '% of base', 'CPU %', 'attach ms', 'BPF ns/run', 'events seen / expected', 'lost', 'attributed to']];
    for (const s of summaries) {
      for (const [kind, x] of Object.entries(s.socktop)) {
        prows.push([rateName(s.rate), kind, f0(x.genRate), `${f1(x.genRatePct)}%`, f1(x.cpuPctOfCore), f0(x.attachWallMs),
          f0(x.bpfNsPerRun), `${x.stateEventsOnPorts}/${x.stateChangesExpected} state`, String(x.stateChangesExpected - (x.stateEventsOnPorts as number)), 'by socket owner']);
      }
      for (const p of s.peers) {
        const lost = p.expected - p.events;
        const comms = Object.entries(p.byComm).map(([c, n]) => `${c} ${n}`).join(', ');
        prows.push([rateName(s.rate), p.peer + (o.reps > 1 ? `#${p.rep + 1}` : ''), f0(p.genRate), `${f1(p.genRatePct)}%`, f1(p.cpuPctOfCore), f0(p.attachWallMs),
          f0(p.bpfNsPerRun), `${p.events}/${p.expected}`, `${lost} (${f1((100 * lost) / p.expected)}%)${p.reportedLost ? ` [says ${p.reportedLost}]` : ''}`,
          comms || '-']);
      }
    }
    console.log(table(prows));
  }
}

/** The storm's tables on stdout, from its runs and their per-rate summaries. */
export function printReport(runs: RunRecord[], summaries: Summary[], notes: Record<string, string>, o: ReportOptions): void {
  printRuns(runs, o);
  printHeadless(summaries, o);
  printSeen(summaries, o);
  printCompare(summaries, o);
  printPeers(summaries, o);
  for (const [k, v] of Object.entries(notes)) console.log(`note: ${k}: ${v}`);
}

/** A thread role's CPU over the load as % of one core. */
function pctOfLoad(x: HeadlessDetail, role: string): number {
  const t = x.cpuThreads?.[role];
  return t && x.cpuWallMs ? (100 * (t.userMs + t.sysMs)) / x.cpuWallMs : NaN;
}
