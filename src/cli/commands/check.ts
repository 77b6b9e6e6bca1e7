/** `socktop check`: what this kernel offers, which backend auto picks, and why. */
import type { Argv } from 'yargs';
import { CliArgs, probeOption, SocktopCommand } from '../command';
import { normalizeOptions } from '../options';

export const check: SocktopCommand = {
  name: 'check',
  command: 'check',
  describe: 'what this kernel offers, which backend auto picks, and why',
  builder: (y: Argv) => probeOption(y),
  async handler(argv: CliArgs): Promise<number> {
    const { runCheck } = await import('../run/check');
    return runCheck(normalizeOptions(argv).probe);
  },
};
