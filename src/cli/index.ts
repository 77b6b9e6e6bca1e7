/**
 * index.ts: the command line (yargs). Each command is a module in ./commands (command, describe,
 * builder, handler) declaring only the options it takes; parsing is separate from running so tests
 * can check what a command line means without starting anything; one error path (main) reports
 * whatever a command throws.
 */
import yargs from 'yargs';
import { check } from './commands/check';
import { exporter } from './commands/exporter';
import { help } from './commands/help';
import { record } from './commands/record';
import { replay } from './commands/replay';
import { top } from './commands/top';
import type { CliArgs, SocktopCommand } from './command';
import { UsageError } from './errors';
import { CommonOptions, normalizeOptions, RawArgs } from './options';
import { finish, installShutdownHandlers, setVerbose, stopSignal } from './shutdown';

/** Every command, the default (live) one first. */
const COMMANDS: readonly SocktopCommand[] = [top, check, record, replay, exporter, help];

export interface ParsedCli {
  command: string;
  options: CommonOptions;
  /** Everything yargs parsed, for the command's own options. */
  argv: CliArgs;
  run(): Promise<number>;
}

const EPILOG = [
  'Keys in the TUI: q quit, ? help, Enter detail, p PID filter, / command filter, F follow,',
  'Esc clear filters, s < > sort column, r reverse, space pause.',
  'Live capture needs root or CAP_BPF+CAP_PERFMON; `socktop check` says what this kernel offers.',
].join('\n');

/**
 * yargs' completions, less the `$0` it offers for the default command, plus the default command's
 * own options (yargs offers only the global ones when no command is typed yet).
 */
function completeWithoutDefault(current: string, argv: unknown,
  defaults: (onCompleted: (err: Error | null, names?: string[]) => void) => void, done: (names: string[]) => void): void {
  defaults((_err, names) => {
    const words = (names ?? []).filter((n) => n !== '$0');
    const typed = ((argv as { _?: unknown[] })._ ?? []).map(String);
    if (current.startsWith('-') && !COMMANDS.some((c) => c !== top && typed.includes(c.name))) {
      for (const o of optionNames(top)) if (!words.includes(o)) words.push(o);
    }
    done(words);
  });
}

/**
 * Parse `args`. Resolves to the command to run, or null when yargs printed help or the version.
 * Bad usage rejects with a UsageError (exit code 2).
 */
export async function parseCli(args: string[]): Promise<ParsedCli | null> {
  let chosen = null as SocktopCommand | null; // set by the handler yargs calls
  let y = yargs(args)
    .scriptName('socktop')
    .usage('$0 [options]: an interactive top for Linux sockets')
    .option('verbose', { type: 'boolean', description: 'show stack traces and libbpf logs with errors' });
  for (const c of COMMANDS) {
    y = y.command({
      command: c.command, describe: c.describe, builder: c.builder,
      handler: () => {
        chosen = c;
      },
    });
  }
  y = y
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
      throw new UsageError(usageMessage(msg || err?.message || 'bad usage', args));
    });
  if (args.length === 1 && args[0] === 'completion') {
    y.showCompletionScript();
    return null;
  }
  const argv = (await y.parseAsync()) as CliArgs;
  const command: SocktopCommand | null = chosen;
  if (argv.help || argv.version || command === null) return null;
  return {
    command: command.name,
    options: normalizeOptions(argv as RawArgs),
    argv,
    run: () => command.handler(argv),
  };
}

/**
 * yargs' "Unknown argument(s): json, b" for options that exist but not for this command: name the
 * command, so that `socktop record -b` says -b is not for record rather than that it does not exist.
 */
function usageMessage(msg: string, args: string[]): string {
  const m = /^Unknown arguments?: (.+)$/.exec(msg);
  if (!m) return msg;
  const keys = m[1].split(', ');
  const asOption = (k: string): string => (k.length === 1 ? `-${k}` : `--${k}`);
  const known = optionsOfAnyCommand();
  if (!keys.every((k) => known.has(k) && args.some((a) => a === asOption(k) || a.startsWith(`${asOption(k)}=`)))) return msg;
  const name = COMMANDS.find((c) => c !== top && args.includes(c.name))?.name;
  const where = name ? `socktop ${name}` : 'socktop';
  return `${keys.map(asOption).join(', ')}: not an option of \`${where}\` (\`${where} --help\` lists them)`;
}

/** A command's options as typed: --name, or -x for a one-letter alias. */
function optionNames(c: SocktopCommand): string[] {
  const o = declaredOptions(c);
  const out: string[] = [];
  for (const k of Object.keys(o.key)) {
    out.push(k.length === 1 ? `-${k}` : `--${k}`);
  }
  return out;
}

/** What a command's builder declares (getOptions() is yargs' own, not in @types/yargs). */
function declaredOptions(c: SocktopCommand): { key: Record<string, unknown>; alias: Record<string, string[]> } {
  const built = c.builder(yargs([])) as unknown as { getOptions(): { key: Record<string, unknown>; alias: Record<string, string[]> } };
  return built.getOptions();
}

/** Every option name and alias some command declares. */
function optionsOfAnyCommand(): Set<string> {
  const names = new Set<string>();
  for (const c of COMMANDS) {
    const o = declaredOptions(c);
    for (const k of Object.keys(o.key)) names.add(k);
    for (const list of Object.values(o.alias)) for (const a of list) names.add(a);
  }
  return names;
}

/** The program: parse, run, and leave through the single shutdown path. */
export async function main(args: string[]): Promise<never> {
  installShutdownHandlers();
  setVerbose(args.includes('--verbose'));
  try {
    const parsed = await parseCli(args);
    if (!parsed) return finish(0);
    setVerbose(parsed.options.verbose);
    const code = await parsed.run();
    return finish(stopSignal.aborted && code === 0 ? 0 : code);
  } catch (err) {
    return finish(1, err);
  }
}
