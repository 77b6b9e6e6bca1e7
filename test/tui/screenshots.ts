/**
 * screenshots.ts: regenerate screenshots/ from a real run. Run it through scripts/screenshots.sh
 * (which builds first), as root: it is the live capture.
 *
 *   node dist/test/tui/screenshots.js [--out screenshots] [--size 140x45] [--settle 20]
 *        [--no-loadgen] [--no-png] [--wait-quiet 180]
 *
 * 0. Other load generators on the machine (bench/loadgen's lg-client, lg-server: other people's
 *    benches) would dwarf the scene: it waits up to --wait-quiet seconds for them to end.
 * 1. socktop (the live TUI, `-d 1`, TERM=xterm-256color) starts in a private tmux server.
 * 2. Real loopback traffic from named processes (test/tui/fixtures/scene.ts): web-client ->
 *    web-api (HTTP, a new connection per request) -> cached (kept-alive connections, 127.0.0.1
 *    and [::1]), chat-server with three chat-clients streaming, cron-job connecting to a closed
 *    port (refused: errors); plus bench/loadgen (lg-server / lg-client, every tenth connect
 *    refused) when built. The clients run as nobody, the servers as root.
 * 3. After --settle seconds: the table; the detail view of cached (arrow keys to its row, Enter);
 *    the help overlay (?); the PID filter prompt (p) over a filtered table; then each other view
 *    by its key: commands (2), tree (3), connections (4), remote endpoints (5), listening ports (6). Each screen is read
 *    with `tmux capture-pane -e -p` (text with its colours) and rendered by ansi-svg.ts to
 *    <name>.svg, then to <name>.png with rsvg-convert (librsvg2-bin) or headless chromium.
 * 4. q, and the terminal is checked to be back in cooked mode; everything started is stopped.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { ChildProcess, execFileSync, spawn, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import * as readline from 'node:readline';
import { bpfUnavailableReason } from '../live/bpf-available';
import { ansiToSvg } from './ansi-svg';
import { Tmux, tmuxAvailable } from './tmux';
import { HEADER_HEIGHT } from '../../src/ui/views/header';

const ROOT = path.resolve(__dirname, '../../..');
const CLI = path.join(ROOT, 'dist/src/cli/main.js');
const SCENE = path.join(__dirname, 'fixtures/scene.js');
const LOADGEN = path.join(ROOT, 'bench/loadgen');

const PORTS = { api: 8080, cache: 6379, chat: 7070, closed: 5432, loadgen: 9090 };
const NOBODY = 65534;

function argValue(name: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

const opts = {
  out: path.resolve(argValue('out') ?? path.join(ROOT, 'screenshots')),
  size: (argValue('size') ?? '140x45').split('x').map(Number) as [number, number],
  settleSec: Number(argValue('settle') ?? 40),
  waitQuietSec: Number(argValue('wait-quiet') ?? 180),
  loadgen: !process.argv.includes('--no-loadgen'),
  png: !process.argv.includes('--no-png'),
};

const children: ChildProcess[] = [];

/** Start a scene role and wait for its "ready". */
async function role(name: string, args: (string | number)[], uid?: number): Promise<ChildProcess> {
  const child = spawn(process.execPath, [SCENE, name, ...args.map(String)], {
    stdio: ['ignore', 'pipe', 'inherit'], detached: true, ...(uid !== undefined ? { uid, gid: uid } : {}),
  });
  children.push(child);
  await new Promise<void>((resolve, reject) => {
    const rl = readline.createInterface({ input: child.stdout! });
    rl.once('line', () => resolve());
    child.once('exit', (code) => reject(new Error(`scene role ${name} exited (${code}) before it was ready`)));
  });
  return child;
}

