/**
 * command.ts: the shape of a socktop command, a yargs command module (command, describe, builder,
 * handler), and the option groups the commands share. A module is small: its handler imports the
 * code that runs it (src/cli/run/) only when it runs, so `--help` and `check` never load blessed or
 * the capture worker. Options a command does not declare are refused by yargs' strict mode.
 */
import type { Argv } from 'yargs';
import { VIEW_NAMES } from '../model/views/registry';
import { DEFAULT_FOLD_EXITED_SEC } from '../model/views';
import { PROBE_CHOICES } from '../capture/addon';

export type CliArgs = Record<string, unknown>;

export interface SocktopCommand {
  /** The name parse results and messages use. */
  name: string;
  command: string;
  describe: string;
  builder(y: Argv): Argv;
  /** Runs the parsed command; resolves to the exit code. */
  handler(argv: CliArgs): Promise<number>;
}

/** -p and --comm: which processes to show. */
export function filterOptions(y: Argv): Argv {
  return y
    .option('pid', { alias: 'p', type: 'string', description: 'only these PIDs: 123,456 ranges 100-200, !123 excludes' })
    .option('comm', { type: 'string', description: 'only commands whose name contains this' })
    .option('container', { type: 'string', requiresArg: true, description: 'only processes in this container (id prefix, pod UID prefix, or name/unit such as nginx.service)' })
    .option('netns', { type: 'string', requiresArg: true, description: 'only processes in this network namespace (inode, as lsns -t net shows)' })
    .option('family', { type: 'string', description: 'only these socket families: inet (TCP, UDP), unix; e.g. inet,unix (default all)' });
}

/** How the events are shown: the TUI (default), --json lines, or -b text snapshots. */
export function displayOptions(y: Argv): Argv {
  return y
    .option('delay', { alias: 'd', type: 'number', default: 1, description: 'seconds between refreshes' })
    .option('json', { type: 'boolean', description: 'print events as JSON lines instead of the TUI' })
    .option('batch', { alias: 'b', type: 'boolean', description: 'batch mode: text snapshots of the table to stdout, like top -b' })
    .option('iterations', { alias: 'n', type: 'number', description: 'stop after this many refreshes' })
    .option('view', {
      type: 'string', requiresArg: true,
      description: `view to show (TUI: to start in; -b: to print): ${VIEW_NAMES.join(', ')}`,
    })
    .option('fold-exited', {
      type: 'number', requiresArg: true,
      description: `seconds after which an exited process folds into its command (default ${DEFAULT_FOLD_EXITED_SEC})`,
    });
}

/** --alert COND (repeatable): conditions shown in the TUI header, as JSON lines, in batch mode. */
export function alertOption(y: Argv): Argv {
  return y.option('alert', {
    type: 'string', requiresArg: true,
    description: "alert when a condition holds, e.g. 'refused>10/s' 'comm=nginx:resets>0' (repeatable; socktop help alerts)",
  });
}

export function probeOption(y: Argv): Argv {
  return y.option('probe', { type: 'string', choices: PROBE_CHOICES, default: 'auto', description: 'probe backend' });
}

export function forceOption(y: Argv): Argv {
  return y.option('force', { type: 'boolean', description: 'overwrite an existing recording file (of the invoking user)' });
}
