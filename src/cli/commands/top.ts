/** `socktop [options]`: the live view; the TUI, or --json lines, or -b snapshots. */
import type { Argv } from 'yargs';
import { CliArgs, displayOptions, filterOptions, forceOption, probeOption, SocktopCommand } from '../command';
import { normalizeOptions } from '../options';

export const top: SocktopCommand = {
  name: 'top',
  command: '$0',
  describe: 'live TUI: per-process socket activity',
  builder: (y: Argv) => forceOption(probeOption(displayOptions(filterOptions(y))))
    .option('record', { type: 'string', requiresArg: true, description: 'also record every event to FILE' }),
  async handler(argv: CliArgs): Promise<number> {
    const o = normalizeOptions(argv);
    if (o.json) return (await import('../run/json')).jsonCommand(o);
    if (o.batch) await (await import('../run/batch')).batchCommand(o);
    else await (await import('../run/tui')).topCommand(o);
    return 0;
  },
};
