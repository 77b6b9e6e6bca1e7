/**
 * bench/memory.ts: the memory soak of issue 10 (item 7). Runs the REAL TUI (`socktop -d 1`, live
 * BPF, blessed drawing into a tmux pane of 160x50, no colour) and samples the RSS of the socktop
 * process (/proc/PID/status: VmRSS and its RssAnon / RssFile / RssShmem parts) every 250 ms through:
 *
 *   idle       --idle S seconds after the header is on screen (figure: median of the last half)
 *   held       bench/memhelp holds --conns loopback connections (2 x conns sockets, accepted);
 *              figure: the peak while held and the settled value --idle S later
 *   churn      --procs short-lived processes (fork, connect, send a byte, exit; --parallel at a
 *              time); figures: RSS before (idle before it), the peak, and after --after S of idle
 *              (median of the last 5 s), with after/before. The default 75 s outlasts the 60 s an
 *              exited process stays on screen (ModelOptions.exitedTtlSec): "after" is the level
 *              once the churn's rows are gone.
 *   floor      for scale: `node` with blessed drawing an empty screen in the same pane and one idle
 *              worker thread (what Node + blessed + a worker isolate cost, without socktop)
 *
 * Each phase is run --runs times (a fresh socktop each run); the table shows median [min-max].
 * Targets (issue 10): idle <= 60 MB, held <= 120 MB, churn after <= 1.2 x before. Not asserted:
 * printed with the figures. Needs root (BPF), tmux and a C compiler (bench/memhelp.c is built into
 * dist/bench/memhelp).
 *
 *   node dist/bench/memory.js [--runs 3] [--conns 20000] [--procs 20000] [--parallel 4]
 *        [--idle 15] [--after 75] [-- extra socktop args]
 */
