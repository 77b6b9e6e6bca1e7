/** bench/storm/provenance.ts: what was measured, for the raw results files of the storm benches. */
import { execFileSync } from 'node:child_process';
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { ROOT } from './paths';

/** The commit, uncommitted changes in the capture path, the BPF object's and the addon's hashes. */
export function provenance(): Record<string, unknown> {
  const git = (...args: string[]): string => {
    try {
      return execFileSync('git', ['-C', ROOT, ...args], { encoding: 'utf8' }).trim();
    } catch {
      return '';
    }
  };
  const sha = (f: string): string | null => {
    try {
      return crypto.createHash('sha256').update(fs.readFileSync(path.join(ROOT, f))).digest('hex').slice(0, 16);
    } catch {
      return null;
    }
  };
  return {
    commit: git('rev-parse', '--short', 'HEAD'),
    dirty: git('status', '--porcelain', '--', 'bpf', 'native/src', 'src/capture', 'src/model', 'src/ui/pump.ts', 'src/cli/live.ts', 'bench')
      .split('\n').filter(Boolean),
    bpfObjectSha256: sha('bpf/socktop.bpf.o'),
    addonSha256: sha('native/build/Release/socktop.node'),
  };
}
