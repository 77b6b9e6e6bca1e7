/**
 * The replay keys in the real TUI: `socktop replay samples/demo.socktop --paused` in a terminal
 * (tmux), driven by keys, its screen read back. No root, no BPF: runs wherever tmux does.
 *
 * The header's replay status reads `REPLAY <bar> m:ss/m:ss <speed> [END] [PAUSED]`, the bar 30
 * cells of █ (played) and ░ (to come) at this width.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { spawnSync } from 'node:child_process';
import { Tmux, tmuxAvailable } from './tmux';

const ROOT = path.resolve(__dirname, '../../..');
const CLI = path.join(ROOT, 'dist/src/cli/main.js');
const SAMPLE = path.join(ROOT, 'samples/demo.socktop');
const WIDTH = 140;
const HEIGHT = 40;
// pids in the sample (see samples/README.md): the chat server and two of its clients, read from
// the sample itself so that a re-made sample needs no edit here
const SAMPLE_EVENTS = spawnSync(process.execPath, [CLI, 'replay', SAMPLE, '--json'], { encoding: 'utf8' }).stdout
  .split('\n').filter(Boolean).map((l) => JSON.parse(l) as { kind: string; comm: string; pid: number });
const CHATD = SAMPLE_EVENTS.find((e) => e.kind === 'listen' && e.comm === 'chatd')!.pid;
const CHATC = [...new Set(SAMPLE_EVENTS.filter((e) => e.kind === 'connect' && e.comm === 'chatc').map((e) => e.pid))].slice(0, 2);

interface Status {
  bar: string;
  positionS: number;
  durationS: number;
  speed: string;
  ended: boolean;
  paused: boolean;
}

function seconds(clock: string): number {
  return clock.split(':').reduce((acc, part) => acc * 60 + Number(part), 0);
}

/** The replay status from the header's first line, or undefined when there is none. */
export function replayStatus(screen: string[]): Status | undefined {
  const m = /REPLAY ([█░]*) ?(\d+(?::\d\d)+)\/(\d+(?::\d\d)+) (\S+)( +END)?( +PAUSED)?/.exec(screen[0] ?? '');
  if (!m) return undefined;
  return {
    bar: m[1], positionS: seconds(m[2]), durationS: seconds(m[3]), speed: m[4], ended: Boolean(m[5]), paused: Boolean(m[6]),
  };
}

/** Table rows on screen: pid -> the row's text. */
function rows(screen: string[]): Map<number, string> {
  const head = screen.findIndex((l) => /^\s+PID/.test(l) && l.includes('COMM'));
  const out = new Map<number, string>();
  if (head < 0) return out;
  for (const line of screen.slice(head + 1)) {
    const m = /^\s*(\d+) /.exec(line);
    if (!m) break;
    out.set(Number(m[1]), line);
  }
  return out;
}

/** The header's process count. */
function procs(screen: string[]): number {
  const m = /^procs (\d+)/.exec(screen[2] ?? '');
  return m ? Number(m[1]) : -1;
}

function filled(bar: string): number {
  return [...bar].filter((c) => c === '█').length;
}

function options(): { skip?: string } {
  if (!tmuxAvailable()) return { skip: 'tmux is not installed' };
  if (!fs.existsSync(SAMPLE)) return { skip: `${SAMPLE} is missing` };
  return {};
}

