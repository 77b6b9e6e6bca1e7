/**
 * record.ts: `socktop record` and `socktop replay`, implemented in src/record/commands.ts; this
 * file hands them the CLI's pieces: the live starter (privilege check, backend choice), the TUI,
 * batch mode and the stop signal, so recordings and replays behave like the live commands.
 */
import type { CliArgs } from '../command';
import { parseRotation } from '../../record/rotation';
import type { CommonOptions } from '../options';
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
      quiet: Boolean(argv.quiet), rotation: parseRotation(argv.C, argv.G, argv.W),
    },
    {
      startLive: async (extra) => (await startLiveCapture(o.probe, extra)).session,
      stopSignal: stopped,
    },
  );
}

export async function runReplay(o: CommonOptions, argv: CliArgs): Promise<number> {
  const { replayCommand } = await import('../../record/commands');
  return replayCommand(
    {
      file: String(argv.file), speed: argv.speed as number | undefined, paused: Boolean(argv.paused),
      json: o.json, batch: o.batch, iterations: o.iterations, delay: o.delaySec,
    },
    {
      runTui: async (source) => {
        const { runTui } = await import('./tui');
        await runTui(source, { delaySec: o.delaySec, pids: o.pids, comm: o.comm, families: o.families, iterations: o.iterations, replay: true });
      },
      runBatch: async (source) => {
        const { runBatch } = await import('./batch');
        await runBatch(source, {
          delaySec: o.delaySec, iterations: o.iterations, filter: { pids: o.pids, comm: o.comm, follow: null, families: o.families },
        });
      },
    },
  );
}
