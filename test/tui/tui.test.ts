/**
 * The real socktop TUI in a terminal (tmux), live BPF capture, real loopback traffic from child
 * processes with known pids and names. Needs root and a built BPF object and addon; skips
 * otherwise (fails instead with SOCKTOP_REQUIRE_BPF=1).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ChildProcess, spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as readline from 'node:readline';
import { liveTestOptions } from '../live/bpf-available';
import { layoutColumns } from '../../src/ui/columns';
import { Tmux, tmuxAvailable } from './tmux';

const CLI = path.resolve(__dirname, '../../src/cli/main.js');
const FIXTURE = path.join(__dirname, 'fixtures/loopback.js');
const WIDTH = 160;
const HEIGHT = 40;

function options(): { skip?: string } {
  const live = liveTestOptions();
  if (live.skip) return live;
  return tmuxAvailable() ? {} : { skip: 'tmux is not installed' };
}

/** A fixture process and a way to send it commands and wait for "ok". */
class Fixture {
  readonly child: ChildProcess;
  private readonly lines: string[] = [];
  private waiters: (() => void)[] = [];

  constructor(args: string[]) {
    this.child = spawn(process.execPath, [FIXTURE, ...args], { stdio: ['pipe', 'pipe', 'inherit'] });
    readline.createInterface({ input: this.child.stdout! }).on('line', (l) => {
      this.lines.push(l);
      for (const w of this.waiters.splice(0)) w();
    });
  }

  get pid(): number {
    return this.child.pid!;
  }

  async nextLine(): Promise<string> {
    while (this.lines.length === 0) await new Promise<void>((r) => this.waiters.push(r));
    return this.lines.shift()!;
  }

  async command(cmd: string): Promise<void> {
    this.child.stdin!.write(`${cmd}\n`);
    assert.equal(await this.nextLine(), 'ok');
  }

  stop(): void {
    this.child.kill('SIGKILL');
  }
}

/** Table rows on screen, by pid, cut at the column positions socktop itself uses at this width. */
function tableRows(screen: string[]): Map<number, Record<string, string>> {
  const placed = layoutColumns(WIDTH);
  const head = screen.findIndex((l) => /^\s+PID/.test(l) && l.includes('COMM'));
  const rows = new Map<number, Record<string, string>>();
  if (head < 0) return rows;
  for (const line of screen.slice(head + 1)) {
    if (!/^\s*\d+ /.test(line)) break;
    const row: Record<string, string> = {};
    let at = 0;
    for (const { col, width } of placed) {
      row[col.id] = line.slice(at, at + width).trim();
      at += width + 1;
    }
    rows.set(Number(row.pid), row);
  }
  return rows;
}

