/**
 * index.ts: the command line (yargs): a flat list of commands (the default live TUI, check,
 * record, replay) sharing one set of options. Parsing is separate from running so tests can check
 * what a command line means without starting anything; every command module is loaded only when it
 * runs, so `--help` and `check` never load blessed or the capture worker.
 */
import yargs from 'yargs';
import type { Argv } from 'yargs';
import { PROBE_CHOICES } from '../capture/addon';
import { HELP_TOPICS } from './commands/help-topics';
import { UsageError } from './errors';
import { CommonOptions, normalizeOptions, RawArgs } from './options';
import { finish, installShutdownHandlers, setVerbose, stopSignal } from './shutdown';

export type CommandName = 'top' | 'check' | 'record' | 'replay' | 'help';

export interface ParsedCli {
  command: CommandName;
  options: CommonOptions;
  /** Everything yargs parsed, for the record/replay commands' own options. */
  argv: Record<string, unknown>;
}

const EPILOG = [
  'Keys in the TUI: q quit, ? help, Enter detail, p PID filter, / command filter, F follow,',
  'Esc clear filters, s < > sort column, r reverse, space pause.',
  'Live capture needs root or CAP_BPF+CAP_PERFMON; `socktop check` says what this kernel offers.',
].join('\n');

function globalOptions(y: Argv): Argv {
  return y
    .option('pid', { alias: 'p', type: 'string', description: 'only these PIDs: 123,456 ranges 100-200, !123 excludes' })
    .option('comm', { type: 'string', description: 'only commands whose name contains this' })
    .option('delay', { alias: 'd', type: 'number', default: 1, description: 'seconds between refreshes' })
    .option('probe', { type: 'string', choices: PROBE_CHOICES, default: 'auto', description: 'probe backend' })
    .option('json', { type: 'boolean', description: 'print events as JSON lines instead of the TUI' })
    .option('batch', { alias: 'b', type: 'boolean', description: 'batch mode: text snapshots of the table to stdout, like top -b' })
    .option('iterations', { alias: 'n', type: 'number', description: 'stop after this many refreshes' })
    .option('record', { type: 'string', requiresArg: true, description: 'also record every event to FILE' })
    .option('force', { type: 'boolean', description: 'overwrite an existing recording file (record -w, --record)' })
    .option('verbose', { type: 'boolean', description: 'show stack traces with errors' });
}

/** yargs' completions, less the `$0` it offers for the default command. */
function completeWithoutDefault(_current: string, _argv: unknown,
  defaults: (onCompleted: (err: Error | null, names?: string[]) => void) => void, done: (names: string[]) => void): void {
  defaults((_err, names) => done((names ?? []).filter((n) => n !== '$0')));
}

/**
 * Parse `args`. Resolves to the command to run, or null when yargs printed help or the version.
 * Bad usage rejects with a UsageError (exit code 2).
 */
export async function parseCli(args: string[]): Promise<ParsedCli | null> {
  let chosen: CommandName | null = null;
  const pick = (name: CommandName) => () => {
    chosen = name;
  };
  const y = globalOptions(yargs(args))
    .scriptName('socktop')
    .usage('$0 [options]: an interactive top for Linux sockets')
    .command('$0', 'live TUI: per-process socket activity', () => undefined, pick('top'))
    .command('check', 'what this kernel offers, which backend auto picks, and why', () => undefined, pick('check'))
    .command('record', 'headless recording of every event to a file', (c) => c
      .option('write', { alias: 'w', type: 'string', demandOption: true, requiresArg: true, description: 'recording file' })
      .option('duration', { type: 'string', description: 'stop after this long (30s, 2m)' })
      .option('quiet', { alias: 'q', type: 'boolean', description: 'no status line on stderr' }), pick('record'))
    .command('replay <file>', 'replay a recording in the TUI (no root needed)', (c) => c
      .positional('file', { type: 'string', description: 'recording file' })
      .option('speed', { type: 'number', default: 1, description: 'replay speed (0 = as fast as possible)' })
      .option('paused', { type: 'boolean', description: 'start paused' }), pick('replay'))
    .command('help <topic>', `more on a topic: ${HELP_TOPICS.join(', ')}`, (c) => c
      .positional('topic', { type: 'string', choices: HELP_TOPICS }), pick('help'))
    // Listed for --help; parseCli prints the script (yargs' own handling trips over --strict).
    .command('completion', 'print a bash/zsh completion script (socktop completion >> ~/.bashrc)', () => undefined, () => undefined)
    .completion('completion', false, completeWithoutDefault)
    .epilog(EPILOG)
    .strict()
    .help()
    .alias('help', 'h')
    .version()
    .alias('version', 'V')
    .wrap(Math.min(100, process.stdout.columns || 100))
    .exitProcess(false)
    .fail((msg, err) => {
      throw new UsageError(msg || err?.message || 'bad usage');
    });
  if (args.length === 1 && args[0] === 'completion') {
    y.showCompletionScript();
    return null;
  }
  const argv = (await y.parseAsync()) as Record<string, unknown>;
  if (argv.help || argv.version || chosen === null) return null;
  rejectOptionsThatDoNotApply(chosen, argv);
  return { command: chosen, options: normalizeOptions(argv as RawArgs), argv };
}

/** An option a command would silently ignore is a mistake the user should hear about. */
function rejectOptionsThatDoNotApply(command: CommandName, argv: Record<string, unknown>): void {
  const given = (name: string): boolean => argv[name] !== undefined && argv[name] !== false;
  const notFor = (names: string[], why: string): void => {
    const bad = names.filter(given).map((n) => `--${n}`);
    if (bad.length) throw new UsageError(`${bad.join(', ')}: not for \`socktop ${command}\` (${why})`);
  };
  if (command === 'record') notFor(['json', 'batch', 'record'], 'it writes -w FILE; `socktop --json --record FILE` shows events while recording');
  if (command === 'replay') {
    notFor(['record', 'force'], 'it reads a recording');
    if (argv.probe !== 'auto') throw new UsageError('--probe: not for `socktop replay` (a replay loads no probes)');
  }
  if (command === 'check') notFor(['json', 'batch', 'record', 'force'], 'it prints a report');
}

/** Run a parsed command; resolves to its exit code. */
export async function runCommand(p: ParsedCli): Promise<number> {
  const o = p.options;
  switch (p.command) {
    case 'check': {
      const { runCheck } = await import('./commands/check');
      return runCheck(o.probe);
    }
    case 'record':
      return (await import('./commands/record')).runRecord(p);
    case 'replay':
      return (await import('./commands/record')).runReplay(p);
    case 'help':
      process.stdout.write((await import('./commands/help-topics')).helpTopic(String(p.argv.topic)));
      return 0;
    default:
      if (o.json) return (await import('./commands/json')).jsonCommand(o);
      if (o.batch) await (await import('./commands/batch')).batchCommand(o);
      else await (await import('./commands/top')).topCommand(o);
      return 0;
  }
}

/** The program: parse, run, and leave through the single shutdown path. */
export async function main(args: string[]): Promise<never> {
  installShutdownHandlers();
  setVerbose(args.includes('--verbose'));
  try {
    const parsed = await parseCli(args);
    if (!parsed) return finish(0);
    setVerbose(parsed.options.verbose);
    const code = await runCommand(parsed);
    return finish(stopSignal.aborted && code === 0 ? 0 : code);
  } catch (err) {
    return finish(1, err);
  }
}
