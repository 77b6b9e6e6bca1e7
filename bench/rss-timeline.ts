/**
 * bench/rss-timeline.ts: where socktop's resident memory goes over one storm run, phase by phase
 * (attach, idle before the load, the load, after it). A diagnostic, not a figure of record: the
 * storm (bench/storm.ts) gives the peak RSS per mode; this says which part of the process holds it.
 *
 * Runs one socktop mode under bench/mem-log-preload.js (the main thread's heap, external and array
 * buffers, each worker's heap, VmRSS / VmHWM every 100 ms), waits until it is attached, runs the
 * storm's load (bench/loadgen in a fresh network namespace) and stops it a few seconds after.
 *
 *   node dist/bench/rss-timeline.js [--mode json|tui|record] [--rate 10000] [--duration 10]
 *        [--flags "--max-semi-space-size=1 --v8-pool-size=2"] [--runs 1] [--keep FILE] [-- extra socktop args]
 *
 * --flags: the Node flags (default: socktop's shebang's, as the installed executable runs);
 * "none" for Node's defaults. tui is bench/headless.js (the TUI's pipeline without a screen, as the
 * storm runs it). json writes to a file in /tmp.
 */
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { MB, median } from './mem-probe';
import { shebangFlags } from './shebang-flags';
import { procCpuMs } from './storm/host';
import { runLoad } from './storm/load';
import { CLI_MAIN, HEADLESS } from './storm/paths';

interface Line {
  t: number; rss: number; hwm: number; anon: number; fileRss: number; heapTotal: number; heapUsed: number; external: number; arrayBuffers: number;
  spaces: Record<string, number>; workers: Array<{ total_physical_size?: number; used_heap_size?: number; malloced_memory?: number }>;
}

interface Opts { mode: string; rate: number; duration: number; flags: string[]; runs: number; keep: string | null; extra: string[] }

function parseArgs(argv: string[]): Opts {
  const o: Opts = { mode: 'json', rate: 10000, duration: 10, flags: shebangFlags(CLI_MAIN), runs: 1, keep: null, extra: [] };
  for (let i = 0; i < argv.length; i++) {
    const v = argv[i + 1];
    switch (argv[i]) {
      case '--mode': o.mode = v; i++; break;
      case '--rate': o.rate = Number(v); i++; break;
      case '--duration': o.duration = Number(v); i++; break;
      case '--flags': o.flags = v === 'none' ? [] : v.split(/\s+/).filter(Boolean); i++; break;
      case '--runs': o.runs = Number(v); i++; break;
      case '--keep': o.keep = v; i++; break;
      case '--': o.extra = argv.slice(i + 1); i = argv.length; break;
      default: throw new Error(`unknown argument ${argv[i]}`);
    }
  }
  return o;
}

interface Marks { attached: number; loadStart: number; loadEnd: number; stop: number; cpuPct: number }

