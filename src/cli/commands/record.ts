/**
 * record.ts: `socktop record` and `socktop replay`, implemented in src/record/commands.ts; this
 * file hands them the CLI's pieces: the live starter (privilege check, backend choice), the TUI,
 * batch mode and the stop signal, so recordings and replays behave like the live commands.
 */
import type { ParsedCli } from '../index';
import { stopSignal } from '../shutdown';

export async function runRecord(p: ParsedCli): Promise<number> {
  const { recordCommand } = await import('../../record/commands');
  const { startLiveCapture } = await import('../live');
  const o = p.options;
  const stopped = new Promise<void>((resolve) => {
    if (stopSignal.aborted) resolve();
    stopSignal.addEventListener('abort', () => resolve(), { once: true });
  });
  return recordCommand(
    {
      write: String(p.argv.write), duration: p.argv.duration as string | undefined, probe: o.probe, force: o.force,
      quiet: Boolean(p.argv.quiet),
    },
    {
      startLive: async (extra) => (await startLiveCapture(o.probe, extra)).session,
      stopSignal: stopped,
    },
  );
}

export async function runReplay(p: ParsedCli): Promise<number> {
  const { replayCommand } = await import('../../record/commands');
  const o = p.options;
  return replayCommand(
    {
      file: String(p.argv.file), speed: p.argv.speed as number | undefined, paused: Boolean(p.argv.paused),
      json: o.json, batch: o.batch, iterations: o.iterations, delay: o.delaySec,
    },
    {
      runTui: async (source) => {
        const { runTui } = await import('./top');
        await runTui(source, { delaySec: o.delaySec, pids: o.pids, comm: o.comm, iterations: o.iterations, replay: true });
      },
      runBatch: async (source) => {
        const { runBatch } = await import('./batch');
        await runBatch(source, {
          delaySec: o.delaySec, iterations: o.iterations, filter: { pids: o.pids, comm: o.comm, follow: null },
        });
      },
    },
  );
}
