/**
 * bench/storm/options.ts: the storm's command line, parsed from an argv given to it (never from
 * process.argv at import), and the names of its run kinds.
 */

export const ALL_PEERS = ['tcplife', 'tcpstates', 'bpftrace', 'tcplife-bpfcc'] as const;
export type Peer = (typeof ALL_PEERS)[number];
const PROBES = ['auto', 'cgroup', 'kprobe', 'tracepoint'];
export const CLI_MODES = ['tui', 'json', 'record', 'exporter'] as const;
export type Mode = (typeof CLI_MODES)[number];
/** 'baseline', a peer, or a socktop mode on a backend: socktop[P], socktop-json[P], socktop-record[P], socktop-exporter[P]. */
export type RunKind = string;

/** Everything the storm's runs and report depend on (written as `options` to the raw results). */
export interface StormOptions {
  rates: number[];
  duration: number;
  grace: number;
  reps: number;
  threads: number;
  sources: number;
  concurrency: number;
  refusedEvery: number;
  peers: Peer[];
  /** socktop's modes: tui (bench/headless.js), json (the CLI's --json), record (the CLI's record), exporter (the CLI's exporter). */
  modes: Mode[];
  /** Probe backends each mode runs on, one run kind per backend. */
  probes: string[];
  install: boolean;
  quietWaitSec: number;
  quietCores: number;
  /** A run during which something else used more than this many cores is repeated (--retries times). */
  maxOther: number;
  retries: number;
  out: string | undefined;
  headlessArgs: string[];
  /** Run socktop with Node's default flags instead of its executable's (--node-defaults: as the storm did before). */
  nodeDefaults: boolean;
}

/** --help: the options parseStormOptions reads, with their defaults. */
export const STORM_USAGE = `usage: node dist/bench/storm.js [options]        (root; or npm run bench -- storm [options])
       node dist/bench/storm.js --report FILE  (the tables of a saved run again; no runs, no root)
  --rates 10000,0            connection rates per second (0: as fast as it goes)
  --duration 5 --grace 2     seconds of starting connections per run, then loadgen's grace
  --reps 1                   the whole sequence N times per rate (medians [min-max])
  --threads 1 --sources 64 --concurrency 64 --refused-every 10    the load generator
  --modes tui,json,record,exporter    socktop's modes
  --probes auto              backends each mode runs on: auto, cgroup, kprobe, tracepoint
  --peers ${ALL_PEERS.join(',')}    (--no-peers: none)
  --no-install               skip missing peers instead of apt-get installing them
  --quiet-wait 60 --quiet-cores 0.3    wait for a quiet machine before each run
  --max-other 0.25 --retries 2         repeat a run that other load disturbed
  --headless-args '...'      more bench/headless.js arguments for the tui mode
  --node-defaults            run socktop with Node's default flags, not its executable's shebang flags
  --out FILE                 raw results (default bench/results/storm-DATE.json)`;

/** The value after `--name` in argv (undefined when absent). */
export function argValue(argv: readonly string[], name: string): string | undefined {
  const i = argv.indexOf(`--${name}`);
  return i >= 0 ? argv[i + 1] : undefined;
}

function num(argv: readonly string[], name: string, def: number): number {
  const v = argValue(argv, name);
  const n = v === undefined ? def : Number(v);
  if (!Number.isFinite(n) || n < 0) throw new Error(`--${name}: '${v}' is not a number`);
  return n;
}

function listOption<T extends string>(argv: readonly string[], name: string, def: string, allowed: readonly string[]): T[] {
  const v = (argValue(argv, name) ?? def).split(',').filter(Boolean);
  const bad = v.filter((x) => !allowed.includes(x));
  if (bad.length) throw new Error(`--${name}: ${bad.join(', ')}: not one of ${allowed.join(', ')}`);
  return [...new Set(v)] as T[];
}

/** The storm's options from a command line (process.argv or a test's); throws a one-line Error on bad input. */
export function parseStormOptions(argv: readonly string[]): StormOptions {
  const has = (name: string): boolean => argv.includes(`--${name}`);
  return {
    rates: (argValue(argv, 'rates') ?? '10000,0').split(',').map(Number),
    duration: num(argv, 'duration', 5),
    grace: num(argv, 'grace', 2),
    reps: num(argv, 'reps', 1),
    threads: num(argv, 'threads', 1),
    sources: num(argv, 'sources', 64),
    concurrency: num(argv, 'concurrency', 64),
    refusedEvery: num(argv, 'refused-every', 10),
    peers: has('no-peers') ? [] : listOption<Peer>(argv, 'peers', ALL_PEERS.join(','), ALL_PEERS),
    modes: listOption<Mode>(argv, 'modes', CLI_MODES.join(','), CLI_MODES),
    probes: listOption<string>(argv, 'probes', 'auto', PROBES),
    install: !has('no-install'),
    quietWaitSec: num(argv, 'quiet-wait', 60),
    quietCores: num(argv, 'quiet-cores', 0.3),
    maxOther: num(argv, 'max-other', 0.25),
    retries: num(argv, 'retries', 2),
    out: argValue(argv, 'out'),
    headlessArgs: (argValue(argv, 'headless-args') ?? '').split(' ').filter(Boolean),
    nodeDefaults: has('node-defaults'),
  };
}

/** The run kind of a socktop mode on a backend. */
export const socktopKind = (mode: Mode, probe: string): RunKind =>
  `${mode === 'tui' ? 'socktop' : `socktop-${mode}`}[${probe}]`;

/** The mode and backend of a socktop run kind (null: baseline or a peer). */
export function parseSocktopKind(kind: RunKind): { mode: Mode; probe: string } | null {
  const m = /^socktop(?:-(json|record|exporter))?\[([a-z]+)\]$/.exec(kind);
  return m ? { mode: (m[1] ?? 'tui') as Mode, probe: m[2] } : null;
}
