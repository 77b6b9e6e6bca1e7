/** `socktop help <topic>`: the README's user-facing sections, in the terminal. */
import type { Argv } from 'yargs';
import type { CliArgs, SocktopCommand } from '../command';
import { HELP_TOPICS, helpTopic } from '../help-topics';

export const help: SocktopCommand = {
  name: 'help',
  command: 'help <topic>',
  describe: `more on a topic: ${HELP_TOPICS.join(', ')}`,
  builder: (y: Argv) => y.positional('topic', { type: 'string', choices: HELP_TOPICS }),
  async handler(argv: CliArgs): Promise<number> {
    process.stdout.write(helpTopic(String(argv.topic)));
    return 0;
  },
};