async function oneRun(o: Opts, logFile: string): Promise<{ lines: Line[]; marks: Marks }> {
  fs.rmSync(logFile, { force: true });
  const preload = ['--require', path.join(__dirname, 'mem-log-preload.js')];
  const outFile = path.join(os.tmpdir(), `socktop-rss-timeline-${process.pid}.out`);
  const script = o.mode === 'tui' ? [HEADLESS, '--probe', 'cgroup'] : o.mode === 'record'
    ? [CLI_MAIN, 'record', '-w', outFile, '--force', '--quiet'] : [CLI_MAIN, '--json'];
  const fd = o.mode === 'json' ? fs.openSync(outFile, 'w') : 'ignore';
  const t0 = Date.now();
  const child = spawn(process.execPath, [...o.flags, ...preload, ...script, ...o.extra], {
    stdio: [o.mode === 'tui' ? 'pipe' : 'ignore', o.mode === 'tui' ? 'pipe' : fd, 'pipe'],
    env: { ...process.env, SOCKTOP_MEMLOG: logFile },
  });
  if (typeof fd === 'number') fs.closeSync(fd);
  let err = '';
  child.stderr!.on('data', (d) => (err += d));
  const exited = new Promise<void>((r) => child.on('exit', () => r()));
  try {
    const until = Date.now() + 60000;
    const ready = o.mode === 'tui' ? 'headless: ready' : o.mode === 'json' ? 'attached' : null;
    if (ready) {
      while (!err.includes(ready) && Date.now() < until && child.exitCode === null) await sleep(20);
      if (!err.includes(ready)) throw new Error(`not attached: ${err.slice(-300)}`);
    } else {
      await sleep(8000); // record prints nothing with --quiet: its attach takes about 3 s
    }
    const attached = Date.now() - t0;
    await sleep(2000);
    if (o.mode === 'tui') child.stdin!.write('start\n');
    const loadStart = Date.now() - t0;
    const cpu0 = procCpuMs(child.pid!);
    const load = await runLoad(o.rate, { duration: o.duration, grace: 2, threads: 1, sources: 64, concurrency: 64, refusedEvery: 10 });
    const loadEnd = Date.now() - t0;
    if (o.mode === 'tui') child.stdin!.write('end\n');
    await sleep(1000); // caught up
    const cpuPct = (100 * (procCpuMs(child.pid!) - cpu0)) / load.wallMs;
    await sleep(2000);
    const stop = Date.now() - t0;
    if (o.mode === 'tui') {
      child.stdin!.write('stop\n');
      child.stdin!.end();
    } else {
      child.kill('SIGINT');
    }
    await Promise.race([exited, sleep(20000)]);
    const lines = fs.readFileSync(logFile, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as Line);
    // The preload's clock starts when it is loaded, a little after the spawn: close enough here.
    return { lines, marks: { attached, loadStart, loadEnd, stop, cpuPct } };
  } finally {
    if (child.exitCode === null) child.kill('SIGKILL');
    fs.rmSync(outFile, { force: true });
  }
}

const mb = (b: number): string => (b / MB).toFixed(1);

function summarize(lines: Line[], m: Marks): string[] {
  const phases: Array<[string, number, number]> = [
    ['attach', 0, m.attached], ['idle', m.attached, m.loadStart], ['load', m.loadStart, m.loadEnd + 1000], ['after', m.loadEnd + 1000, m.stop],
  ];
  const out = ['phase     rss max   heapTotal  heapUsed  external  arrayBufs  new space  old space  code  worker heap'];
  for (const [name, from, to] of phases) {
    const ls = lines.filter((l) => l.t >= from && l.t < to);
    if (ls.length === 0) continue;
    const max = (f: (l: Line) => number): string => mb(Math.max(...ls.map(f))).padStart(9);
    out.push(`${name.padEnd(8)}${max((l) => l.rss)} ${max((l) => l.heapTotal)} ${max((l) => l.heapUsed)} ${max((l) => l.external)}`
      + ` ${max((l) => l.arrayBuffers)}  ${max((l) => l.spaces.new_space ?? 0)}  ${max((l) => l.spaces.old_space ?? 0)}`
      + ` ${max((l) => l.spaces.code_space ?? 0)}  ${max((l) => l.workers.reduce((a, w) => a + (w.total_physical_size ?? 0), 0))}`);
  }
  out.push(`VmHWM at the end: ${mb(lines[lines.length - 1].hwm)} MB; CPU over the load (+1 s): ${m.cpuPct.toFixed(1)} % of a core`);
  return out;
}

async function main(): Promise<void> {
  const o = parseArgs(process.argv.slice(2));
  console.log(`mode ${o.mode}, node ${o.flags.join(' ') || '(defaults)'}, ${o.rate}/s for ${o.duration} s, ${o.runs} run(s)`);
  const hwms: number[] = [];
  const cpus: number[] = [];
  for (let i = 0; i < o.runs; i++) {
    const logFile = o.keep ? `${o.keep}.${i}` : path.join(os.tmpdir(), `socktop-memlog-${process.pid}.ndjson`);
    const { lines, marks } = await oneRun(o, logFile);
    console.log(summarize(lines, marks).join('\n'));
    hwms.push(lines[lines.length - 1].hwm);
    cpus.push(marks.cpuPct);
    if (!o.keep) fs.rmSync(logFile, { force: true });
  }
  console.log(`VmHWM MB: median ${mb(median(hwms))} [${mb(Math.min(...hwms))}-${mb(Math.max(...hwms))}];`
    + ` CPU % of a core: ${median(cpus).toFixed(1)} [${Math.min(...cpus).toFixed(1)}-${Math.max(...cpus).toFixed(1)}]`);
}

main().catch((e) => {
  console.error(`bench rss-timeline: ${(e as Error).message}`);
  process.exit(1);
});