function stopAll(): void {
  for (const c of children) {
    try {
      if (c.pid && c.exitCode === null) process.kill(-c.pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
}

/** Pids of running load generators (by name), except `ours` and its children. */
function foreignLoad(ours = -1): number[] {
  const out: number[] = [];
  for (const pid of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(pid)) continue;
    try {
      if (!/^(lg-client|lg-server|loadgen)$/.test(fs.readFileSync(`/proc/${pid}/comm`, 'utf8').trim())) continue;
      const ppid = Number(fs.readFileSync(`/proc/${pid}/stat`, 'utf8').replace(/^.*\) /s, '').split(' ')[1]);
      if (Number(pid) !== ours && ppid !== ours) out.push(Number(pid));
    } catch {
      // gone
    }
  }
  return out;
}

/**
 * Let the scene run `settleSec`; if other load generators run meanwhile, until they have been gone
 * for a whole chart (62 s), so their burst is not what the chart shows (at most `maxSec`).
 */
async function settle(settleSec: number, maxSec: number, ours: number): Promise<void> {
  const start = Date.now();
  let lastForeign = 0;
  let told = false;
  for (;;) {
    if (foreignLoad(ours).length) {
      lastForeign = Date.now();
      if (!told) console.log('  other load generators started meanwhile: waiting for them to end and leave the chart');
      told = true;
    }
    const elapsed = Date.now() - start;
    if (elapsed >= settleSec * 1000 && (lastForeign === 0 || Date.now() - lastForeign >= 62000)) return;
    if (elapsed >= maxSec * 1000) {
      console.log('  (other load generators kept running: they show in the screenshots)');
      return;
    }
    await sleep(500);
  }
}

async function waitQuiet(seconds: number): Promise<void> {
  const until = Date.now() + seconds * 1000;
  let quietSince = 0;
  let told = false;
  while (Date.now() < until) {
    if (foreignLoad().length === 0) {
      if (!quietSince) quietSince = Date.now();
      if (Date.now() - quietSince >= 5000) return;
    } else {
      quietSince = 0;
      if (!told) console.log(`waiting (up to ${seconds} s) for other load generators to end: pids ${foreignLoad().join(' ')}`);
      told = true;
    }
    await sleep(500);
  }
  console.log('  (other load generators still running: they will show in the screenshots)');
}

async function portFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.createServer().once('error', () => resolve(false)).listen(port, '127.0.0.1', () => s.close(() => resolve(true)));
  });
}

/** Table rows on screen in order: their pids. */
function rowPids(screen: string[]): number[] {
  const head = screen.findIndex((l) => /^\s+PID/.test(l) && l.includes('COMM'));
  const out: number[] = [];
  if (head < 0) return out;
  for (const line of screen.slice(head + 1)) {
    const m = /^\s*(\d+) /.exec(line);
    if (!m) break;
    out.push(Number(m[1]));
  }
  return out;
}