/** The pid of the row drawn in inverse video (the selection). */
function selectedPid(screen: string[]): number | undefined {
  for (const line of screen) {
    const m = /\x1b\[(?:0;)?7m(?:\x1b\[[0-9;]*m)*\s*(\d+) /.exec(line);
    if (m) return Number(m[1]);
  }
  return undefined;
}

function pidOrder(screen: string[]): number[] {
  return [...tableRows(screen).keys()];
}

function sttyOf(file: string): string {
  return fs.existsSync(file) ? fs.readFileSync(file, 'utf8') : '';
}

test('live TUI: rows, PID filter, sort, pause and catch-up, detail, help, resize, q restores the terminal', options(), async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'socktop-tui-'));
  const srv = new Fixture(['server']);
  const port = Number(await srv.nextLine());
  const cli = new Fixture(['client', String(port)]);
  const tmux = new Tmux();
  try {
    tmux.start(`node ${CLI} -d 0.5; echo EXIT=$? > ${dir}/rc; stty -a > ${dir}/stty; sleep 60`, WIDTH, HEIGHT, { NO_COLOR: '1' });
    await tmux.waitFor('the header', (s) => s[0].includes('LIVE') && s[0].includes('probe'));

    // Rows with the right names and counts: 3 connections held open.
    await cli.command('open 3');
    let rows = await tmux.waitFor('both fixture rows', (s) => {
      const r = tableRows(s);
      return r.get(cli.pid)?.open === '3' && r.get(srv.pid)?.open === '4' ? r : undefined;
    });
    assert.equal(rows.get(srv.pid)!.comm, 'st-tui-srv');
    assert.equal(rows.get(cli.pid)!.comm, 'st-tui-cli');
    assert.equal(rows.get(srv.pid)!.listen, String(port));
    assert.equal(rows.get(cli.pid)!.err, '0');

    // PID filter: only the two fixtures; a bad entry gets an inline message, not a crash.
    tmux.keys('p');
    tmux.type('12x');
    tmux.keys('Enter');
    await tmux.waitFor('the inline error', (s) => s[HEIGHT - 1].includes("bad PID '12x'"));
    tmux.keys('C-u');
    tmux.type(`${srv.pid},${cli.pid}`);
    tmux.keys('Enter');
    await tmux.waitFor('the filter', (s) => s[2].includes(`filter: pid ${srv.pid},${cli.pid}`) && tableRows(s).size === 2);

    // Sort by PID (five columns to the left of CONN/s), then reverse.
    tmux.keys('<', '<', '<', '<', '<');
    const asc = [srv.pid, cli.pid].sort((a, b) => a - b);
    await tmux.waitFor('ascending pids', (s) => s.some((l) => l.includes('PID↑')) && pidOrder(s).join() === asc.join());
    tmux.keys('r');
    await tmux.waitFor('descending pids', (s) => s.some((l) => l.includes('PID↓')) && pidOrder(s).join() === [...asc].reverse().join());

    // Mouse: a click selects the row under it, the wheel moves the selection.
    const desc = [...asc].reverse();
    const firstRowY = tmux.screen().findIndex((l) => /^\s+PID/.test(l)) + 1;
    tmux.keys('Home');
    await tmux.waitFor('the first row selected', () => selectedPid(tmux.screenWithEscapes()) === desc[0]);
    tmux.click(10, firstRowY + 1);
    await tmux.waitFor('the clicked row selected', () => selectedPid(tmux.screenWithEscapes()) === desc[1]);
    tmux.wheel(10, firstRowY + 1, -1);
    await tmux.waitFor('the wheel moving up', () => selectedPid(tmux.screenWithEscapes()) === desc[0]);

    // Pause: the display freezes while capture goes on; on resume the counts catch up.
    tmux.keys('Space');
    await tmux.waitFor('PAUSED', (s) => s[0].includes('PAUSED'));
    await cli.command('open 2');
    await new Promise((r) => setTimeout(r, 1500));
    rows = tableRows(tmux.screen());
    assert.equal(rows.get(cli.pid)!.open, '3', 'frozen while paused');
    tmux.keys('Space');
    await tmux.waitFor('caught-up counts', (s) => s[0].includes('LIVE') && tableRows(s).get(cli.pid)?.open === '5');

    // Detail of the server: exact totals and its sockets.
    tmux.keys('p', 'C-u');
    tmux.type(String(srv.pid));
    tmux.keys('Enter');
    await tmux.waitFor('only the server', (s) => pidOrder(s).join() === String(srv.pid));
    tmux.keys('Enter');
    const detail = await tmux.waitFor('the detail view', (s) => (s.some((l) => l.startsWith(`PID ${srv.pid}  st-tui-srv`)) ? s.join('\n') : undefined));
    assert.match(detail, /totals: accepts 5 /);
    assert.match(detail, /SOCKETS: 6 open/);
    assert.match(detail, new RegExp(`127\\.0\\.0\\.1:${port}\\s+0\\.0\\.0\\.0:0\\s+LISTEN`));
    assert.match(detail, /RECENT EVENTS/);
    tmux.keys('Escape');
    await tmux.waitFor('the table again', (s) => tableRows(s).has(srv.pid));

    // Help overlay, then back.
    tmux.keys('?');
    await tmux.waitFor('help', (s) => s.some((l) => l.includes('KEYS')));
    tmux.keys('Escape');
    await tmux.waitFor('help closed', (s) => !s.some((l) => l.includes('KEYS')));

    // Too small: a message inside the screen; larger again: the table.
    tmux.resize(70, 20);
    await tmux.waitFor('the size message', (s) => s.some((l) => l.includes('at least 80x24')));
    tmux.resize(WIDTH, HEIGHT);
    await tmux.waitFor('the table after resize', (s) => tableRows(s).has(srv.pid));

    // q quits with a restored terminal (cooked mode, echo on).
    tmux.keys('q');
    await tmux.waitFor('exit', () => fs.existsSync(`${dir}/stty`) && sttyOf(`${dir}/stty`).includes('icanon'));
    assert.equal(fs.readFileSync(`${dir}/rc`, 'utf8').trim(), 'EXIT=0');
    const stty = sttyOf(`${dir}/stty`);
    assert.match(stty, /(^|\s)icanon(\s|$)/);
    assert.match(stty, /(^|\s)echo(\s|$)/);
  } finally {
    tmux.kill();
    srv.stop();
    cli.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('live TUI: SIGTERM restores the terminal and exits 0', options(), async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'socktop-tui-'));
  const tmux = new Tmux();
  try {
    tmux.start(`sh -c 'echo $$ > ${dir}/pid; exec node ${CLI}'; echo EXIT=$? > ${dir}/rc; stty -a > ${dir}/stty; sleep 60`, 100, 30);
    await tmux.waitFor('the header', (s) => s[0].includes('LIVE'));
    process.kill(Number(fs.readFileSync(`${dir}/pid`, 'utf8')), 'SIGTERM');
    await tmux.waitFor('exit', () => sttyOf(`${dir}/stty`).includes('icanon'));
    assert.equal(fs.readFileSync(`${dir}/rc`, 'utf8').trim(), 'EXIT=0');
    assert.doesNotMatch(sttyOf(`${dir}/stty`), /(^|\s)-icanon(\s|$)/);
    assert.doesNotMatch(sttyOf(`${dir}/stty`), /(^|\s)-echo(\s|$)/);
  } finally {
    tmux.kill();
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('live TUI: a hangup (terminal closed) ends socktop cleanly', options(), async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'socktop-tui-'));
  const tmux = new Tmux();
  try {
    tmux.start(`sh -c 'echo $$ > ${dir}/pid; exec node ${CLI} 2> ${dir}/err'`, 100, 30);
    await tmux.waitFor('the header', (s) => s[0].includes('LIVE'));
    const pid = Number(fs.readFileSync(`${dir}/pid`, 'utf8'));
    tmux.kill(); // the terminal goes away: SIGHUP
    const until = Date.now() + 10000;
    while (Date.now() < until && alive(pid)) await new Promise((r) => setTimeout(r, 100));
    assert.equal(alive(pid), false, 'socktop is gone');
    // Node 20 aborts when it cannot reset a hung-up tty at exit; socktop must not get there.
    assert.doesNotMatch(fs.readFileSync(`${dir}/err`, 'utf8'), /Assertion failed|Native stack trace/);
  } finally {
    tmux.kill();
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}
