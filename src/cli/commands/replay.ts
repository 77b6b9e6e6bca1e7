/** `socktop replay FILE`: a recording through the same views as a live capture; no root needed. */
import type { Argv } from 'yargs';
import { alertOption, CliArgs, displayOptions, filterOptions, SocktopCommand } from '../command';
import { normalizeOptions } from '../options';

export const replay: SocktopCommand = {
  name: 'replay',
  command: 'replay <file>',
  describe: 'replay a recording in the TUI (no root needed)',
  builder: (y: Argv) => alertOption(displayOptions(filterOptions(y)))
    .positional('file', { type: 'string', description: 'recording file' })
    .option('speed', { type: 'number', default: 1, description: 'replay speed (0 = as fast as possible)' })
    .option('paused', { type: 'boolean', description: 'start paused' }),
  async handler(argv: CliArgs): Promise<number> {
    return (await import('../run/record')).runReplay(normalizeOptions(argv), argv);
  },
};
