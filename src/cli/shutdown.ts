/**
 * shutdown.ts: the single way out. Signals (SIGINT, SIGTERM, SIGHUP), uncaught errors and the
 * normal end of a command all come here: restore the terminal (if a TUI is up), stop every source
 * and capture (which detaches the BPF programs), then print the error, if any, and exit.
 *
 * Commands that run until told to stop watch `stopSignal` (see onSignal for repeated signals).
 */
import * as tty from 'node:tty';
import { reportError } from './errors';

type Cleanup = () => void | Promise<void>;

const controller = new AbortController();
/** Aborted on SIGINT / SIGTERM / SIGHUP: long-running commands end their loop and return. */
export const stopSignal: AbortSignal = controller.signal;

let restoreTerminal: (() => void) | null = null;
const cleanups: Cleanup[] = [];
let verbose = false;
let finishing: Promise<never> | null = null;
let signals = 0;
let receivedSignal: NodeJS.Signals | undefined;
let installed = false;
/** The standard fds that were terminals at start: Node resets these at exit (see finish). */
const ttysAtStart = [0, 1, 2].filter((fd) => tty.isatty(fd));

const STOP_TIMEOUT_MS = 5000;

/** The TUI registers its one terminal-restoring function here. */
export function setTerminalRestore(fn: (() => void) | null): void {
  restoreTerminal = fn;
}

/** Something to stop on the way out (a data source); run in reverse order of registration. */
export function onShutdown(fn: Cleanup): void {
  cleanups.push(fn);
}

export function setVerbose(v: boolean): void {
  verbose = v;
}

/** Give the terminal back now (idempotent). Also used before printing to a TUI's stdout. */
export function restoreTerminalNow(): void {
  const fn = restoreTerminal;
  restoreTerminal = null;
  if (fn) {
    try {
      fn();
    } catch {
      // Nothing more we can do for the terminal; carry on to stop the captures.
    }
  }
}

async function stopEverything(): Promise<void> {
  const work = (async () => {
    for (const fn of cleanups.splice(0).reverse()) {
      try {
        await fn();
      } catch (e) {
        if (verbose) process.stderr.write(`socktop: while stopping: ${String(e)}\n`);
      }
    }
    // Loaded here, not at the top: `check` and `--help` must not need the capture layer.
    const { stopAllCaptures } = await import('../capture/session');
    await stopAllCaptures();
  })();
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<void>((resolve) => (timer = setTimeout(resolve, STOP_TIMEOUT_MS)));
  await Promise.race([work.catch(() => undefined), timeout]);
  clearTimeout(timer);
}

/** Restore, stop, report, exit. Every exit of socktop goes through here exactly once. */
export function finish(code: number, err?: unknown): Promise<never> {
  if (!finishing) {
    finishing = (async () => {
      restoreTerminalNow();
      await stopEverything();
      const exitCode = err === undefined ? code : reportError(err, verbose);
      process.exitCode = exitCode;
      // Let stdout drain before leaving (a pipe may still hold the last JSON lines).
      await flush(process.stdout);
      // After a hangup the tty is usually gone; Node 20 resets the tty at exit and aborts when
      // that fails (nodejs/node#51519, fixed later by #58200). Die of SIGHUP instead: no reset
      // is needed, blessed already restored the terminal if there still is one.
      if (receivedSignal === 'SIGHUP' || terminalHungUp()) leaveByHangup();
      process.exit(exitCode);
    })();
  }
  return finishing;
}

/**
 * A terminal we started on is gone (closed window, dropped ssh): isatty() fails on a hung-up tty,
 * so this catches a hangup even when a write error (EIO) arrives before the SIGHUP does.
 */
function terminalHungUp(): boolean {
  return ttysAtStart.some((fd) => !tty.isatty(fd));
}

/** Die of SIGHUP's default action: what a hung-up program does, and no tty reset at exit. */
function leaveByHangup(): void {
  process.removeAllListeners('SIGHUP');
  process.kill(process.pid, 'SIGHUP');
  // Still here: SIGHUP is ignored (nohup). Exiting normally would abort in the tty reset.
  process.kill(process.pid, 'SIGKILL');
}

/**
 * A write to (or read from) a terminal that hung up fails with EIO. Without a listener that error
 * is an uncaught exception with a stack; it is a hangup, so end the way a SIGHUP would.
 */
function onTerminalError(err: NodeJS.ErrnoException): void {
  if (err.code !== 'EIO' && err.code !== 'ENXIO' && err.code !== 'EPIPE') {
    void finish(1, err);
    return;
  }
  receivedSignal ??= 'SIGHUP';
  controller.abort();
}

function flush(stream: NodeJS.WriteStream): Promise<void> {
  if (!stream.writableLength || stream.destroyed) return Promise.resolve();
  return new Promise((resolve) => {
    const t = setTimeout(resolve, 1000);
    stream.once('drain', () => {
      clearTimeout(t);
      resolve();
    });
  });
}

/**
 * First signal: ask the running command to end (it returns and main() calls finish). Second: the
 * command did not react, so finish from here (still detaching BPF, bounded by STOP_TIMEOUT_MS).
 * Third: leave at once, terminal restored.
 */
function onSignal(sig: NodeJS.Signals): void {
  receivedSignal ??= sig;
  signals++;
  if (signals === 1) {
    controller.abort();
  } else if (signals === 2) {
    void finish(130);
  } else {
    restoreTerminalNow();
    process.exit(130);
  }
}

/** Install the handlers once, at start. */
export function installShutdownHandlers(): void {
  if (installed) return;
  installed = true;
  for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.on(sig, onSignal);
  // Pipes handle their own errors (--json stops quietly on EPIPE); terminals come here.
  for (const stream of [process.stdin, process.stdout]) if (stream.isTTY) stream.on('error', onTerminalError);
  process.on('uncaughtException', (err) => void finish(1, err));
  process.on('unhandledRejection', (err) => void finish(1, err));
}
