/** `socktop record -w FILE`: headless recording of every event. */
import type { Argv } from 'yargs';
import { CliArgs, forceOption, probeOption, SocktopCommand } from '../command';
import { normalizeOptions } from '../options';

export const record: SocktopCommand = {
  name: 'record',
  command: 'record',
  describe: 'headless recording of every event to a file',
  builder: (y: Argv) => forceOption(probeOption(y))
    .option('write', { alias: 'w', type: 'string', demandOption: true, requiresArg: true, description: 'recording file' })
    .option('duration', { type: 'string', description: 'stop after this long (30s, 2m)' })
    .option('quiet', { alias: 'q', type: 'boolean', description: 'no status line on stderr' })
    .option('W', { type: 'number', requiresArg: true, description: 'flight recorder: N files (x.0.socktop ... for -w x.socktop) written in turn, the oldest reused' })
    .option('C', { type: 'number', requiresArg: true, description: 'with -W: start the next file after this many MB' })
    .option('G', { type: 'number', requiresArg: true, description: 'with -W: start the next file after this many seconds' })
    .option('trigger', {
      type: 'string', requiresArg: true,
      description: "keep the last --before seconds in memory; write them and --after seconds more when this condition fires (e.g. 'refused>0'; repeatable; with -W N: up to N incident files)",
    })
    .option('before', { type: 'number', requiresArg: true, description: 'with --trigger: seconds kept before the moment (default 10)' })
    .option('after', { type: 'number', requiresArg: true, description: 'with --trigger: seconds written after the moment (default 10)' })
    .option('ring-mb', { type: 'number', requiresArg: true, description: 'with --trigger: memory for the --before seconds, MB (default 64)' }),
  async handler(argv: CliArgs): Promise<number> {
    return (await import('../run/record')).runRecord(normalizeOptions(argv), argv);
  },
};
