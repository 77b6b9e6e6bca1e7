/**
 * The views on real BPF with real processes (test/live/fixtures/views-workload.py, in a private
 * network namespace): live batch snapshots of the connections and tree views while the workload
 * holds its connections, then the recording of the same run printed with `replay -b --view` for
 * the commands, remote endpoints, listening ports and tree views, and shown in the real TUI (tmux).
 * Every figure is checked against the workload's own ground truth (its pids, ports and counts).
 */
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { spawn, spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { liveTestOptions } from './bpf-available';
import { CLI, Running, startSocktop } from './socktop-run';
import { Tmux, tmuxAvailable } from '../tui/tmux';

const WORKLOAD = path.resolve(__dirname, '../../../test/live/fixtures/views-workload.py');

interface Truth {
  forkd: number;
  children: number[];
  holder: number;
  listen: number;
  shorts: number[];
  refuse: number;
  ports: { forkd: number; listen: number; refused: number };
}

/** The workload in its own network namespace; resolves with its truth once it holds its connections. */
function startWorkload(): Promise<{ truth: Truth; release: () => Promise<void> }> {
  const child = spawn('unshare', ['-n', 'sh', '-c', `ip link set lo up && exec python3 ${WORKLOAD}`], { stdio: ['pipe', 'pipe', 'inherit'] });
  const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
  let out = '';
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => { child.kill('SIGKILL'); reject(new Error('the workload did not get ready in 60 s')); }, 60000);
    child.stdout!.setEncoding('utf8').on('data', (d) => {
      out += d;
      if (!out.includes('\n')) return;
      clearTimeout(timer);
      resolve({
        truth: JSON.parse(out.split('\n')[0]) as Truth,
        release: async () => {
          child.stdin!.end();
          assert.equal(await exited, 0, 'the workload ended cleanly');
        },
      });
    });
    child.on('exit', (code) => { clearTimeout(timer); reject(new Error(`the workload exited (${code}) early`)); });
  });
}

/** The last whole snapshot a running `socktop -b` printed. */
function lastSnapshot(text: string): string {
  const parts = text.split(/^(?=socktop - )/m).filter((p) => p.startsWith('socktop - '));
  const whole = parts.filter((p) => p.endsWith('\n\n'));
  return whole[whole.length - 1] ?? '';
}

/** Wait until a snapshot satisfies `ok`; return it (or fail with the last one). */
async function snapshotWhere(r: Running, what: string, ok: (snap: string) => boolean, timeoutMs = 8000): Promise<string> {
  const until = Date.now() + timeoutMs;
  let snap = '';
  while (Date.now() < until) {
    snap = lastSnapshot(r.stdout());
    if (snap && ok(snap)) return snap;
    await new Promise((res) => setTimeout(res, 200));
  }
  throw new Error(`no snapshot with ${what}; the last:\n${snap}\nstderr: ${r.stderr()}`);
}

