/**
 * bench/run.ts: the `npm run bench` entry. Runs each bench module in turn as its own process
 * (`node dist/bench/<file>.js`), forwarding its output; a failing bench does not stop the others,
 * but the run exits non-zero at the end if any failed.
 *
 *   npm run bench                 every bench
 *   npm run bench -- ring         only the named ones (extra args after `--` go to each bench)
 *   node dist/bench/run.js --list
 */
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';

interface Bench {
  name: string;
  /** module under dist/bench/, without .js */
  file: string;
  /** extra arguments */
  args?: string[];
}

/** Add new benches here. */
export const BENCHES: Bench[] = [
  { name: 'ring', file: 'ring' },
  { name: 'storm', file: 'storm' },
  { name: 'frame', file: 'frame' },
  { name: 'drain', file: 'drain' },
  { name: 'record', file: 'record' },
  { name: 'exporter-scrape', file: 'exporter-scrape' },
  { name: 'memory', file: 'memory' },
  { name: 'floor', file: 'floor' },
];

function runOne(b: Bench, extra: string[]): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
  const script = path.join(__dirname, `${b.file}.js`);
  return new Promise((resolve) => {
    if (!fs.existsSync(script)) {
      console.error(`bench ${b.name}: ${script} not found (run \`npm run build:ts\`)`);
      resolve({ code: 127, signal: null });
      return;
    }
    const child = spawn(process.execPath, [script, ...(b.args ?? []), ...extra], { stdio: 'inherit' });
    child.on('error', (e) => {
      console.error(`bench ${b.name}: ${e.message}`);
      resolve({ code: 127, signal: null });
    });
    child.on('exit', (code, signal) => resolve({ code, signal }));
  });
}

async function main(): Promise<number> {
  const argv = process.argv.slice(2);
  if (argv.includes('--list')) {
    for (const b of BENCHES) console.log(`${b.name}\tdist/bench/${b.file}.js`);
    return 0;
  }
  // Leading args that name benches select them; the rest (from the first non-name) go to each.
  const names = new Set(BENCHES.map((b) => b.name));
  let i = 0;
  while (i < argv.length && names.has(argv[i])) i++;
  const selected = argv.slice(0, i);
  const extra = argv.slice(i);
  if (extra.length > 0 && !extra[0].startsWith('-')) {
    console.error(`unknown bench "${extra[0]}"; known: ${[...names].join(', ')}`);
    return 2;
  }
  const todo = selected.length > 0 ? BENCHES.filter((b) => selected.includes(b.name)) : BENCHES;

  const failed: string[] = [];
  for (const b of todo) {
    console.log(`\n=== bench ${b.name} (dist/bench/${b.file}.js) ===`);
    const t0 = Date.now();
    const { code, signal } = await runOne(b, extra);
    const secs = ((Date.now() - t0) / 1000).toFixed(1);
    if (code === 0) {
      console.log(`=== bench ${b.name}: ok (${secs} s)`);
    } else {
      console.log(`=== bench ${b.name}: FAILED (${signal ? `signal ${signal}` : `exit ${code}`}, ${secs} s)`);
      failed.push(b.name);
    }
  }
  console.log(`\n${todo.length - failed.length}/${todo.length} benches ok`
    + (failed.length ? `; failed: ${failed.join(', ')}` : ''));
  return failed.length ? 1 : 0;
}

if (require.main === module) {
  main().then((code) => { process.exitCode = code; }, (e) => {
    console.error(e);
    process.exitCode = 1;
  });
}