test('replay TUI: progress bar, space, + and -, arrows seek 10 s, g and G, PID filter, q restores the terminal', options(), async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'socktop-replay-tui-'));
  const tmux = new Tmux();
  const status = (what: string, check: (s: Status, screen: string[]) => boolean, timeoutMs?: number) =>
    tmux.waitFor(what, (screen) => {
      const s = replayStatus(screen);
      return s && check(s, screen) ? s : undefined;
    }, timeoutMs);
  try {
    tmux.start(`node ${CLI} replay ${SAMPLE} --paused -d 0.2; echo EXIT=$? > ${dir}/rc; stty -a > ${dir}/stty; sleep 60`, WIDTH, HEIGHT);

    // Paused at the start: position 0, the whole duration, speed 1x, an empty bar.
    let s = await status('the paused start', (x) => x.paused && x.positionS === 0);
    assert.equal(s.speed, '1x');
    assert.ok(s.durationS >= 11 && s.durationS <= 13, `duration ${s.durationS} s (the sample is about 12 s)`);
    assert.equal(s.bar.length, 30);
    assert.equal(filled(s.bar), 0);
    const duration = s.durationS;
    assert.ok(tmux.screen().some((l) => l.includes('no socket activity seen yet')));
    // Held: nothing moves.
    await new Promise((r) => setTimeout(r, 1200));
    assert.equal(replayStatus(tmux.screen())!.positionS, 0, 'a paused replay stays put');

    // + and - step the speed shown (1x 2x 4x, back to 2x, 1x, 0.5x).
    tmux.type('+');
    await status('2x', (x) => x.speed === '2x');
    tmux.type('+');
    await status('4x', (x) => x.speed === '4x');
    tmux.type('-');
    await status('back to 2x', (x) => x.speed === '2x');
    tmux.type('-');
    tmux.type('-');
    await status('0.5x', (x) => x.speed === '0.5x');
    tmux.type('+');
    await status('1x again', (x) => x.speed === '1x' && x.paused);

    // Right seeks 10 s forward (still paused): the position and the bar move, rows appear.
    tmux.keys('Right');
    s = await status('0:10', (x) => x.positionS === 10);
    assert.ok(s.paused, 'a seek does not resume');
    assert.ok(Math.abs(filled(s.bar) - Math.round((10 / duration) * 30)) <= 2, `bar ${s.bar} at 10 s of ${duration}`);
    await tmux.waitFor('rows at 0:10', (screen) => rows(screen).size > 0 && procs(screen) > 0);
    // Left seeks 10 s back: the model starts over from the beginning.
    tmux.keys('Left');
    await status('back to 0:00', (x) => x.positionS === 0);
    await tmux.waitFor('(almost) nothing at 0:00', (screen) => procs(screen) < 3);

    // Space resumes: the clock runs and PAUSED goes; space again holds it.
    tmux.keys('Space');
    await status('playing', (x) => !x.paused && x.positionS >= 1, 8000);
    tmux.keys('Space');
    s = await status('paused again', (x) => x.paused);
    await new Promise((r) => setTimeout(r, 1200));
    assert.equal(replayStatus(tmux.screen())!.positionS, s.positionS, 'held again');

    // G: the end, everything replayed; g: back to the start.
    tmux.type('G');
    s = await status('the end', (x) => x.ended && x.positionS === duration);
    assert.equal(filled(s.bar), 30);
    const total = await tmux.waitFor('every process', (screen) => procs(screen) || undefined);

    // The PID filter works as live: one pid, then two, then Esc clears it.
    tmux.type('p');
    tmux.type(String(CHATD));
    tmux.keys('Enter');
    const only = await tmux.waitFor('only chatd', (screen) => screen[2].includes(`filter: pid ${CHATD}`)
      && [...rows(screen).keys()].join() === String(CHATD) && rows(screen));
    assert.match(only.get(CHATD)!, /chatd/);
    tmux.type('p');
    tmux.keys('C-u');
    tmux.type(CHATC.join(','));
    tmux.keys('Enter');
    await tmux.waitFor('the two chat clients', (screen) => {
      const r = rows(screen);
      return r.size === 2 && CHATC.every((p) => r.has(p));
    });
    tmux.keys('Escape');
    await tmux.waitFor('the filter cleared', (screen) => !screen[2].includes('filter:') && rows(screen).size > 2);
    assert.equal(procs(tmux.screen()), total);

    tmux.type('g');
    s = await status('the start again', (x) => x.positionS === 0 && !x.ended);

    // q quits; the shell after it finds the terminal in cooked mode with echo.
    tmux.type('q');
    await tmux.waitFor('exit', () => fs.existsSync(`${dir}/stty`) && fs.readFileSync(`${dir}/stty`, 'utf8').includes('icanon'));
    assert.equal(fs.readFileSync(`${dir}/rc`, 'utf8').trim(), 'EXIT=0');
    const stty = fs.readFileSync(`${dir}/stty`, 'utf8');
    assert.match(stty, /(^|\s)icanon(\s|$)/);
    assert.match(stty, /(^|\s)echo(\s|$)/);
    // The alternate screen is gone: the shell's screen, not socktop's header.
    await tmux.waitFor('the normal screen back', (screen) => !screen.some((l) => l.includes('REPLAY')));
  } finally {
    tmux.kill();
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
