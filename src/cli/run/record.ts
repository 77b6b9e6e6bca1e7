/**
 * record.ts: `socktop record` and `socktop replay`, implemented in src/record/commands.ts; this
 * file hands them the CLI's pieces: the live starter (privilege check, backend choice), the TUI,
 * batch mode and the stop signal, so recordings and replays behave like the live commands.
 */
import type { CliArgs } from '../command';
import { parseRotation } from '../../record/rotation';
import { parseConditionOption, type CommonOptions } from '../options';
import { UsageError } from '../errors';
import type { TriggerOptions } from '../../record/recording-file';
import { stopSignal } from '../shutdown';

export async function runRecord(o: CommonOptions, argv: CliArgs): Promise<number> {
  const { recordCommand } = await import('../../record/commands');
  const { startLiveCapture } = await import('../live');
  const stopped = new Promise<void>((resolve) => {
    if (stopSignal.aborted) resolve();
    stopSignal.addEventListener('abort', () => resolve(), { once: true });
  });
  return recordCommand(
    {
      write: String(argv.write), duration: argv.duration as string | undefined, probe: o.probe, force: o.force,
      quiet: Boolean(argv.quiet), ...rotationOrTrigger(argv),
    },
    {
      startLive: async (extra) => (await startLiveCapture(o.probe, extra, false)).session,
      stopSignal: stopped,
    },
  );
}

export const DEFAULT_BEFORE_SEC = 10;
export const DEFAULT_AFTER_SEC = 10;
export const DEFAULT_RING_MB = 64;

/** -W/-C/-G (a flight recorder), or --trigger with its --before/--after/--ring-mb and -W N files. */
export function rotationOrTrigger(argv: CliArgs): { rotation?: ReturnType<typeof parseRotation>; trigger?: TriggerOptions } {
  const last = (v: unknown): unknown => (Array.isArray(v) ? v[v.length - 1] : v);
  const rules = parseConditionOption(argv.trigger, '--trigger');
  if (rules.length === 0) {
    for (const flag of ['before', 'after', 'ring-mb']) {
      if (argv[flag] !== undefined) throw new UsageError(`--${flag} goes with --trigger COND`);
    }
    return { rotation: parseRotation(argv.C, argv.G, argv.W) };
  }
  if (argv.C !== undefined || argv.G !== undefined) throw new UsageError('-C/-G (rotation) do not go with --trigger: -W N alone sets how many incident files');
  const seconds = (flag: string, dflt: number, max: number): number => {
    const raw = last(argv[flag]);
    if (raw === undefined) return dflt;
    const n = Number(raw);
    if (!Number.isFinite(n) || n < 0 || n > max) throw new UsageError(`--${flag}: '${String(raw)}' is not a number of seconds from 0 to ${max}`);
    return n;
  };
  const files = last(argv.W) === undefined ? 1 : Number(last(argv.W));
  if (!Number.isInteger(files) || files < 1 || files > 1000) throw new UsageError(`-W: '${String(last(argv.W))}' is not a file count from 1 to 1000`);
  const mbRaw = last(argv['ring-mb']);
  const mb = mbRaw === undefined ? DEFAULT_RING_MB : Number(mbRaw);
  if (!Number.isFinite(mb) || mb < 1 || mb > 65536) throw new UsageError(`--ring-mb: '${String(mbRaw)}' is not a size from 1 to 65536 MB`);
  return {
    trigger: {
      conditions: rules.map((r) => r.text), beforeSec: seconds('before', DEFAULT_BEFORE_SEC, 3600),
      afterSec: seconds('after', DEFAULT_AFTER_SEC, 3600), maxBytes: Math.round(mb * 1e6), files,
    },
  };
}

export async function runReplay(o: CommonOptions, argv: CliArgs): Promise<number> {
  const { replayCommand } = await import('../../record/commands');
  return replayCommand(
    {
      file: String(argv.file), speed: argv.speed as number | undefined, paused: Boolean(argv.paused),
      json: o.json, batch: o.batch, iterations: o.iterations, delay: o.delaySec, alerts: o.alerts,
    },
    {
      runTui: async (source) => {
        const { runTui } = await import('./tui');
        await runTui(source, {
          delaySec: o.delaySec, pids: o.pids, comm: o.comm, container: o.container, netns: o.netns, families: o.families, iterations: o.iterations,
          replay: true, alerts: o.alerts, view: o.view, foldExitedSec: o.foldExitedSec,
        });
      },
      runBatch: async (source) => {
        const { runBatch } = await import('./batch');
        return runBatch(source, {
          delaySec: o.delaySec, iterations: o.iterations,
          filter: { pids: o.pids, comm: o.comm, follow: null, container: o.container, netns: o.netns, families: o.families },
          alerts: o.alerts, view: o.view, foldExitedSec: o.foldExitedSec,
        });
      },
    },
  );
}
