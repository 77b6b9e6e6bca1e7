/**
 * commands.ts: `socktop record` and `socktop replay`, called by the yargs CLI (src/cli).
 *
 *   socktop record -w FILE [--force] [--duration 30s] [--probe auto|kprobe|tracepoint]
 *       headless: live capture with the recorder hook on the capture worker; a status line on
 *       stderr once a second (events, bytes, drops); stops at the duration or on SIGINT/SIGTERM.
 *       Exit 0, or 1 when records were lost to write errors (the file still replays).
 *       FILE (here and for `socktop --record FILE`) is created mode 0600 AS THE INVOKING USER (the
 *       sudo user under sudo; nothing is chown()ed), never through a symbolic link, and never over
 *       an existing path: that takes --force, and even then only a regular file with one link that
 *       the invoking user owns (safe-open.ts). A refusal is one line and exit 2:
 *         socktop: FILE exists: use --force to overwrite
 *         socktop: FILE: refusing to write through a symbolic link
 *         socktop: FILE is not a regular file (a FIFO)
 *         socktop: FILE has 2 links: refusing to overwrite it
 *         socktop: FILE is owned by uid 0, not by you: refusing to overwrite it
 *   socktop replay FILE [--speed N] [--paused]      the TUI, fed through the shared ring
 *   socktop replay FILE --json                      NDJSON (jsonLine, as live --json), in order,
 *                                                   as fast as possible, straight from the file
 *   socktop replay FILE -b [-n N] [-d S]            batch snapshots (the CLI's batch renderer)
 *
 * Replay reads regular files only: a FIFO, a device (/dev/zero), a directory is a one-line error
 * ("FILE is not a regular file (a FIFO): not a recording"), found without ever blocking in open().
 * Ctrl-C (SIGINT/SIGTERM) ends every wait of a replay: the open, and --json's wait for stdout.
 *
 * Damaged recordings (reader.ts, "salvage"): replay plays every intact frame. Each damaged place
 * gives ONE warning line on stderr, before the replay, saying where (byte offset, frame number) and
 * what (checksum mismatch, damaged frame header, impossible frame length, damaged file header) and
 * how many records were lost there; those records are counted as drops of the recording stage by
 * a DROPS record at that place (shown like live drops: header, --json, -b). EXIT STATUS: 0 for an
 * intact recording, and for one merely cut short (crash, kill -9, full disk, a torn last write:
 * a warning, every whole record replayed); 1 when damage was found and stepped over (whatever
 * could be read was replayed; the TUI and -b also end with 1); 2 when nothing can be replayed
 * (not a recording, newer format, corrupt header with no intact frame, not a regular file).
 *
 * Errors are thrown as RecordingError (or the capture's own errors) with a one-line message and a
 * `code`; the CLI's error handler prints `socktop: <message>` and exits non-zero (2 for a bad
 * recording). Warnings go to stderr as one line each (`socktop: warning: ...`).
 */
import type { ProbeChoice } from '../capture/addon';
import { RECORD_SIZE } from '../capture/layout';
import { jsonLine } from '../capture/json-line';
import { JsonPlaces } from '../capture/json-place';
import type { CaptureSession, StartOptions } from '../capture/session';
import type { DataSource } from '../source';
import { RecordingError, cgroupPathsOf, formatClock, parseDuration } from './format';
import { openRecordingAsync, Recording } from './reader';
import { ReplaySource } from './replay-source';
import { recordingStartOptions, TriggerOptions } from './recording-file';
import type { TriggerStats } from './trigger-stage';
import { rotationPaths, type RotationOptions } from './rotation';
import type { AlertRule } from '../model/alerts/grammar';
import { alertJsonLine } from '../model/alerts/format';
import { RecordClockAlerts } from '../model/alerts/record-clock';
import { ALERT_EXIT_CODE } from '../model/alerts/evaluator';
import type { WriterStats } from './writer';

// ---------------------------------------------------------------------------------------- record

export interface RecordArgs {
  /** -w FILE */
  write: string;
  /** "30s", "2m", "500ms", a number of seconds; absent = until Ctrl-C. */
  duration?: string | number;
  probe?: ProbeChoice;
  /** No status line. */
  quiet?: boolean;
  /** Overwrite an existing FILE (a regular file with one link, owned by the invoking user).
   * Default false. */
  force?: boolean;
  /** -W N [-C MB] [-G SEC]: a flight recorder's files (rotation.ts). */
  rotation?: RotationOptions;
  /** --trigger COND [--before S] [--after S] [-W N]: incident files only (trigger-stage.ts). */
  trigger?: TriggerOptions;
}

