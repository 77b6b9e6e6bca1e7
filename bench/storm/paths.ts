/** bench/storm/paths.ts: where the storm finds what it runs (compiled to dist/bench/storm/). */
import * as path from 'node:path';
import { shebangFlags } from '../shebang-flags';

export const ROOT = path.resolve(__dirname, '../../..');
export const LOADGEN = path.join(ROOT, 'bench/loadgen');
export const NETNS = path.join(ROOT, 'bench/netns.sh');
export const HEADLESS = path.join(__dirname, '..', 'headless.js');
export const CLI_MAIN = path.join(ROOT, 'dist/src/cli/main.js');

/** The Node flags socktop runs with: its executable's (bench/shebang-flags.ts), or none (--node-defaults). */
export function socktopNodeFlags(nodeDefaults = false): string[] {
  return nodeDefaults ? [] : shebangFlags(CLI_MAIN);
}