/** The pid of the row drawn in inverse video (the selection; the view bar above is not a row). */
function selectedPid(screenWithEscapes: string[]): number | undefined {
  for (const line of screenWithEscapes.slice(HEADER_HEIGHT + 1)) {
    const m = /\x1b\[(?:[0-9;]*;)?7m(?:\x1b\[[0-9;]*m)*\s*(\d+) /.exec(line);
    if (m) return Number(m[1]);
  }
  return undefined;
}

/** Wait until socktop has drawn a new frame (its uptime ticks), then a little more. */
async function nextFrame(tmux: Tmux): Promise<void> {
  const up = (s: string[]) => /up (\S+)/.exec(s[0] ?? '')?.[1];
  const before = up(tmux.screen());
  await tmux.waitFor('a new frame', (s) => up(s) !== before);
  await sleep(250);
}

function toPng(svgFile: string): string | null {
  const png = svgFile.replace(/\.svg$/, '.png');
  if (spawnSync('rsvg-convert', ['--version']).status === 0) {
    execFileSync('rsvg-convert', ['-o', png, svgFile]);
    return png;
  }
  for (const chromium of ['chromium', 'chromium-browser', 'google-chrome']) {
    if (spawnSync(chromium, ['--version']).status !== 0) continue;
    const svg = fs.readFileSync(svgFile, 'utf8');
    const [w, h] = [/width="([\d.]+)"/.exec(svg)![1], /height="([\d.]+)"/.exec(svg)![1]].map((v) => Math.ceil(Number(v)));
    execFileSync(chromium, ['--headless', '--no-sandbox', '--disable-gpu', '--hide-scrollbars', `--window-size=${w},${h}`,
      `--screenshot=${png}`, `file://${svgFile}`], { stdio: 'ignore' });
    return png;
  }
  return null;
}

async function main(): Promise<number> {
  const reason = bpfUnavailableReason();
  if (reason) throw new Error(`the screenshots are of the live capture, which cannot run here: ${reason}`);
  if (!tmuxAvailable()) throw new Error('tmux is not installed (apt-get install tmux)');
  for (const [what, port] of Object.entries(PORTS)) {
    if (!(await portFree(port))) throw new Error(`port ${port} (${what}) is in use; the scene needs it`);
  }
  await waitQuiet(opts.waitQuietSec);
  const [width, height] = opts.size;
  fs.mkdirSync(opts.out, { recursive: true });
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'socktop-shots-'));
  const tmux = new Tmux('shots');
  const shots: { name: string; alt: string; svg: string; png: string | null }[] = [];
  const capture = (name: string, alt: string) => {
    const text = tmux.screenWithEscapes().join('\n');
    const svg = path.join(opts.out, `${name}.svg`);
    fs.writeFileSync(svg, ansiToSvg(text, width, height, { title: `socktop: ${alt}` }));
    const png = opts.png ? toPng(svg) : null;
    shots.push({ name, alt, svg, png });
    console.log(`  ${name}: ${path.relative(ROOT, svg)}${png ? `, ${path.relative(ROOT, png)}` : ''}`);
  };
  try {
    tmux.start(`env TERM=xterm-256color node ${CLI} -d 1; stty -a > ${dir}/stty; sleep 30`, width, height);
    await tmux.waitFor('socktop to start', (s) => s[0].includes('LIVE'), 30000);

    const cached = await role('cached', [PORTS.cache]);
    const api = await role('web-api', [PORTS.api, PORTS.cache]);
    await role('chat-server', [PORTS.chat]);
    const chatClients: ChildProcess[] = [];
    for (let i = 0; i < 3; i++) chatClients.push(await role('chat-client', [PORTS.chat], NOBODY));
    const client = await role('web-client', [PORTS.api, 120], NOBODY);
    const cron = await role('cron-job', [PORTS.closed, PORTS.cache], NOBODY);
    let ours = -1;
    if (opts.loadgen && fs.existsSync(LOADGEN)) {
      const lg = spawn(LOADGEN, ['--rate', '150', '--duration', '3600', '--refused-every', '10', '--bytes', '2048',
        '--port', String(PORTS.loadgen), '--sources', '4'], { stdio: 'ignore', detached: true });
      children.push(lg);
      ours = lg.pid!;
    } else if (opts.loadgen) {
      console.log(`  (no ${path.relative(ROOT, LOADGEN)}: bash bench/build-loadgen.sh adds lg-server and lg-client)`);
    }
    console.log(`scene running; settling ${opts.settleSec} s`);
    await settle(opts.settleSec, opts.waitQuietSec + opts.settleSec, ours);

    // 1. The table under load, the busiest first (CONN/s), the first row selected.
    tmux.keys('Home');
    await tmux.waitFor('the scene in the table', (s) => [api.pid, cached.pid, client.pid].every((p) => rowPids(s).includes(p!)));
    await nextFrame(tmux);
    capture('table', 'the process table under loopback load');

    // 2. The detail view of cached (listening on IPv4 and IPv6, kept-alive and short connections,
    //    its recent events fit below): move the selection to its row, Enter.
    // Rows move as their rates change, the selection stays on its pid: step towards the row.
    await tmux.waitFor('cached selected', () => {
      const screen = tmux.screenWithEscapes();
      const sel = selectedPid(screen);
      if (sel === cached.pid) return true;
      const order = rowPids(screen.map((l) => l.replace(/\x1b\[[0-9;]*m/g, '')));
      const from = order.indexOf(sel ?? -1);
      const to = order.indexOf(cached.pid!);
      if (from >= 0 && to >= 0) tmux.keys(to > from ? 'Down' : 'Up');
      return false;
    }, 20000);
    tmux.keys('Enter');
    await tmux.waitFor('the detail view', (s) => s.some((l) => l.startsWith(`PID ${cached.pid}  cached`)));
    await sleep(1500);
    await nextFrame(tmux);
    capture('detail', 'the detail view of one process: its sockets and recent events');
    tmux.keys('Escape');
    await tmux.waitFor('the table again', (s) => rowPids(s).length > 0);

    // 3. The help overlay.
    tmux.keys('?');
    await tmux.waitFor('help', (s) => s.some((l) => l.includes('KEYS')));
    await nextFrame(tmux);
    capture('help', 'the help overlay');
    tmux.keys('Escape');
    await tmux.waitFor('help closed', (s) => !s.some((l) => l.includes('KEYS')));

    // 4. A PID filter applied (the scene's pid range, one chat client excluded), and its prompt
    //    open again to change it.
    const pids = `${cached.pid}-${cron.pid},!${chatClients[0].pid}`;
    tmux.keys('p');
    tmux.type(pids);
    tmux.keys('Enter');
    await tmux.waitFor('the filter', (s) => s[2].includes(`filter: pid ${pids}`) && rowPids(s).includes(api.pid!)
      && !rowPids(s).includes(chatClients[0].pid!));
    tmux.keys('p');
    await tmux.waitFor('the prompt', (s) => s[height - 1].includes('PID filter'));
    await nextFrame(tmux);
    capture('filter', 'the PID filter prompt over a filtered table');
    tmux.keys('Escape');
    tmux.keys('Escape');
    await tmux.waitFor('the filter cleared', (s) => !s[2].includes('filter:'));

    // 5. Every other view, by its key, the first row selected.
    const views: [string, string, string, RegExp][] = [
      ['2', 'commands', 'the commands view: processes grouped by command', /^COMMAND/],
      ['3', 'tree', 'the tree view: processes under their parents', /^\s+PID.?\s+PPID/],
      ['4', 'connections', 'the connections view: one row per socket, closed ones dimmed', /^PROTO/],
      ['5', 'remotes', 'the remote endpoints view: connects, failures, latency by remote address', /^REMOTE/],
      ['6', 'listeners', 'the listening ports view: accepts, open connections, clients', /^\s*PORT.? LOCAL/],
    ];
    for (const [key, name, alt, head] of views) {
      tmux.type(key);
      await tmux.waitFor(`the ${name} view`, (s) => s.some((l) => head.test(l)));
      tmux.keys('Home');
      await nextFrame(tmux);
      capture(name, alt);
    }

    tmux.keys('q');
    await tmux.waitFor('socktop to quit', () => fs.existsSync(`${dir}/stty`) && fs.readFileSync(`${dir}/stty`, 'utf8').includes('icanon'));
  } finally {
    tmux.kill();
    stopAll();
    fs.rmSync(dir, { recursive: true, force: true });
  }
  console.log('\nREADME markdown:\n');
  for (const s of shots) {
    const file = path.relative(ROOT, s.png ?? s.svg);
    console.log(`![socktop: ${s.alt}](${file})`);
  }
  return 0;
}

if (require.main === module) {
  process.on('SIGINT', () => {
    stopAll();
    process.exit(130);
  });
  main().then((code) => process.exit(code), (e) => {
    stopAll();
    console.error(`screenshots: ${e instanceof Error ? e.message : String(e)}`);
    process.exit(1);
  });
}
