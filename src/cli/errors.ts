/**
 * errors.ts: the one handler for errors that end socktop. Expected errors (bad usage, missing
 * privileges, a kernel without BTF, a missing file...) print one line, `socktop: <message>`, and
 * exit 1 (2 for bad usage); the stack appears only with --verbose. Anything else is a bug: one line
 * too, with a hint to rerun with --verbose for the stack.
 */
import { PidFilterError } from '../model/filter';
import { firstLine } from '../one-line';

/** An expected failure with a message meant for the user. */
export class SocktopError extends Error {
  constructor(message: string, readonly exitCode = 1) {
    super(message);
    this.name = 'SocktopError';
  }
}

/** Bad command line: exit code 2. The message is made one line (usageLine), yargs' included. */
export class UsageError extends SocktopError {
  constructor(message: string) {
    super(usageLine(message), 2);
    this.name = 'UsageError';
  }
}

/**
 * A usage message on one line. yargs words a bad choice over two lines ("Invalid values:" then
 * "  Argument: probe, Given: "foo", Choices: "auto", ..."): that becomes
 * `--probe: 'foo' is not one of auto, cgroup, ...` (as options.ts words it); any other message
 * has its lines joined, so the one line socktop prints never loses the part that matters.
 */
export function usageLine(message: string): string {
  const lines = message.split('\n').map((l) => l.trim()).filter((l) => l.length > 0);
  if (/^Invalid values?:$/.test(lines[0] ?? '')) {
    const parts = lines.slice(1).map((l) => {
      const m = /^Argument: ([^,]+), Given: (.*), Choices: (.*)$/.exec(l);
      if (!m) return l;
      const flag = m[1].length === 1 ? `-${m[1]}` : `--${m[1]}`;
      const given = unquoteList(m[2]).map((v) => `'${v}'`);
      const choices = unquoteList(m[3]).join(', ');
      return given.length === 1
        ? `${flag}: ${given[0]} is not one of ${choices}`
        : `${flag}: ${given.join(', ')} given; each must be one of ${choices}`;
    });
    if (parts.length > 0) return parts.join('; ');
  }
  return lines.join(' ');
}

/** yargs' `"a", "b"` (JSON-quoted values joined by ", ") as the values. */
function unquoteList(text: string): string[] {
  try {
    const values = JSON.parse(`[${text}]`) as unknown[];
    return values.map((v) => String(v));
  } catch {
    return [text];
  }
}

/** Where to look, and what to try, after a message naming missing capabilities. */
export const PRIVILEGES_HINT = '`socktop check` lists what each backend needs; try: sudo socktop; replaying a recording needs none';

/** Only when the exact needs are unknown (live.ts names the missing capabilities of the backend). */
export const NEEDS_PRIVILEGES = `capturing needs root or CAP_BPF+CAP_PERFMON at least (${PRIVILEGES_HINT})`;

/** Codes the capture and recording layers put on their errors, each with a known meaning. */
const EXPECTED_CODES = new Set([
  'EPERM', 'EACCES', 'ENOBTF', 'ENOENT', 'ELOAD', 'EWORKER', 'ENOTDIR', 'EISDIR', 'EBADF',
  'EBADMAGIC', 'EVERSION', 'ECORRUPT', 'ETRUNC', 'EFORMAT', 'EIO', 'ENOSPC',
]);

export interface Described {
  message: string;
  exitCode: number;
  /** False for bugs: the hint to use --verbose is added. */
  expected: boolean;
}


export function describeError(err: unknown): Described {
  if (err instanceof SocktopError) return { message: firstLine(err.message), exitCode: err.exitCode, expected: true };
  if (err instanceof PidFilterError) return { message: firstLine(err.message), exitCode: 2, expected: true };
  const e = err as { code?: unknown; message?: unknown; name?: unknown; exitCode?: unknown } | null;
  const code = typeof e?.code === 'string' ? e.code : '';
  const message = typeof e?.message === 'string' ? firstLine(e.message) : firstLine(String(err));
  // EPERM is told as it is: the capture's own EPERM messages name the missing capability, and any
  // other (a set*id call, a file) is not about capture privileges at all.
  if (e?.name === 'BackendError' || e?.name === 'RecordingError' || e?.name === 'CaptureError' || EXPECTED_CODES.has(code)) {
    // RecordingError says 2 (a bad recording file or bad usage of record/replay).
    const exitCode = typeof e?.exitCode === 'number' ? e.exitCode : 1;
    return { message, exitCode, expected: true };
  }
  return { message: `internal error: ${message}`, exitCode: 1, expected: false };
}

/** Print the one line (and the stack with --verbose); returns the exit code. */
export function reportError(err: unknown, verbose: boolean, stderr: NodeJS.WritableStream = process.stderr): number {
  const d = describeError(err);
  let text = `socktop: ${d.message}\n`;
  const details = (err as { details?: unknown } | null)?.details;
  if (verbose && typeof details === 'string' && details) text += `${details.trimEnd()}\n`;
  if (verbose && err instanceof Error && err.stack) text += `${err.stack}\n`;
  else if (!d.expected) text += 'socktop: run with --verbose for the stack trace\n';
  stderr.write(text);
  return d.exitCode;
}
