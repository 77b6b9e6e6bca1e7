/**
 * bench/floor.ts: what Node itself costs in resident memory, step by step up to the idle socktop
 * TUI, so the issue-10 target (idle TUI <= 60 MB) can be set against the runtime's own floor:
 *
 *   bare          node -e 'setInterval(() => {}, 1000)'
 *   +worker       the same with one idle worker_threads Worker (socktop's capture runs on one)
 *   +blessed      bare, with require('blessed') (no screen)
 *   blessed+wkr   blessed drawing one box on a screen, and one idle worker (bench/memory.ts's floor)
 *   socktop       the real TUI, `socktop -d 1` (live BPF; needs root), idle
 *
 * Each is run in its own tmux pane (160x50, no colour) with the Node that runs this bench (the
 * project's Node 24 under `npm run bench`), once with Node's default flags and once with the flags
 * of socktop's shebang (--max-semi-space-size, --v8-pool-size), --runs times each; RSS is the median
 * of the samples taken over the second half of --idle seconds after the program is up, and its
 * parts come from /proc/PID/smaps at the end of that time: the node executable's own pages, other
 * files (libraries, the addon), the C heap's main arena ([heap]), anonymous mappings (V8's heaps,
 * thread arenas, stacks, the shared ring), the BPF ring (anon_inode:bpf-map).
 *
 *   node dist/bench/floor.js [--runs 3] [--idle 10] [--no-socktop]
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { MB, Pane, Sampler, median, medianRss } from './mem-probe';
import { shebangFlags } from './shebang-flags';

const ROOT = path.resolve(__dirname, '../..');
const CLI = path.join(ROOT, 'dist/src/cli/main.js');
const READY = 'FLOOR READY';

interface Step { name: string; argv: (flags: string[]) => string[]; ready: (screen: string[]) => boolean; root?: boolean }

const printReady = `process.stdout.write('${READY}\\n');`;
const worker = "new (require('worker_threads').Worker)('setInterval(() => {}, 1000)', { eval: true });";
const blessedScreen = [
  "const blessed = require('blessed'); const screen = blessed.screen({ smartCSR: true });",
  `blessed.box({ parent: screen, content: '${READY}' }); screen.render(); setInterval(() => screen.render(), 1000);`,
].join(' ');
const hasReady = (s: string[]): boolean => s.some((l) => l.includes(READY));

const STEPS: Step[] = [
  { name: 'bare node', argv: (f) => [process.execPath, ...f, '-e', `${printReady} setInterval(() => {}, 1000);`], ready: hasReady },
  { name: '+ worker', argv: (f) => [process.execPath, ...f, '-e', `${worker} ${printReady} setInterval(() => {}, 1000);`], ready: hasReady },
  { name: "+ require('blessed')", argv: (f) => [process.execPath, ...f, '-e', `require('blessed'); ${printReady} setInterval(() => {}, 1000);`], ready: hasReady },
  { name: 'blessed screen + worker', argv: (f) => [process.execPath, ...f, '-e', `${blessedScreen} ${worker}`], ready: hasReady },
  {
    name: 'socktop -d 1 (idle TUI)', argv: (f) => [process.execPath, ...f, CLI, '-d', '1'], root: true,
    ready: (s) => s[0].includes('LIVE') && s[0].includes('probe'),
  },
];

/** Resident bytes per kind of mapping, from /proc/PID/smaps. */
interface Parts { nodeBinary: number; otherFiles: number; cHeap: number; anon: number; bpfRing: number; other: number }

function smapsParts(pid: number): Parts | null {
  let text: string;
  try {
    text = fs.readFileSync(`/proc/${pid}/smaps`, 'utf8');
  } catch {
    return null;
  }
  const exe = fs.realpathSync(process.execPath);
  const p: Parts = { nodeBinary: 0, otherFiles: 0, cHeap: 0, anon: 0, bpfRing: 0, other: 0 };
  let name = '';
  for (const line of text.split('\n')) {
    const head = /^[0-9a-f]+-[0-9a-f]+ \S+ \S+ \S+ \S+\s*(.*)$/.exec(line);
    if (head) {
      name = head[1];
      continue;
    }
    const rss = /^Rss:\s+(\d+) kB/.exec(line);
    if (!rss) continue;
    const bytes = Number(rss[1]) * 1024;
    if (name === exe) p.nodeBinary += bytes;
    else if (name.startsWith('/')) p.otherFiles += bytes;
    else if (name === '[heap]') p.cHeap += bytes;
    else if (name === '') p.anon += bytes;
    else if (name.includes('bpf-map')) p.bpfRing += bytes;
    else p.other += bytes;
  }
  return p;
}

interface Sample { rss: number; parts: Parts }

async function measure(step: Step, flags: string[], idleS: number): Promise<Sample> {
  const pane = new Pane();
  const pid = pane.start(step.argv(flags));
  const s = new Sampler(pid);
  try {
    await pane.waitFor(step.name, step.ready);
    const t = s.mark();
    await sleep(idleS * 1000);
    const parts = smapsParts(pid);
    if (!parts) throw new Error(`${step.name} ended early: ${pane.screen().join('\n')}`);
    return { rss: medianRss(s.between(t + (idleS * 1000) / 2)).rss, parts };
  } finally {
    s.stop();
    if (step.root) {
      pane.keys('q');
      await sleep(1000);
    }
    pane.kill();
  }
}

const mb = (b: number): string => (b / MB).toFixed(1);

function cell(xs: number[]): string {
  return `${mb(median(xs))} [${mb(Math.min(...xs))}-${mb(Math.max(...xs))}]`;
}

function partsLine(ss: Sample[]): string {
  const m = (k: keyof Parts): string => mb(median(ss.map((s) => s.parts[k])));
  return `node ${m('nodeBinary')}, files ${m('otherFiles')}, [heap] ${m('cHeap')}, anon ${m('anon')}, bpf ${m('bpfRing')}, other ${m('other')}`;
}

async function main(): Promise<void> {
  const argv = process.argv.slice(2);
  const arg = (name: string, dflt: number): number => {
    const i = argv.indexOf(name);
    return i >= 0 ? Number(argv[i + 1]) : dflt;
  };
  const runs = arg('--runs', 3);
  const idleS = arg('--idle', 10);
  const withSocktop = !argv.includes('--no-socktop') && process.getuid?.() === 0;
  const variants: Array<[string, string[]]> = [['node defaults', []], ['socktop shebang flags', shebangFlags(CLI)]];
  console.log(`node ${process.version} (${process.execPath}); ${runs} run(s) of ${idleS} s idle each; RSS MB, median [min-max]`);
  for (const [label, flags] of variants) {
    console.log(`\n${label}${flags.length ? `: ${flags.join(' ')}` : ''}`);
    for (const step of STEPS) {
      if (step.root && !withSocktop) continue;
      const samples: Sample[] = [];
      for (let i = 0; i < runs; i++) samples.push(await measure(step, flags, idleS));
      console.log(`  ${step.name.padEnd(26)} ${cell(samples.map((s) => s.rss)).padEnd(20)} (${partsLine(samples)})`);
    }
  }
}

main().catch((e) => {
  console.error(`bench floor: ${(e as Error).message}`);
  process.exit(1);
});
