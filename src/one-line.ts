/**
 * one-line.ts: errors and texts cut to the one line socktop shows (a message is one line; details
 * go to --verbose). Shared by every layer, so it imports nothing.
 */

/** The first line of `text`, without surrounding blanks. */
export function firstLine(text: string): string {
  return text.split('\n')[0].trim();
}

/**
 * One line for a thrown value: a system error as "CODE: what" (Node's "ENOSPC: no space left on
 * device, write" loses its repeated code and its syscall), anything else as its message's first line.
 */
export function errorLine(e: unknown): string {
  const err = e as NodeJS.ErrnoException | null | undefined;
  if (err && typeof err.code === 'string' && err.code) {
    return `${err.code}: ${String(err.message ?? '').replace(/^[A-Z]+: /, '').split(/[,\n]/)[0].trim()}`;
  }
  return firstLine(String(err?.message || err));
}
