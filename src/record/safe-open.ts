/**
 * safe-open.ts: open the file a recording is written to without trusting the path (issue 10).
 *
 * `sudo socktop record -w ~/x.socktop` runs as root on a path in a directory other users may write
 * to (a shared /tmp, a home made group-writable). A planted symbolic link or hard link there must
 * not make root truncate, chmod or give away its target (`ln -s /etc/shadow x.socktop`). So:
 *
 * - The file is opened AS THE INVOKING USER (tcpdump -Z habit): under sudo (euid 0 and SUDO_UID
 *   set) the main thread switches its effective uid/gid (and groups) to SUDO_UID/SUDO_GID around
 *   the open() and back, so the kernel checks the user's own rights and a new file is born theirs:
 *   nothing is ever chown()ed. Otherwise the invoking user is the real uid. A worker thread cannot
 *   switch (Node allows it on the main thread only): recordingStartOptions() opens on the main
 *   thread and hands the descriptor to the capture worker. Root that may not switch (no
 *   CAP_SETUID/CAP_SETGID: some containers) acts as itself: the file is then root's, and every
 *   rule below still holds.
 * - A new recording is created with O_CREAT|O_EXCL|O_NOFOLLOW, mode 0600: an existing name, a
 *   symbolic link (even a dangling one) or a hard link makes it fail instead of being followed.
 * - An existing path is overwritten only when asked (`--force`), and then only a regular file with
 *   exactly one link, owned by the invoking user. It is opened with O_NOFOLLOW|O_NONBLOCK (no wait
 *   on a FIFO, no follow) WITHOUT O_TRUNC, checked with fstat() on that very descriptor (no race
 *   between a check and the open), and only then truncated and made 0600.
 *
 * Every refusal is a RecordingError with a one-line message naming the path and why:
 *   "<path>: refusing to write through a symbolic link"
 *   "<path> exists: use --force to overwrite"
 *   "<path> is not a regular file (a FIFO)"
 *   "<path> has 2 links: refusing to overwrite it"
 *   "<path> is owned by uid 0, not by you: refusing to overwrite it"
 *   "cannot create recording <path>: EACCES: permission denied (the recording is created as uid
 *    1000, who ran sudo)"
 */
import * as fs from 'fs';
import { isMainThread } from 'worker_threads';
import { RecordingError } from './format';
import { errorLine } from '../one-line';

const C = fs.constants;

/** The user a recording is created for: its owner, and whose rights the open is checked with. */
export interface InvokingUser {
  uid: number;
  gid: number;
  /** True when the process must switch to uid/gid to act as that user (root under sudo). */
  switchIdentity: boolean;
  /** SUDO_USER, for the supplementary groups. */
  name?: string;
}

function id(text: string | undefined): number | undefined {
  if (text === undefined || !/^\d+$/.test(text.trim())) return undefined;
  const n = Number(text);
  return Number.isSafeInteger(n) && n >= 0 && n < 0xffffffff ? n : undefined;
}

/** Primary gid of `uid` from /etc/passwd, or undefined. */
function passwdGid(uid: number): number | undefined {
  try {
    for (const line of fs.readFileSync('/etc/passwd', 'utf8').split('\n')) {
      const f = line.split(':');
      if (f.length > 3 && Number(f[2]) === uid) return id(f[3]);
    }
  } catch {
    /* no passwd */
  }
  return undefined;
}

/**
 * Who runs socktop: under sudo (effective uid 0 and SUDO_UID set), SUDO_UID/SUDO_GID (the gid
 * from /etc/passwd when SUDO_GID is missing); otherwise the real uid and gid. SUDO_UID means
 * nothing to a process that is not root: it cannot act as that user, so it acts as itself.
 */
export function invokingUser(env: NodeJS.ProcessEnv = process.env): InvokingUser {
  const euid = process.geteuid?.() ?? -1;
  const sudoUid = id(env.SUDO_UID);
  if (euid === 0 && sudoUid !== undefined && sudoUid !== 0) {
    const gid = id(env.SUDO_GID) ?? passwdGid(sudoUid) ?? process.getegid?.() ?? 0;
    return { uid: sudoUid, gid, switchIdentity: true, name: env.SUDO_USER || undefined };
  }
  return self();
}

