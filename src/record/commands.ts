/**
 * commands.ts: `socktop record` and `socktop replay`, called by the yargs CLI (src/cli).
 *
 *   socktop record -w FILE [--duration 30s] [--probe auto|kprobe|tracepoint]
 *       headless: live capture with the recorder hook on the capture worker; a status line on
 *       stderr once a second (events, bytes, drops); stops at the duration or on SIGINT/SIGTERM.
 *       Exit 0, or 1 when records were lost to write errors (the file still replays).
 *   socktop replay FILE [--speed N] [--paused]      the TUI, fed through the shared ring
 *   socktop replay FILE --json                      NDJSON (jsonLine, as live --json), in order,
 *                                                   as fast as possible, straight from the file
 *   socktop replay FILE -b [-n N] [-d S]            batch snapshots (the CLI's batch renderer)
 *
 * Errors are thrown as RecordingError (or the capture's own errors) with a one-line message and a
 * `code`; the CLI's error handler prints `socktop: <message>` and exits non-zero (2 for a bad
 * recording). Warnings (a cut file) go to stderr as one line each.
 */
import type { ProbeChoice } from '../capture/addon';
import { RECORD_SIZE } from '../capture/layout';
import { jsonLine } from '../capture/json-line';
import type { CaptureSession, StartOptions } from '../capture/session';
import type { DataSource } from '../ui/source';
import { RecordingError, formatClock, parseDuration } from './format';
import { openRecording } from './reader';
import { ReplaySource } from './replay-source';
import { recordingStartOptions } from './capture-hook';
import type { WriterStats } from './writer';

// ---------------------------------------------------------------------------------------- record

export interface RecordArgs {
  /** -w FILE */
  write: string;
  /** "30s", "2m", "500ms", a number of seconds; absent = until Ctrl-C. */
  duration?: string | number;
  probe?: ProbeChoice;
  ringCapacity?: number;
  /** No status line. */
  quiet?: boolean;
}

export interface RecordDeps {
  /**
   * Start the live capture with these extra StartOptions (hookModules/hookOptions of the recorder).
   * Default: choose the backend (kernel.ts + backend.ts) and call startCapture(). The CLI passes
   * its own live starter here when it has one (snapshot attribution hooks etc.): it must append
   * `extra.hookModules` AFTER its own hook modules and merge `extra.hookOptions`.
   */
  startLive?: (extra: Pick<StartOptions, 'hookModules' | 'hookOptions'>, args: RecordArgs) => Promise<CaptureSession>;
  /** Where the status line goes (default process.stderr). */
  status?: NodeJS.WritableStream & { isTTY?: boolean };
  /** Resolves when the recording should stop early (tests); SIGINT/SIGTERM always do. */
  stopSignal?: Promise<void>;
}

async function defaultStartLive(
  extra: Pick<StartOptions, 'hookModules' | 'hookOptions'>, args: RecordArgs,
): Promise<CaptureSession> {
  /* eslint-disable @typescript-eslint/no-var-requires */
  const { detectKernelSupport } = require('../capture/kernel') as typeof import('../capture/kernel');
  const { chooseBackend } = require('../capture/backend') as typeof import('../capture/backend');
  const { startCapture } = require('../capture/session') as typeof import('../capture/session');
  /* eslint-enable @typescript-eslint/no-var-requires */
  const choice = chooseBackend(args.probe ?? 'auto', detectKernelSupport());
  return startCapture({ backend: choice.backend, ringCapacity: args.ringCapacity ?? 1 << 16, ...extra });
}

function mb(bytes: number): string {
  return bytes < 1e6 ? `${(bytes / 1e3).toFixed(1)} kB` : `${(bytes / 1e6).toFixed(1)} MB`;
}