export interface RecordDeps {
  /**
   * Start the live capture with the recorder in its pipeline: the CLI passes src/cli/live.ts's
   * startLiveCapture, the one way a live session starts (privileges, backend choice, the privilege
   * drop).
   */
  startLive: (extra: Pick<StartOptions, 'pipeline'>, args: RecordArgs) => Promise<CaptureSession>;
  /** Where the status line goes (default process.stderr). */
  status?: NodeJS.WritableStream & { isTTY?: boolean };
  /** Resolves when the recording should stop early (tests); SIGINT/SIGTERM always do. */
  stopSignal?: Promise<void>;
}

function mb(bytes: number): string {
  return bytes < 1e6 ? `${(bytes / 1e3).toFixed(1)} kB` : `${(bytes / 1e6).toFixed(1)} MB`;
}

export function recordStatusLine(file: string, st: WriterStats, bpfDrops: number, elapsedMs: number): string {
  const drops = bpfDrops + st.recordsLost;
  const files = st.files !== undefined ? ` (file ${st.files}, rotating)` : '';
  let s = `recording ${file}${files}: ${st.records} events, ${mb(st.bytes)}, ${drops} drops`;
  if (drops > 0) s += ` (bpf ring ${bpfDrops}, write ${st.recordsLost})`;
  if (st.lastError) s += `, write error: ${st.lastError}`;
  return `${s}  [${formatClock(elapsedMs * 1e6)}]`;
}

/** The status line of `record --trigger`: armed or writing, incidents, and what the ring holds. */
export function triggerStatusLine(file: string, conditions: string[], st: WriterStats, t: TriggerStats, elapsedMs: number): string {
  let s = `recording ${file} on ${conditions.join(' or ')}: `;
  s += t.writing ? `writing incident ${t.incidents}` : `armed (${mb(t.ringBytes)} in memory)`;
  s += `, ${t.incidents} ${t.incidents === 1 ? 'incident' : 'incidents'} (${t.fired} firings), ${st.records} events written`;
  if (t.missed > 0) s += `, ${t.missed} firings not recorded (every file used: -W N)`;
  if (t.ringEvicted > 0) s += `, ${t.ringEvicted} records over the memory cap`;
  if (st.recordsLost > 0) s += `, ${st.recordsLost} lost`;
  if (st.lastError) s += `, write error: ${st.lastError}`;
  return `${s}  [${formatClock(elapsedMs * 1e6)}]`;
}

/** The incident files a triggered recording wrote, for its last status line. */
function incidentFiles(file: string, trigger: TriggerOptions | undefined, st: TriggerStats | undefined): string {
  if (!trigger || !st || st.incidents === 0) return '';
  const paths = trigger.files > 1 ? rotationPaths(file, trigger.files).slice(0, st.incidents) : [file];
  return `; written: ${paths.join(' ')}`;
}

