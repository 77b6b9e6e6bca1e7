/**
 * rotation.ts: a flight recorder's files (`socktop record -w FILE -W N [-C MB] [-G SEC]`, tcpdump's
 * habits): N files used in turn, each a complete recording (its own header, PROCESS frames for the
 * processes it shows, END frame), the oldest overwritten when all are used. A new file starts when
 * the current one passed -C megabytes or -G seconds (checked as records arrive: a quiet minute does
 * not make empty files).
 *
 * All N files are opened at start, on the main thread, as the invoking user and by the rules of
 * safe-open.ts (recording-file.ts), and the worker only ever writes to those descriptors: after
 * attach socktop gives up root (as `sudo` it becomes the user; as plain root, nobody), and would
 * then be unable - and must not be allowed - to create files where root could. Files never used
 * stay empty (a replay calls them empty, not corrupt).
 */
import * as fs from 'fs';
import * as path from 'path';
import { RecordingError } from './format';

export interface RotationOptions {
  /** How many files (-W). */
  files: number;
  /** Start a new file once the current one holds this many bytes (-C, in bytes). */
  maxBytes?: number;
  /** Start a new file once the current one covers this many seconds (-G). */
  maxSeconds?: number;
}

/** The N file names for FILE: name.0.socktop ... for name.socktop, else FILE.0 ... (zero-padded). */
export function rotationPaths(file: string, files: number): string[] {
  const width = String(files - 1).length;
  const ext = path.extname(file);
  const stem = ext === '.socktop' ? file.slice(0, -ext.length) : file;
  const tail = ext === '.socktop' ? ext : '';
  return Array.from({ length: files }, (_, i) => `${stem}.${String(i).padStart(width, '0')}${tail}`);
}

/** -C MB / -G SEC / -W N from the command line, checked: a one-line EUSAGE error otherwise. */
export function parseRotation(c: unknown, g: unknown, w: unknown): RotationOptions | undefined {
  if (c === undefined && g === undefined && w === undefined) return undefined;
  const positive = (v: unknown, flag: string, what: string, whole: boolean): number => {
    const n = Number(v);
    if (!Number.isFinite(n) || n <= 0 || (whole && !Number.isInteger(n))) {
      throw new RecordingError('EUSAGE', `${flag}: '${String(v)}' is not ${what}`);
    }
    return n;
  };
  if (w === undefined) {
    throw new RecordingError('EUSAGE', '-C/-G need -W N: how many files to keep (they are opened before socktop gives up root)');
  }
  const files = positive(w, '-W', 'a file count from 1 to 1000', true);
  if (files > 1000) throw new RecordingError('EUSAGE', `-W: '${String(w)}' is not a file count from 1 to 1000`);
  const maxBytes = c === undefined ? undefined : Math.max(4096, Math.round(positive(c, '-C', 'a size in megabytes', false) * 1e6));
  const maxSeconds = g === undefined ? undefined : positive(g, '-G', 'a number of seconds', false);
  if (maxBytes === undefined && maxSeconds === undefined && files > 1) {
    throw new RecordingError('EUSAGE', '-W N needs -C MB or -G SEC: when to start the next file');
  }
  return { files, maxBytes, maxSeconds };
}

/** The worker's side: which descriptor is current, and when to move on. */
export class FileRing {
  private index = 0;
  private startedMs = Date.now();
  /** Files started so far (1 at start). */
  started = 1;
  private readonly used: boolean[];

  constructor(readonly paths: readonly string[], private readonly fds: readonly number[], private readonly opts: RotationOptions) {
    this.used = paths.map((_, i) => i === 0);
  }

  get current(): { path: string; fd: number } {
    return { path: this.paths[this.index], fd: this.fds[this.index] };
  }

  /** The current file is full (bytes) or old enough (seconds). */
  due(bytesWritten: number, nowMs = Date.now()): boolean {
    const o = this.opts;
    if (this.fds.length === 1 && o.maxBytes === undefined && o.maxSeconds === undefined) return false;
    if (o.maxBytes !== undefined && bytesWritten >= o.maxBytes) return true;
    return o.maxSeconds !== undefined && nowMs - this.startedMs >= o.maxSeconds * 1000;
  }

  /** Move to the next file (the oldest), emptied. */
  advance(nowMs = Date.now()): { path: string; fd: number } {
    this.index = (this.index + 1) % this.fds.length;
    this.startedMs = nowMs;
    this.started++;
    this.used[this.index] = true;
    const next = this.current;
    try {
      fs.ftruncateSync(next.fd, 0);
    } catch (e) {
      throw new RecordingError('EIO', `${next.path}: cannot reuse it: ${(e as Error).message}`);
    }
    return next;
  }

  /** Close every descriptor (the writers keep them open), and remove the files never used. */
  closeAll(): void {
    this.fds.forEach((fd, i) => {
      const unused = !this.used[i];
      if (unused) removeIfStillEmpty(this.paths[i], fd);
      try {
        fs.closeSync(fd);
      } catch {
        /* already closed */
      }
    });
  }
}

/** Remove `p` if it is still the empty file behind `fd` (not one put in its place since). */
export function removeIfStillEmpty(p: string, fd: number): void {
  try {
    const mine = fs.fstatSync(fd);
    const there = fs.lstatSync(p);
    if (there.isFile() && there.size === 0 && there.dev === mine.dev && there.ino === mine.ino) fs.unlinkSync(p);
  } catch {
    /* not ours to remove any more (privileges dropped): an empty file stays */
  }
}
