/**
 * bench/storm/peer-install.ts: the peer tools present before the runs: missing ones installed with
 * apt-get (unless --no-install), BCC given kernel headers to compile against; notes on those skipped.
 */
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { which } from './host';
import { log } from './log';
import type { Peer } from './options';

/** Where BCC finds kernel headers (BCC_KERNEL_SOURCE): Debian's two header trees merged. */
export const BCC_KSRC = '/tmp/socktop-bench-bcc-ksrc';

const PEER_PACKAGES: Record<Peer, { bin: string; pkg: string }> = {
  tcplife: { bin: 'tcplife', pkg: 'libbpf-tools' },
  tcpstates: { bin: 'tcpstates', pkg: 'libbpf-tools' },
  bpftrace: { bin: 'bpftrace', pkg: 'bpftrace' },
  'tcplife-bpfcc': { bin: 'tcplife-bpfcc', pkg: 'bpfcc-tools' },
};

function aptInstall(pkgs: string[]): boolean {
  log(`apt-get install -y ${pkgs.join(' ')}`);
  try {
    execFileSync('apt-get', ['install', '-y', '--no-install-recommends', ...pkgs], {
      stdio: ['ignore', 'ignore', 'inherit'], env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' }, timeout: 600000,
    });
    return true;
  } catch {
    return false;
  }
}

/**
 * BCC compiles its programs against kernel headers; this kernel ships none. Debian's headers are
 * split in two trees (-common and -amd64); BCC wants one: merge them as symlinks.
 */
function prepareBccHeaders(install: boolean): string | null {
  if (fs.existsSync(`/lib/modules/${os.release()}/build`)) return null; // real headers: nothing to do
  const find = (): { common: string; arch: string } | null => {
    const dirs = fs.existsSync('/usr/src') ? fs.readdirSync('/usr/src') : [];
    const arch = dirs.filter((d) => /^linux-headers-.*-amd64$/.test(d)).sort().pop();
    if (!arch) return null;
    const common = arch.replace(/-amd64$/, '-common');
    return dirs.includes(common) ? { common: `/usr/src/${common}`, arch: `/usr/src/${arch}` } : null;
  };
  let h = find();
  if (!h && install) {
    aptInstall(['linux-headers-amd64']);
    h = find();
  }
  if (!h) return 'no kernel headers (linux-headers-amd64) to point BCC_KERNEL_SOURCE at';
  if (!fs.existsSync(path.join(BCC_KSRC, 'include/generated'))) {
    fs.rmSync(BCC_KSRC, { recursive: true, force: true });
    fs.mkdirSync(BCC_KSRC, { recursive: true });
    execFileSync('cp', ['-rs', `${h.common}/.`, `${BCC_KSRC}/`]);
    execFileSync('cp', ['-rsf', `${h.arch}/.`, `${BCC_KSRC}/`]);
  }
  return null;
}

/** Install what is missing (unless !install); returns the peers to run and notes on those skipped. */
export function preparePeers(wanted: Peer[], install: boolean): { peers: Peer[]; notes: Record<string, string> } {
  const notes: Record<string, string> = {};
  const missing = wanted.filter((p) => !which(PEER_PACKAGES[p].bin));
  if (missing.length > 0 && install) {
    aptInstall([...new Set(missing.map((p) => PEER_PACKAGES[p].pkg))]);
  }
  const peers: Peer[] = [];
  for (const p of wanted) {
    if (!which(PEER_PACKAGES[p].bin)) {
      notes[p] = `skipped: ${PEER_PACKAGES[p].bin} not installed (package ${PEER_PACKAGES[p].pkg})`;
      continue;
    }
    if (p === 'tcplife-bpfcc') {
      const why = prepareBccHeaders(install);
      if (why) {
        notes[p] = `skipped: ${why}`;
        continue;
      }
      notes[p] = `BCC_KERNEL_SOURCE=${BCC_KSRC} (Debian's ${fs.readdirSync('/usr/src').filter((d) => d.endsWith('-common')).join(', ')} merged, not the running kernel's): counts are right, its TX_KB/RX_KB columns are not`;
    }
    peers.push(p);
  }
  return { peers, notes };
}