/** `socktop record -w FILE [--duration D]`. Resolves to the exit code. */
export async function recordCommand(args: RecordArgs, deps: RecordDeps): Promise<number> {
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
  // Opened here, on the main thread, as the invoking user (safe-open.ts); the worker writes to it.
  const rec = recordingStartOptions(file, { extra: { command: 'record' } }, {
    force: args.force, rotation: args.rotation, trigger: args.trigger,
  });
  let session: CaptureSession;
  try {
    session = await deps.startLive({ pipeline: rec.pipeline }, args);
  } catch (e) {
    rec.release(); // no capture: close the file, and remove it if this run created it
    throw e;
  }
  const t0 = Date.now();
  // Headless: nobody needs the live events; keep the ring empty so it does not count drops.
  const drain = setInterval(() => session.ring.drain(() => undefined), 50);
  const bpfDrops = (): number => session.latestStats()?.session.bpfRingDrops ?? 0;
  const line = (): string => (rec.trigger && args.trigger
    ? triggerStatusLine(file, args.trigger.conditions, rec.stats.read(), rec.trigger.read(), Date.now() - t0)
    : recordStatusLine(file, rec.stats.read(), bpfDrops(), Date.now() - t0));
  const status = (): void => {
    if (args.quiet) return;
    out.write(tty ? `\r\x1b[K${line()}` : `${line()}\n`);
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
    out.write(`${line()}: done${incidentFiles(file, args.trigger, rec.trigger?.read())}\n`);
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
  /** --alert conditions: the TUI and -b evaluate them at their frames, --json on the recording's
   *  clock every -d seconds of it (record-clock.ts). */
  alerts?: readonly AlertRule[];
  [key: string]: unknown;
}

export interface ReplayDeps {
  /** The TUI on a DataSource (src/ui/app.ts). Resolves when the user quits. */
  runTui?: (source: DataSource, args: ReplayArgs) => Promise<number | void>;
  /** Batch snapshots on a DataSource (src/cli/run/batch.ts). */
  runBatch?: (source: DataSource, args: ReplayArgs) => Promise<number | void>;
  stdout?: NodeJS.WritableStream;
  stderr?: NodeJS.WritableStream;
  /** Ends the replay's waits like SIGINT/SIGTERM do (which always do). */
  stopSignal?: AbortSignal;
}

/**
 * SIGINT/SIGTERM (and `signal`, if given) while a replay waits: `fired()` says one came, `aborted`
 * is an AbortSignal for the same. Other listeners (the CLI's) still run. dispose() removes ours.
 */
function interruption(signal?: AbortSignal): { fired: () => boolean; aborted: AbortSignal; dispose: () => void } {
  const ac = new AbortController();
  const on = (): void => {
    if (!ac.signal.aborted) ac.abort();
  };
  process.on('SIGINT', on);
  process.on('SIGTERM', on);
  signal?.addEventListener('abort', on, { once: true });
  if (signal?.aborted) on();
  return {
    fired: () => ac.signal.aborted,
    aborted: ac.signal,
    dispose(): void {
      process.off('SIGINT', on);
      process.off('SIGTERM', on);
      signal?.removeEventListener('abort', on);
    },
  };
}

/**
 * Open a replay for the TUI or batch mode; warnings go to stderr. `signal` abandons the open
 * (RecordingError EINTR).
 */
export async function openReplay(
  args: ReplayArgs, stderr: NodeJS.WritableStream = process.stderr, signal?: AbortSignal,
): Promise<ReplaySource> {
  const speed = args.speed ?? 1;
  if (!(speed >= 0) || !Number.isFinite(speed)) {
    throw new RecordingError('EUSAGE', `invalid --speed ${String(args.speed)}: use a number >= 0 (0 = as fast as possible)`);
  }
  const src = await ReplaySource.open(args.file, {
    speed, paused: args.paused ?? false, ringCapacity: args.ringCapacity, signal,
  });
  for (const w of src.warnings) stderr.write(`socktop: warning: ${w}\n`);
  return src;
}

/** Batches (of up to 4096 records) encoded between two yields to the event loop, so a signal is
 * heard even when stdout never pushes back. */
const YIELD_EVERY_BATCHES = 64;

/**
 * `replay --json`: every record as one JSON line, in file order, as fast as stdout takes them.
 * Reads the file directly (no worker, no ring), stepping over damage (reader.ts salvage: warnings
 * first, a DROPS record where records were lost). Stops quietly when stdout is closed (EPIPE) or
 * on SIGINT/SIGTERM (or `stopSignal`), even while stdout does not drain, and during the scan of
 * the file at open (then with 130, nothing printed). Resolves to the exit code: 1 when the file was
 * damaged, else 0.
 */
/** cgroup id -> path from every PROCESS frame of the recording ("cgroups", "cgroup_id"/"cgroup"). */
function recordedCgroupPaths(rec: Recording): Map<number, string> {
  const out = new Map<number, string>();
  for (const { info } of rec.processes) for (const [id, p] of cgroupPathsOf(info)) out.set(id, p);
  return out;
}

export async function replayJson(
  file: string, stdout: NodeJS.WritableStream = process.stdout, stderr: NodeJS.WritableStream = process.stderr,
  stopSignal?: AbortSignal, alertRules?: { rules: readonly AlertRule[]; tickSec: number },
): Promise<number> {
  const alerts = alertRules && alertRules.rules.length > 0 ? new RecordClockAlerts(alertRules.rules, alertRules.tickSec * 1e9) : null;
  const stop = interruption(stopSignal);
  let rec: Recording;
  try {
    // The scan of a big file runs in slices: Ctrl-C is heard during it (exit 130, nothing printed).
    rec = await openRecordingAsync(file, { salvage: true }, stop.aborted);
  } catch (e) {
    stop.dispose();
    if (e instanceof RecordingError && e.code === 'EINTR') return 130;
    throw e;
  }
  for (const w of rec.warnings) stderr.write(`socktop: warning: ${w}\n`);
  let closed = false;
  const onError = (e: NodeJS.ErrnoException): void => {
    if (e.code === 'EPIPE' || e.code === 'ERR_STREAM_DESTROYED') closed = true;
    else closed = true;
  };
  stdout.on('error', onError);
  const write = async (s: string): Promise<void> => {
    if (closed || stop.fired()) return;
    if (!stdout.write(s)) {
      await new Promise<void>((resolve) => {
        const done = (): void => {
          stdout.off('drain', done);
          stdout.off('error', done);
          stdout.off('close', done);
          stop.aborted.removeEventListener('abort', done);
          resolve();
        };
        stdout.once('drain', done);
        stdout.once('error', done);
        stdout.once('close', done);
        stop.aborted.addEventListener('abort', done, { once: true }); // Ctrl-C: stop waiting
      });
    }
  };
  // Containers named from the recording's cgroup paths, as live --json names them.
  const cgroups = recordedCgroupPaths(rec);
  const places = new JsonPlaces((id) => cgroups.get(id), null, null);
  try {
    let chunk = '';
    let batches = 0;
    for (const b of rec.batches(0, 4096)) {
      for (let k = 0; k < b.count; k++) {
        const changes = alerts?.ingest(b.view, k * RECORD_SIZE);
        if (changes) for (const t of changes) chunk += alertJsonLine(t) + '\n';
        const line = jsonLine(b.view, k * RECORD_SIZE);
        const place = places.fragment(b.view, k * RECORD_SIZE);
        chunk += (place ? `${line.slice(0, -1)}${place}}` : line) + '\n';
      }
      if (chunk.length >= 1 << 16) {
        await write(chunk);
        chunk = '';
      }
      if (++batches % YIELD_EVERY_BATCHES === 0) await new Promise<void>((r) => setImmediate(r));
      if (closed || stop.fired()) break;
    }
    if (alerts && !closed && !stop.fired()) for (const t of alerts.finish()) chunk += alertJsonLine(t) + '\n';
    if (chunk && !closed && !stop.fired()) await write(chunk);
  } finally {
    stop.dispose();
    rec.close();
    stdout.off('error', onError);
  }
  return rec.damaged ? 1 : alerts?.evaluator.anyFired ? ALERT_EXIT_CODE : 0;
}

/**
 * `socktop replay FILE [...]`. Resolves to the exit code: the runner's, at least 1 when the file
 * was damaged (see the top of this file); 130 when interrupted before the replay started.
 */
export async function replayCommand(args: ReplayArgs, deps: ReplayDeps = {}): Promise<number> {
  if (!args.file) throw new RecordingError('EUSAGE', 'replay needs a FILE');
  if (args.json) {
    return replayJson(args.file, deps.stdout ?? process.stdout, deps.stderr ?? process.stderr, deps.stopSignal,
      args.alerts ? { rules: args.alerts, tickSec: args.delay ?? 1 } : undefined);
  }
  const runner = args.batch ? deps.runBatch : deps.runTui;
  if (!runner) throw new Error(`replayCommand: the caller passes ${args.batch ? 'runBatch' : 'runTui'} (src/cli/run/record.ts)`);
  const stop = interruption(deps.stopSignal);
  let src: ReplaySource;
  try {
    src = await openReplay(args, deps.stderr ?? process.stderr, stop.aborted);
  } catch (e) {
    if (e instanceof RecordingError && e.code === 'EINTR') return 130;
    throw e;
  } finally {
    stop.dispose();
  }
  try {
    const code = await runner(src, args);
    const n = typeof code === 'number' ? code : 0;
    return src.info?.damaged ? 1 : n; // a damaged file's 1 wins over an alert's 3
  } finally {
    await src.stop();
  }
}
