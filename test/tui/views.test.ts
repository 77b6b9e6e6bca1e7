/**
 * The views in the real TUI: `socktop replay samples/demo.socktop --speed 0` in a terminal (tmux),
 * driven by keys: Tab and Shift-Tab cycle the six views, the digits pick one, each view shows its
 * own columns and is named in the view bar; u groups commands by user; - and + fold the tree; Enter
 * on a command shows its processes; Enter on a listening port shows its connections; the sort keys
 * and filters work in every view. No root, no BPF.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Tmux, tmuxAvailable } from './tmux';

const ROOT = path.resolve(__dirname, '../../..');
const CLI = path.join(ROOT, 'dist/src/cli/main.js');
const SAMPLE = path.join(ROOT, 'samples/demo.socktop');

/** The column header line of each view. */
const HEADS: [string, RegExp][] = [
  ['processes', /^\s+PID.? S USER/],
  ['commands', /^COMMAND.?\s+USER.?\s+PROCS/],
  ['tree', /^\s+PID.?\s+PPID S/],
  ['connections', /^PROTO.? LOCAL/],
  ['remotes', /^REMOTE.?\s+PORT/],
  ['listeners', /^\s*PORT.? LOCAL/],
];

function options(): { skip?: string } {
  if (!tmuxAvailable()) return { skip: 'tmux is not installed' };
  if (!fs.existsSync(SAMPLE)) return { skip: `${SAMPLE} is missing` };
  return {};
}

function headOf(screen: string[]): string | undefined {
  for (const line of screen) for (const [name, re] of HEADS) if (re.test(line)) return name;
  return undefined;
}

test('views TUI: Tab/Shift-Tab/digits, each view\'s columns, u, tree folding, Enter drills, sort and filter', options(), async () => {
  const tmux = new Tmux();
  const view = (name: string) => tmux.waitFor(`the ${name} view`, (s) => headOf(s) === name && s);
  try {
    tmux.start(`node ${CLI} replay ${SAMPLE} --speed 0 -d 0.2 --fold-exited 3600`, 150, 40);
    await view('processes');
    await tmux.waitFor('the view bar', (s) => /^ 1 processes\s+2 commands\s+3 tree\s+4 connections\s+5 remotes\s+6 listening/.test(s[3]));
    await tmux.waitFor('the whole sample', (s) => s[0].includes('END'));
    // Tab through every view and back round; Shift-Tab goes back.
    for (const [name] of [...HEADS.slice(1), HEADS[0]]) {
      tmux.keys('Tab');
      await view(name);
    }
    tmux.keys('BTab');
    await view('listeners');
    // The footer names Enter's meaning in this view.
    await tmux.waitFor('Enter: connections', (s) => s[s.length - 1].includes('Enter connections') || s.some((l) => l.includes('Enter connections')));

    // commands: curl is one row for all its processes; u groups by user; Enter shows the processes.
    tmux.type('2');
    let screen = await view('commands');
    const curl = screen.find((l) => /^curl\s/.test(l));
    assert.ok(curl, screen.join('\n'));
    const procs = Number(/^curl\s+\S+\s+(\d+)/.exec(curl!)![1]);
    assert.ok(procs > 30, `curl: ${procs} processes in one row`);
    tmux.type('u');
    await tmux.waitFor('by user', (s) => s.some((l) => /^root\s/.test(l)) && !s.some((l) => /^curl\s/.test(l)));
    tmux.type('u');
    await tmux.waitFor('by container', (s) => s.some((l) => /^\(host\)\s/.test(l)));
    tmux.type('u');
    await tmux.waitFor('by command again', (s) => s.some((l) => /^curl\s/.test(l)));
    // s: the next sort key, the command name (ascending for names); r reverses it.
    tmux.type('s');
    await tmux.waitFor('sorted by name', (s) => s.some((l) => /^COMMAND↑/.test(l)));
    tmux.type('r');
    await tmux.waitFor('reversed', (s) => s.some((l) => /^COMMAND↓/.test(l)));
    tmux.keys('Home');
    const first = await tmux.waitFor('the first command', (s) => {
      const i = s.findIndex((l) => /^COMMAND/.test(l));
      return i >= 0 ? s[i + 1].split(/\s+/)[0] : undefined;
    });
    tmux.keys('Enter');
    screen = await view('processes');
    await tmux.waitFor(`only ${first}`, (s) => s[2].includes(`filter: comm ~ ${first}`));
    tmux.keys('Escape');

    // tree: - folds the selected process's children, + unfolds them.
    tmux.type('3');
    screen = await view('tree');
    // A row with children: one without a branch itself whose next row is a branch.
    const parentRow = screen.findIndex((l, i) => /^\s+\d+\s/.test(l) && !/[├└]─ /.test(l) && /[├└]─ /.test(screen[i + 1] ?? ''));
    assert.ok(parentRow >= 0, `a family in the sample's tree:\n${screen.join('\n')}`);
    {
      const head = screen.findIndex((l) => /^\s+PID.?\s+PPID/.test(l));
      tmux.keys('Home');
      for (let i = head + 1; i < parentRow; i++) tmux.keys('Down');
      const branches = (s: string[]) => s.filter((l) => /[├└]─ /.test(l)).length;
      const before = branches(screen);
      tmux.type('-');
      await tmux.waitFor('folded', (s) => branches(s) < before && s.some((l) => / \+\d+ /.test(l)));
      tmux.type('+');
      await tmux.waitFor('unfolded', (s) => branches(s) === before);
    }

    // listeners: Enter on a port shows the connections to it (the drill in the header).
    tmux.type('6');
    screen = await view('listeners');
    tmux.keys('Home');
    tmux.keys('Enter');
    await view('connections');
    await tmux.waitFor('the port drill', (s) => /filter: local port \d+/.test(s[2]));
    tmux.keys('Escape');
    await tmux.waitFor('the drill cleared', (s) => !s[2].includes('filter:'));

    // The command filter narrows every view: connections of curl only.
    tmux.type('/');
    tmux.type('chat');
    tmux.keys('Enter');
    await tmux.waitFor('chat sockets only', (s) => {
      const i = s.findIndex((l) => /^PROTO/.test(l));
      const rows = s.slice(i + 1).filter((l) => /^tcp/.test(l));
      return i >= 0 && rows.length > 0 && rows.every((l) => /\schat[cd]\s/.test(l));
    });
    tmux.type('q');
  } finally {
    tmux.kill();
  }
});