/** asUser() could not switch to the user (no CAP_SETUID/CAP_SETGID). */
export class IdentitySwitchError extends Error {
  constructor(readonly user: InvokingUser, readonly cause: unknown) {
    super(`cannot act as uid ${user.uid}: ${errorLine(cause)}`);
    this.name = 'IdentitySwitchError';
  }
}

/** The process itself, as the invoking user (no switch). */
function self(): InvokingUser {
  return { uid: process.getuid?.() ?? -1, gid: process.getgid?.() ?? -1, switchIdentity: false };
}

/**
 * Run `fn` with the effective uid/gid/groups of `user` (main thread only), restored afterwards
 * whatever happens. setgroups/setegid/seteuid apply to every thread of the process (glibc), so
 * keep `fn` short and synchronous.
 */
export function asUser<T>(user: InvokingUser, fn: () => T): T {
  if (!user.switchIdentity || (process.geteuid?.() === user.uid && process.getegid?.() === user.gid)) return fn();
  if (!isMainThread || !process.seteuid || !process.setegid || !process.setgroups || !process.getgroups) {
    throw new RecordingError('EIO',
      `cannot act as uid ${user.uid} from a worker thread: open the recording on the main thread (recordingStartOptions)`);
  }
  const savedEgid = process.getegid!();
  const savedGroups = process.getgroups();
  let groups = false;
  let egid = false;
  let euid = false;
  try {
    try {
      try {
        const proc = process as { initgroups?: (user: string, extra: number) => void };
        if (user.name && proc.initgroups) proc.initgroups(user.name, user.gid);
        else process.setgroups([user.gid]);
      } catch {
        process.setgroups([user.gid]);
      }
      groups = true;
      process.setegid(user.gid);
      egid = true;
      process.seteuid(user.uid);
      euid = true;
    } catch (e) {
      // uid 0 without CAP_SETUID/CAP_SETGID (a container, a reduced bounding set): it cannot act
      // as anyone else.
      throw new IdentitySwitchError(user, e);
    }
    return fn();
  } finally {
    // Back to root first: only root may set the gid and groups back. Undo only what was done.
    if (euid) process.seteuid(0);
    if (egid) process.setegid(savedEgid);
    if (groups) process.setgroups(savedGroups);
  }
}

/** "a FIFO", "a directory", ... for the stat of something that is not a regular file. */
export function fileKind(st: fs.Stats): string {
  if (st.isFile()) return 'a regular file';
  if (st.isFIFO()) return 'a FIFO';
  if (st.isDirectory()) return 'a directory';
  if (st.isCharacterDevice()) return 'a character device';
  if (st.isBlockDevice()) return 'a block device';
  if (st.isSocket()) return 'a socket';
  if (st.isSymbolicLink()) return 'a symbolic link';
  return 'not a regular file';
}

export interface OpenForWriteOptions {
  /** Overwrite an existing regular file (one link, owned by the invoking user). Default false. */
  force?: boolean;
  /** Whose file it is (default invokingUser()). */
  user?: InvokingUser;
  /** Environment for invokingUser() (tests). */
  env?: NodeJS.ProcessEnv;
}

export interface OpenedForWrite {
  fd: number;
  /** True when this open created the file (false: an existing file was truncated, --force). */
  created: boolean;
  /** The file's device and inode, as opened. */
  dev: number;
  ino: number;
  user: InvokingUser;
}

/**
 * Why an existing `path` cannot be written, from what lstat says: for the message only, never
 * trusted (the --force path decides on fstat of the opened descriptor). null: a regular file and
 * --force given (or it vanished meanwhile: the open without O_CREAT then fails).
 */
function refusalFor(path: string, force: boolean): RecordingError | null {
  let st: fs.Stats | null = null;
  try {
    st = fs.lstatSync(path);
  } catch {
    /* gone meanwhile */
  }
  if (st?.isSymbolicLink()) return new RecordingError('EUNSAFE', `${path}: refusing to write through a symbolic link`);
  if (st && !st.isFile()) return new RecordingError('EUNSAFE', `${path} is not a regular file (${fileKind(st)})`);
  if (!force) return new RecordingError('EEXIST', `${path} exists: use --force to overwrite`);
  return null;
}

