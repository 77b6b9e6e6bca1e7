/** bench/storm/log.ts: the storm's progress lines, on stderr (stdout holds the tables). */
export const log = (s: string): void => void process.stderr.write(`storm: ${s}\n`);
