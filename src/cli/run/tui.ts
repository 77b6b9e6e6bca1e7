/**
 * top.ts: the live TUI (the default command), and runTui() for any DataSource (a replay uses the
 * same app: src/record's replay command calls runTui with its source).
 */
import type { PidFilter } from '../../model/filter';
import type { ModelOptions } from '../../model/model';
import { App } from '../../ui/app';
import type { AlertRule } from '../../model/alerts/grammar';
import type { DataSource } from '../../source';
import { UiState } from '../../ui/state';
import { UsageError } from '../errors';
import type { ViewName } from '../../model/views/registry';
import type { Families } from '../../model/families';
import type { CommonOptions } from '../options';
import { setTerminalRestore, stopSignal } from '../shutdown';
import { startHeapTrimmer } from '../../heap-trim';

export interface TuiOptions {
  delaySec: number;
  pids: PidFilter | null;
  comm: string | null;
  container?: string | null;
  netns?: number | null;
  families?: Families;
  /** Quit after this many frames (-n), like top. */
  iterations?: number;
  /** Replay keys (+ - left right) go to source.control. */
  replay?: boolean;
  model?: Partial<ModelOptions>;
  /** --view: the view to start in. */
  view?: ViewName;
  /** --fold-exited seconds. */
  foldExitedSec?: number;
  /** Rejects when the source dies while the TUI runs (the error then ends socktop). */
  failure?: Promise<never>;
  /** --alert conditions, shown in the header. */
  alerts?: readonly AlertRule[];
}

/**
 * The TUI needs a terminal that can move the cursor: not a pipe, and not TERM=dumb (Emacs
 * shell-mode, some CI logs), where blessed would draw escape-sequence garbage. Batch mode and
 * --json need neither, so the error points there rather than guessing which one was wanted.
 */
export function assertTerminal(
  env: NodeJS.ProcessEnv = process.env,
  streams: { stdout: { isTTY?: boolean }; stdin: { isTTY?: boolean } } = process,
): void {
  if (!streams.stdout.isTTY || !streams.stdin.isTTY) {
    throw new UsageError('the TUI needs a terminal; for a pipe or a file use --json or -b (batch mode)');
  }
  if (env.TERM === 'dumb') {
    throw new UsageError('the TUI cannot draw on TERM=dumb; use -b (batch mode, text snapshots) or --json');
  }
}

/** Run the TUI on `source` until the user quits or a signal arrives. */
export async function runTui(source: DataSource, o: TuiOptions): Promise<void> {
  assertTerminal();
  const state = new UiState({
    pids: o.pids, comm: o.comm, container: o.container, netns: o.netns, families: o.families, replay: o.replay, view: o.view, foldExitedSec: o.foldExitedSec,
  });
  const app = new App(source, { delaySec: o.delaySec, state, model: o.model, maxFrames: o.iterations, alerts: o.alerts });
  setTerminalRestore(() => app.restoreTerminal());
  // Exited rows age out by the thousand after a churn: their memory goes back (live and replay).
  startHeapTrimmer()?.watch(() => app.modelSize);
  const stopped = new Promise<void>((resolve) => {
    if (stopSignal.aborted) resolve();
    stopSignal.addEventListener('abort', () => resolve(), { once: true });
  });
  await Promise.race([app.run(), stopped, ...(o.failure ? [o.failure] : [])]);
}

export async function topCommand(o: CommonOptions): Promise<void> {
  assertTerminal(); // before attaching anything
  const { openLiveSource } = await import('../live');
  let fail!: (e: Error) => void;
  const failure = new Promise<never>((_, reject) => (fail = reject));
  failure.catch(() => undefined); // handled by the race in runTui; never unhandled
  const source = await openLiveSource({ probe: o.probe, record: o.record, force: o.force, onError: (e) => fail(e) });
  await runTui(source, {
    delaySec: o.delaySec, pids: o.pids, comm: o.comm, container: o.container, netns: o.netns, families: o.families, iterations: o.iterations, failure,
    alerts: o.alerts, view: o.view, foldExitedSec: o.foldExitedSec,
  });
}