/** Why the file `st` describes may not be overwritten for `user`, or null when it may. */
function unfitForOverwrite(path: string, st: fs.Stats, user: InvokingUser): RecordingError | null {
  if (st.isSymbolicLink()) return new RecordingError('EUNSAFE', `${path}: refusing to write through a symbolic link`);
  if (!st.isFile()) return new RecordingError('EUNSAFE', `${path} is not a regular file (${fileKind(st)})`);
  if (st.nlink !== 1) return new RecordingError('EUNSAFE', `${path} has ${st.nlink} links: refusing to overwrite it`);
  if (st.uid !== user.uid) {
    return new RecordingError('EUNSAFE', `${path} is owned by uid ${st.uid}, not by you: refusing to overwrite it`);
  }
  return null;
}

function createError(path: string, e: unknown, user: InvokingUser): RecordingError {
  const code = (e as NodeJS.ErrnoException)?.code;
  const who = user.switchIdentity && (code === 'EACCES' || code === 'EPERM')
    ? ` (the recording is created as uid ${user.uid}, who ran sudo)` : '';
  return new RecordingError('EIO', `cannot create recording ${path}: ${errorLine(e)}${who}`);
}

/**
 * Open `path` for a new recording as described at the top of this file. Returns the descriptor
 * (O_WRONLY, empty, mode 0600, owned by the invoking user); throws a one-line RecordingError.
 */
export function openRecordingForWrite(path: string, opts: OpenForWriteOptions = {}): OpenedForWrite {
  const user = opts.user ?? invokingUser(opts.env);
  const force = opts.force ?? false;
  try {
    return openAs(path, user, force);
  } catch (e) {
    // Root that may not switch its uid: act as itself, as it did before it could (the file is then
    // root's; still never through a link, never over another file without --force).
    if (e instanceof IdentitySwitchError) return openAs(path, self(), force);
    throw e;
  }
}

function openAs(path: string, user: InvokingUser, force: boolean): OpenedForWrite {
  return asUser(user, () => {
    // 1. A new file: O_EXCL fails on any existing name, links included; O_NOFOLLOW for good measure.
    try {
      const fd = fs.openSync(path, C.O_WRONLY | C.O_CREAT | C.O_EXCL | C.O_NOFOLLOW, 0o600);
      try {
        fs.fchmodSync(fd, 0o600); // the umask may have taken bits away; never adds any
        const st = fs.fstatSync(fd);
        return { fd, created: true, dev: st.dev, ino: st.ino, user };
      } catch (e) {
        fs.closeSync(fd);
        throw createError(path, e, user);
      }
    } catch (e) {
      if (e instanceof RecordingError) throw e;
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw createError(path, e, user);
    }
    // 2. It exists. Without --force, or when it is a link or not a regular file: say why.
    const refused = refusalFor(path, force);
    if (refused) throw refused;
    // 3. --force: open what is there without following a link, without waiting on a FIFO,
    //    without truncating; decide on the descriptor's own fstat.
    let fd: number;
    try {
      fd = fs.openSync(path, C.O_WRONLY | C.O_NOFOLLOW | C.O_NONBLOCK | C.O_NOCTTY);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code === 'ELOOP') throw new RecordingError('EUNSAFE', `${path}: refusing to write through a symbolic link`);
      if (code === 'ENOENT') throw new RecordingError('EUNSAFE', `${path}: changed while it was being opened: refusing to write`);
      // Not ours to open (someone else's file, a socket, ...): say why as precisely as lstat can.
      let st: fs.Stats | null = null;
      try {
        st = fs.lstatSync(path);
      } catch {
        st = null;
      }
      throw (st && unfitForOverwrite(path, st, user)) ?? createError(path, e, user);
    }
    try {
      const st = fs.fstatSync(fd);
      const unfit = unfitForOverwrite(path, st, user);
      if (unfit) throw unfit;
      fs.ftruncateSync(fd, 0);
      fs.fchmodSync(fd, 0o600);
      return { fd, created: false, dev: st.dev, ino: st.ino, user };
    } catch (e) {
      fs.closeSync(fd);
      if (e instanceof RecordingError) throw e;
      throw createError(path, e, user);
    }
  });
}

/**
 * Remove a recording this process created and never wrote (a capture that failed to start), as the
 * invoking user and only if `path` still names that same empty file. Never throws.
 */
export function removeIfUnwritten(path: string, opened: OpenedForWrite): void {
  if (!opened.created) return;
  try {
    asUser(opened.user, () => {
      const st = fs.lstatSync(path);
      if (st.isFile() && st.dev === opened.dev && st.ino === opened.ino && st.size === 0) fs.unlinkSync(path);
    });
  } catch {
    /* leave it */
  }
}

