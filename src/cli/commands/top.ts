/** `socktop [options]`: the live view; the TUI, or --json lines, or -b snapshots. */
import type { Argv } from 'yargs';
import { alertOption, CliArgs, displayOptions, filterOptions, forceOption, probeOption, SocktopCommand } from '../command';
import { normalizeOptions } from '../options';

export const top: SocktopCommand = {
  name: 'top',
  command: '$0',
  describe: 'live TUI: per-process socket activity',
  builder: (y: Argv) => alertOption(forceOption(probeOption(displayOptions(filterOptions(y)))))
    .option('record', { type: 'string', requiresArg: true, description: 'also record every event to FILE' }),
  async handler(argv: CliArgs): Promise<number> {
    const o = normalizeOptions(argv);
    if (o.json) return (await import('../run/json')).jsonCommand(o);
    if (o.batch) return (await import('../run/batch')).batchCommand(o);
    await (await import('../run/tui')).topCommand(o);
    return 0;
  },
};