export function recordStatusLine(file: string, st: WriterStats, bpfDrops: number, elapsedMs: number): string {
  const drops = bpfDrops + st.recordsLost;
  let s = `recording ${file}: ${st.records} events, ${mb(st.bytes)}, ${drops} drops`;
  if (drops > 0) s += ` (bpf ring ${bpfDrops}, write ${st.recordsLost})`;
  if (st.lastError) s += `, write error: ${st.lastError}`;
  return `${s}  [${formatClock(elapsedMs * 1e6)}]`;
}

/** `socktop record -w FILE [--duration D]`. Resolves to the exit code. */
export async function recordCommand(args: RecordArgs, deps: RecordDeps = {}): Promise<number> {
  if (!args.write) throw new RecordingError('EUSAGE', 'record needs -w FILE');
  let durationMs = Infinity;
  if (args.duration !== undefined) {
    try {
      durationMs = parseDuration(args.duration);
    } catch (e) {
      throw new RecordingError('EUSAGE', (e as Error).message);
    }
  }
  const file = args.write;
  const out = deps.status ?? process.stderr;
  const tty = Boolean((out as { isTTY?: boolean }).isTTY);
  const rec = recordingStartOptions(file, { extra: { command: 'record' } });
  const session = await (deps.startLive ?? defaultStartLive)(
    { hookModules: rec.hookModules, hookOptions: rec.hookOptions }, args);
  const t0 = Date.now();
  // Headless: nobody needs the live events; keep the ring empty so it does not count drops.
  const drain = setInterval(() => session.ring.drain(() => undefined), 50);
  const bpfDrops = (): number => session.latestStats()?.session.bpfRingDrops ?? 0;
  const status = (): void => {
    if (args.quiet) return;
    const line = recordStatusLine(file, rec.stats.read(), bpfDrops(), Date.now() - t0);
    out.write(tty ? `\r\x1b[K${line}` : `${line}\n`);
  };
  const ticker = setInterval(status, 1000);
  // SIGINT/SIGTERM stop the recording; while it stops (the worker closes the file: END frame,
  // fsync) a second one is ignored. The handlers are removed once the file is closed.
  let finish: () => void = () => undefined;
  const onSignal = (): void => finish();
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  try {
    await new Promise<void>((resolve) => {
      let timer: NodeJS.Timeout | null = null;
      finish = (): void => {
        finish = () => undefined;
        if (timer) clearTimeout(timer);
        resolve();
      };
      if (Number.isFinite(durationMs)) timer = setTimeout(() => finish(), durationMs);
      void deps.stopSignal?.then(() => finish());
    });
    clearInterval(ticker);
    await session.stop();
  } finally {
    clearInterval(ticker);
    clearInterval(drain);
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
  const st = rec.stats.read();
  if (!args.quiet) {
    if (tty) out.write('\r\x1b[K');
    out.write(`${recordStatusLine(file, st, bpfDrops(), Date.now() - t0)}: done\n`);
  }
  return st.recordsLost > 0 ? 1 : 0;
}

// ---------------------------------------------------------------------------------------- replay

export interface ReplayArgs {
  file: string;
  speed?: number;
  paused?: boolean;
  json?: boolean;
  /** -b: batch snapshots */
  batch?: boolean;
  /** -n: number of batch snapshots */
  iterations?: number;
  /** -d: seconds between snapshots / refreshes */
  delay?: number;
  ringCapacity?: number;
  [key: string]: unknown;
}

export interface ReplayDeps {
  /** The TUI on a DataSource (src/ui/app.ts). Resolves when the user quits. */
  runTui?: (source: DataSource, args: ReplayArgs) => Promise<number | void>;
  /** Batch snapshots on a DataSource (src/cli/commands/batch.ts). */
  runBatch?: (source: DataSource, args: ReplayArgs) => Promise<number | void>;
  stdout?: NodeJS.WritableStream;
  stderr?: NodeJS.WritableStream;
}

/** Open a replay for the TUI or batch mode; warnings go to stderr. */
export async function openReplay(args: ReplayArgs, stderr: NodeJS.WritableStream = process.stderr): Promise<ReplaySource> {
  const speed = args.speed ?? 1;
  if (!(speed >= 0) || !Number.isFinite(speed)) {
    throw new RecordingError('EUSAGE', `invalid --speed ${String(args.speed)}: use a number >= 0 (0 = as fast as possible)`);
  }
  const src = await ReplaySource.open(args.file, { speed, paused: args.paused ?? false, ringCapacity: args.ringCapacity });
  for (const w of src.warnings) stderr.write(`socktop: warning: ${w}\n`);
  return src;
}

/**
 * `replay --json`: every record as one JSON line, in file order, as fast as stdout takes them.
 * Reads the file directly (no worker, no ring). Stops quietly when stdout is closed (EPIPE).
 */
export async function replayJson(
  file: string, stdout: NodeJS.WritableStream = process.stdout, stderr: NodeJS.WritableStream = process.stderr,
): Promise<number> {
  const rec = openRecording(file);
  for (const w of rec.warnings) stderr.write(`socktop: warning: ${w}\n`);
  let closed = false;
  const onError = (e: NodeJS.ErrnoException): void => {
    if (e.code === 'EPIPE' || e.code === 'ERR_STREAM_DESTROYED') closed = true;
    else closed = true;
  };
  stdout.on('error', onError);
  const write = async (s: string): Promise<void> => {
    if (closed) return;
    if (!stdout.write(s)) {
      await new Promise<void>((resolve) => {
        const done = (): void => {
          stdout.off('drain', done);
          stdout.off('error', done);
          stdout.off('close', done);
          resolve();
        };
        stdout.once('drain', done);
        stdout.once('error', done);
        stdout.once('close', done);
      });
    }
  };
  try {
    let chunk = '';
    for (const b of rec.batches(0, 4096)) {
      for (let k = 0; k < b.count; k++) {
        chunk += jsonLine(b.view, k * RECORD_SIZE) + '\n';
      }
      if (chunk.length >= 1 << 16) {
        await write(chunk);
        chunk = '';
        if (closed) break;
      }
    }
    if (chunk && !closed) await write(chunk);
  } finally {
    rec.close();
    stdout.off('error', onError);
  }
  return 0;
}

function tryRequire(mod: string): Record<string, unknown> | null {
  try {
    // eslint-disable-next-line @typescript-eslint/no-var-requires
    return require(mod);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'MODULE_NOT_FOUND' && String((e as Error).message).includes(mod.replace(/^\.\.\//, ''))) return null;
    throw e;
  }
}

/** Find a function export among candidates (the CLI can pass deps instead). */
function findRunner(candidates: Array<[string, string[]]>): ((s: DataSource, a: ReplayArgs) => Promise<number | void>) | null {
  for (const [mod, names] of candidates) {
    const m = tryRequire(mod);
    if (!m) continue;
    for (const n of names) if (typeof m[n] === 'function') return m[n] as (s: DataSource, a: ReplayArgs) => Promise<number | void>;
  }
  return null;
}

/** `socktop replay FILE [...]`. Resolves to the exit code. */
export async function replayCommand(args: ReplayArgs, deps: ReplayDeps = {}): Promise<number> {
  if (!args.file) throw new RecordingError('EUSAGE', 'replay needs a FILE');
  if (args.json) return replayJson(args.file, deps.stdout ?? process.stdout, deps.stderr ?? process.stderr);
  const runner = args.batch
    ? deps.runBatch ?? findRunner([['../cli/commands/batch', ['runBatch', 'batchMode', 'runBatchMode']]])
    : deps.runTui ?? findRunner([['../ui/app', ['runApp', 'runTui', 'startApp']]]);
  if (!runner) {
    throw new RecordingError('EIO', `${args.batch ? 'batch mode' : 'the TUI'} is not available in this build`);
  }
  const src = await openReplay(args, deps.stderr ?? process.stderr);
  try {
    const code = await runner(src, args);
    return typeof code === 'number' ? code : 0;
  } finally {
    await src.stop();
  }
}

