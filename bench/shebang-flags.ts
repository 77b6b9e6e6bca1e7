/**
 * bench/shebang-flags.ts: the Node flags of socktop's executable (`#!/usr/bin/env -S node FLAGS`
 * in dist/src/cli/main.js). socktop as installed (`socktop`, `npx socktop`) runs with them; the
 * benches start dist/ files with `node` (they are not executable), so they pass the flags
 * themselves to measure what a user runs.
 */
import * as fs from 'node:fs';

export function shebangFlags(file: string): string[] {
  const first = fs.readFileSync(file, 'utf8').split('\n', 1)[0];
  const m = /^#!\S*env\s+(?:-S\s+)?node\s*(.*)$/.exec(first);
  return m?.[1] ? m[1].trim().split(/\s+/) : [];
}
