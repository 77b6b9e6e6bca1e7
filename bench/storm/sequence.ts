/**
 * bench/storm/sequence.ts: the order of the storm's runs. Per rate and rep: a baseline, socktop's
 * modes backend by backend, the peers; one closing baseline per rate (after the last rep).
 */
import { writeSysctl } from './host';
import { log } from './log';
import { type RunContext, type RunRecord, measuredRun } from './measured-run';
import { type Peer, type RunKind, parseSocktopKind, socktopKind } from './options';

const BPF_STATS = 'kernel.bpf_stats_enabled';

/**
 * Every run of the storm. kernel.bpf_stats_enabled is on while a peer runs (its BPF run times) and
 * while socktop record runs (its attach is seen by its programs running); socktop's other modes hold
 * their own. `statsWas`, the value found, is restored after each of those runs and at the end.
 */
export async function runSequence(ctx: RunContext, peers: Peer[], statsWas: string | null): Promise<RunRecord[]> {
  const { o } = ctx;
  const restore = (): void => {
    if (statsWas !== null) writeSysctl(BPF_STATS, statsWas);
  };
  const socktopKinds = o.probes.flatMap((probe) => o.modes.map((mode) => socktopKind(mode, probe)));
  log(`runs per rate and rep: baseline, ${[...socktopKinds, ...peers].join(', ')} (and a closing baseline)`);
  const runs: RunRecord[] = [];
  try {
    for (const rate of o.rates) {
      const order: RunKind[] = ['baseline', ...socktopKinds, ...peers, 'baseline'];
      for (let rep = 0; rep < o.reps; rep++) {
        for (let i = 0; i < order.length; i++) {
          const kind = order[i];
          if (kind === 'baseline' && i > 0 && rep < o.reps - 1) continue; // one closing baseline per rate
          const st = parseSocktopKind(kind);
          const needsStats = kind !== 'baseline' && (!st || st.mode === 'record');
          if (needsStats) writeSysctl(BPF_STATS, '1');
          try {
            runs.push(await measuredRun(ctx, rate, kind, rep));
          } finally {
            if (needsStats) restore();
          }
        }
      }
    }
  } finally {
    restore();
  }
  return runs;
}