function replayView(file: string, view: string, extra: string[] = []): string {
  const r = spawnSync(process.execPath, [CLI, 'replay', file, '--speed', '0', '-b', '--view', view, ...extra], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  return r.stdout;
}

function line(text: string, re: RegExp, what: string): string {
  const found = text.split('\n').find((l) => re.test(l));
  assert.ok(found, `${what}: no line matching ${re} in\n${text}`);
  return found!;
}

/** Tree rows (PID, PPID, COMM cell with its branches) in order, from a tree view snapshot. */
function treeRows(text: string): { pid: number; ppid: string; rest: string }[] {
  return text.split('\n').map((l) => /^\s*(\d+)\s+(\d+|\?)\s(.*)$/.exec(l)).filter((m) => m !== null)
    .map((m) => ({ pid: Number(m![1]), ppid: m![2], rest: m![3] }));
}

function assertChildrenUnderParent(text: string, t: Truth, where: string): void {
  const rows = treeRows(text);
  const at = rows.findIndex((r) => r.pid === t.forkd);
  assert.ok(at >= 0, `${where}: the forking server ${t.forkd} is in the tree:\n${text}`);
  const next = rows.slice(at + 1, at + 1 + t.children.length);
  assert.deepEqual(next.map((r) => r.pid).sort((a, b) => a - b), t.children, `${where}: its children right under it:\n${text}`);
  for (const r of next) {
    assert.equal(r.ppid, String(t.forkd), `${where}: child ${r.pid}'s PPID`);
    assert.match(r.rest, /[├└]─ vforkd/, `${where}: child ${r.pid} drawn as a branch`);
  }
}

test('views: commands, tree, connections, remote endpoints and listening ports on a real workload', liveTestOptions(), async (t) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'socktop-views-'));
  const file = path.join(dir, 'views.socktop');
  let conns: Running | undefined;
  let tree: Running | undefined;
  let truth: Truth;
  try {
    conns = await startSocktop(['-b', '-d', '1', '--view', 'connections', '--record', file, '--force']);
    tree = await startSocktop(['-b', '-d', '1', '--view', 'tree', '--fold-exited', '600']);
    const w = await startWorkload();
    truth = w.truth;
    assert.equal(truth.shorts.length, 30);
    assert.equal(truth.children.length, 2);
    const { forkd, holder } = truth;
    const port = truth.ports.forkd;

    // A held connection: both ends, each with its owner, ESTABLISHED, each naming the other as peer.
    const held = new RegExp(`^tcp\\s+127\\.0\\.0\\.1:(\\d+)\\s+127\\.0\\.0\\.1:${port}\\s+ESTABLISHED\\s+${holder}\\s+vholder\\s+vforkd\\[(\\d+)\\]`, 'm');
    const snap = await snapshotWhere(conns, 'the held connections', (s) => (s.match(new RegExp(held.source, 'gm')) ?? []).length === 2);
    const family = new Set([forkd, ...truth.children]);
    for (const m of snap.matchAll(new RegExp(held.source, 'gm'))) {
      const clientPort = m[1];
      assert.ok(family.has(Number(m[2])), `the server end is the forking server's or a child's: ${m[0]}`);
      const back = line(snap, new RegExp(`^tcp\\s+127\\.0\\.0\\.1:${port}\\s+127\\.0\\.0\\.1:${clientPort}\\s+ESTABLISHED\\s+(\\d+)\\s+vforkd\\s+vholder\\[${holder}\\]`), 'the server end');
      assert.ok(family.has(Number(/ESTABLISHED\s+(\d+)/.exec(back)![1])), back);
    }
    line(snap, new RegExp(`^tcp\\s+127\\.0\\.0\\.1:${port}\\s+\\S+\\s+LISTEN\\s+${forkd}\\s+vforkd`), 'the listening socket');

    // The forking server's children under it, live (parents read from /proc at first sight).
    const treeSnap = await snapshotWhere(tree, 'the children under the server', (s) => treeRows(s).some((r) => r.ppid === String(forkd)));
    assertChildrenUnderParent(treeSnap, truth, 'live tree');
    await w.release();
    await new Promise((r) => setTimeout(r, 1500));
  } finally {
    if (conns) assert.equal(await conns.stop('SIGINT'), 0, conns.stderr());
    if (tree) assert.equal(await tree.stop('SIGINT'), 0, tree.stderr());
  }

  await t.test('commands: 30 short-lived processes of one command are one row of 30 processes', () => {
    const text = replayView(file, 'commands', ['--fold-exited', '0']);
    // COMMAND USER PROCS LIVE EXITED OPEN CONNS FAILED
    line(text, /^vshort\s+\S+\s+30\s+0\s+30\s+0\s+30\s+0\s/, 'vshort: 30 processes, 30 exited, 30 connects, none failed');
    line(text, /^vrefuse\s+\S+\s+1\s+0\s+1\s+0\s+3\s+3\s/, 'vrefuse: 1 process, 3 connects, 3 failed');
    assert.match(text, /^Processes: .*, 30 exited folded into their command|^Processes: .* exited folded/m);
    const procs = replayView(file, 'processes', ['--fold-exited', '0']);
    assert.doesNotMatch(procs, /vshort/, 'the exited ones are folded out of the processes view');
  });

  await t.test('remote endpoints: connects and refused connects to one port, exactly', () => {
    const text = replayView(file, 'remotes');
    // REMOTE PORT CONNS OK FAILED ... FAILURES PROCESSES
    line(text, new RegExp(`^127\\.0\\.0\\.1\\s+${truth.ports.listen}\\s+30\\s+30\\s+0\\s.*\\s-\\s+vshort x30`), '30 connects to the plain server');
    line(text, new RegExp(`^127\\.0\\.0\\.1\\s+${truth.ports.refused}\\s+3\\s+0\\s+3\\s.*ECONNREFUSED 3\\s+vrefuse\\[${truth.refuse}\\]`), '3 refused');
    line(text, new RegExp(`^127\\.0\\.0\\.1\\s+${truth.ports.forkd}\\s+2\\s+2\\s+0\\s.*vholder\\[${truth.holder}\\]`), 'the holder\'s 2 connects');
  });

  await t.test('listening ports: each server\'s port with its process and accepts', () => {
    const text = replayView(file, 'listeners');
    // PORT LOCAL PID COMM USER STATE ACCEPTS ACC/s OPEN CLIENTS
    line(text, new RegExp(`^\\s*${truth.ports.listen}\\s+127\\.0\\.0\\.1:${truth.ports.listen}\\s+${truth.listen}\\s+vlisten\\s+\\S+\\s+\\S+\\s+30\\s.*127\\.0\\.0\\.1 x30`), 'vlisten: 30 accepts from 127.0.0.1');
    line(text, new RegExp(`^\\s*${truth.ports.forkd}\\s+127\\.0\\.0\\.1:${truth.ports.forkd}\\s+${truth.forkd}\\s+vforkd\\s+\\S+\\s+\\S+\\s+2\\s`), 'vforkd: 2 accepts');
    assert.doesNotMatch(text, new RegExp(`^\\s*${truth.ports.refused}\\s`, 'm'), 'nothing listened on the refused port');
  });

  await t.test('tree from the recording: the children under their parent (parents kept in PROCESS frames)', () => {
    assertChildrenUnderParent(replayView(file, 'tree', ['--fold-exited', '600']), truth, 'replayed tree');
  });

  await t.test('the TUI on the recording: commands view, Tab to the tree and its folding, a filter, Enter on a remote endpoint', { skip: tmuxAvailable() ? undefined : 'no tmux' }, async () => {
    const tmux = new Tmux();
    try {
      tmux.start(`${process.execPath} ${CLI} replay ${file} --speed 0 --view commands --fold-exited 600`, 160, 45);
      await tmux.waitFor('the vshort row', (s) => s.some((l) => /^vshort\s+\S+\s+30\s+0\s+30\s+0\s+30\s/.test(l)));
      await tmux.waitFor('the view bar', (s) => s[3].includes('2 commands'));
      tmux.keys('Tab');
      const screen = await tmux.waitFor('the tree', (s) => s.some((l) => /^\s+PID.?\s+PPID/.test(l)) && s);
      // - on the forking server folds its two children away (+2 shown), + brings them back.
      const head = screen.findIndex((l) => /^\s+PID.?\s+PPID/.test(l));
      const at = screen.findIndex((l) => new RegExp(`^\\s*${truth.forkd}\\s`).test(l));
      assert.ok(at > head, screen.join('\n'));
      tmux.keys('Home');
      for (let i = head + 1; i < at; i++) tmux.keys('Down');
      const childRow = (s: string[]) => s.some((l) => new RegExp(`^\\s*${truth.children[0]}\\s+${truth.forkd}\\s.*└─ |^\\s*${truth.children[0]}\\s+${truth.forkd}\\s.*├─ `).test(l));
      assert.ok(childRow(screen), screen.join('\n'));
      tmux.type('-');
      await tmux.waitFor('the children folded', (s) => !childRow(s) && s.some((l) => new RegExp(`^\\s*${truth.forkd}\\s.*\\+2 vforkd`).test(l)));
      tmux.type('+');
      await tmux.waitFor('the children back', (s) => childRow(s));
      tmux.keys('5');
      await tmux.waitFor('the remotes', (s) => s.some((l) => new RegExp(`^127\\.0\\.0\\.1\\s+${truth.ports.refused}\\s+3\\s+0\\s+3`).test(l)));
      tmux.type('/');
      tmux.type('vrefuse');
      tmux.keys('Enter');
      await tmux.waitFor('only the refused endpoint', (s) => s.some((l) => l.includes(`${truth.ports.refused}`)) && !s.some((l) => new RegExp(`^127\\.0\\.0\\.1\\s+${truth.ports.listen}\\s`).test(l)));
      tmux.keys('Escape');
      await tmux.waitFor('the filter cleared', (s) => s.some((l) => new RegExp(`^127\\.0\\.0\\.1\\s+${truth.ports.listen}\\s+30`).test(l)));
      tmux.keys('Home'); // the selection stayed on the refused endpoint's row; the first row is the busiest
      tmux.keys('Enter');
      await tmux.waitFor('its connections', (s) => s[2].includes(`filter: remote 127.0.0.1:${truth.ports.listen}`) && s.some((l) => /^PROTO LOCAL/.test(l)));
      tmux.type('q');
    } finally {
      tmux.kill();
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