import { execFileSync, spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { MB, Pane, type Rss, Sampler, median, medianRss, peakRss } from './mem-probe';
import { shebangFlags } from './shebang-flags';

const ROOT = path.resolve(__dirname, '../..');
const CLI = path.join(ROOT, 'dist/src/cli/main.js');
const HELPER = path.join(ROOT, 'dist/bench/memhelp');

interface Opts { runs: number; conns: number; procs: number; parallel: number; idleS: number; afterS: number; extra: string[] }

function parseArgs(argv: string[]): Opts {
  const o: Opts = { runs: 3, conns: 20000, procs: 20000, parallel: 4, idleS: 15, afterS: 75, extra: [] };
  const num = (i: number): number => {
    const v = Number(argv[i + 1]);
    if (!Number.isFinite(v) || v < 0) throw new Error(`${argv[i]} needs a number`);
    return v;
  };
  for (let i = 0; i < argv.length; i++) {
    switch (argv[i]) {
      case '--runs': o.runs = num(i++); break;
      case '--conns': o.conns = num(i++); break;
      case '--procs': o.procs = num(i++); break;
      case '--parallel': o.parallel = num(i++); break;
      case '--idle': o.idleS = num(i++); break;
      case '--after': o.afterS = num(i++); break;
      case '--': o.extra = argv.slice(i + 1); i = argv.length; break;
      default: throw new Error(`unknown argument ${argv[i]}`);
    }
  }
  return o;
}

function buildHelper(): void {
  const src = path.join(ROOT, 'bench/memhelp.c');
  if (fs.existsSync(HELPER) && fs.statSync(HELPER).mtimeMs >= fs.statSync(src).mtimeMs) return;
  fs.mkdirSync(path.dirname(HELPER), { recursive: true });
  execFileSync(process.env.CC ?? 'cc', ['-O2', '-Wall', '-o', HELPER, src], { stdio: 'inherit' });
}

/** Runs memhelp with args; resolves when it prints a line starting with `until`, with a closer. */
function helper(args: string[], until: string): Promise<{ release: () => Promise<void> }> {
  const child = spawn(HELPER, args, { stdio: ['pipe', 'pipe', 'inherit'] });
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  return new Promise((resolve, reject) => {
    let out = '';
    child.stdout.on('data', (d) => {
      out += String(d);
      if (out.split('\n').some((l) => l.startsWith(until))) {
        resolve({ release: async () => { child.stdin.end(); await exited; } });
      }
    });
    child.once('exit', (code) => {
      if (!out.includes(until)) reject(new Error(`memhelp ${args.join(' ')} exited ${code}`));
    });
  });
}

interface RunFigures {
  idle: Rss;
  heldPeak: Rss;
  heldSettled: Rss;
  churnBefore: Rss;
  churnPeak: Rss;
  churnAfter: Rss;
  churnSeconds: number;
}

async function oneRun(o: Opts): Promise<RunFigures> {
  const pane = new Pane();
  const pid = pane.start([process.execPath, ...shebangFlags(CLI), CLI, '-d', '1', ...o.extra]);
  const s = new Sampler(pid);
  try {
    await pane.waitFor('the header', (sc) => sc[0].includes('LIVE') && sc[0].includes('probe'));
    let t = s.mark();
    await sleep(o.idleS * 1000);
    const idle = medianRss(s.between(t + (o.idleS * 1000) / 2));

    t = s.mark();
    const held = await helper(['hold', String(o.conns)], 'ready');
    await sleep(o.idleS * 1000);
    const heldPeak = peakRss(s.between(t));
    const heldSettled = medianRss(s.between(Date.now() - 5000));
    await held.release();

    await sleep(o.idleS * 1000);
    const churnBefore = medianRss(s.between(Date.now() - 5000));
    t = s.mark();
    const churn = await helper(['churn', String(o.procs), String(o.parallel)], 'done');
    await churn.release();
    const churnSeconds = (Date.now() - t) / 1000;
    await sleep(o.afterS * 1000);
    const churnPeak = peakRss(s.between(t));
    const churnAfter = medianRss(s.between(Date.now() - 5000));
    pane.keys('q');
    await sleep(500);
    return { idle, heldPeak, heldSettled, churnBefore, churnPeak, churnAfter, churnSeconds };
  } finally {
    s.stop();
    pane.kill();
  }
}

/** Node + blessed (an empty screen) + one idle worker thread, in the same pane. */
async function floorRun(o: Opts): Promise<Rss> {
  const code = [
    "const blessed = require('blessed'); const { Worker } = require('worker_threads');",
    "const screen = blessed.screen({ smartCSR: true }); blessed.box({ parent: screen, content: 'LIVE probe floor' }); screen.render();",
    "new Worker('setInterval(() => {}, 1000)', { eval: true }); setInterval(() => screen.render(), 1000);",
  ].join('\n');
  const pane = new Pane();
  const pid = pane.start([process.execPath, '-e', code]);
  const s = new Sampler(pid);
  try {
    await pane.waitFor('the floor screen', (sc) => sc[0].includes('LIVE probe floor'));
    const t = s.mark();
    await sleep(o.idleS * 1000);
    return medianRss(s.between(t + (o.idleS * 1000) / 2));
  } finally {
    s.stop();
    pane.kill();
  }
}

const mb = (b: number): string => (b / MB).toFixed(0);

function cell(xs: number[]): string {
  return `${mb(median(xs))} [${mb(Math.min(...xs))}-${mb(Math.max(...xs))}]`;
}

function parts(rs: Rss[]): string {
  return `anon ${mb(median(rs.map((r) => r.anon)))}, file ${mb(median(rs.map((r) => r.file)))}, shmem ${mb(median(rs.map((r) => r.shmem)))}`;
}

function printTable(o: Opts, runs: RunFigures[], floors: Rss[]): void {
  const rows: Array<[string, Rss[], string]> = [
    ['floor: node + blessed + 1 worker', floors, ''],
    ['idle (after start)', runs.map((r) => r.idle), 'target <= 60'],
    [`${o.conns} held connections: peak`, runs.map((r) => r.heldPeak), ''],
    [`${o.conns} held connections: settled`, runs.map((r) => r.heldSettled), 'target <= 120'],
    ['before churn (idle)', runs.map((r) => r.churnBefore), ''],
    [`${o.procs} short-lived processes: peak`, runs.map((r) => r.churnPeak), ''],
    [`after churn (+${o.afterS} s idle)`, runs.map((r) => r.churnAfter), 'target <= 1.2 x before'],
  ];
  console.log(`\nRSS of the socktop process, MB: median [min-max] over ${runs.length} run(s)`);
  for (const [name, rs, target] of rows) {
    console.log(`  ${name.padEnd(40)} ${cell(rs.map((r) => r.rss)).padEnd(16)} (${parts(rs)}) ${target}`);
  }
  const ratios = runs.map((r) => r.churnAfter.rss / r.churnBefore.rss);
  console.log(`  after / before churn: ${median(ratios).toFixed(2)} [${Math.min(...ratios).toFixed(2)}-${Math.max(...ratios).toFixed(2)}]`
    + `; churn took ${median(runs.map((r) => r.churnSeconds)).toFixed(0)} s`);
}

async function main(): Promise<void> {
  const o = parseArgs(process.argv.slice(2));
  if (process.getuid?.() !== 0) throw new Error('the memory soak needs root (live BPF)');
  console.log(`socktop runs as: node ${[...shebangFlags(CLI), CLI].join(' ')} -d 1 ${o.extra.join(' ')}`);
  buildHelper();
  const runs: RunFigures[] = [];
  const floors: Rss[] = [];
  for (let i = 0; i < o.runs; i++) {
    floors.push(await floorRun(o));
    const r = await oneRun(o);
    runs.push(r);
    console.log(`run ${i + 1}/${o.runs}: idle ${mb(r.idle.rss)} MB, held ${mb(r.heldPeak.rss)}/${mb(r.heldSettled.rss)} MB, `
      + `churn ${mb(r.churnBefore.rss)} -> ${mb(r.churnPeak.rss)} -> ${mb(r.churnAfter.rss)} MB`);
  }
  printTable(o, runs, floors);
}

main().catch((e) => {
  console.error(`bench memory: ${(e as Error).message}`);
  process.exit(1);
});
