/**
 * privileges.ts: give up root once the BPF programs are attached.
 *
 * After attach, socktop only reads a ring buffer through descriptors it already holds, writes to a
 * recording it already opened, and reads world-readable /proc files: none of that needs root. So
 * the whole process (setuid/setgid apply to every thread) becomes the user who ran sudo
 * (SUDO_UID/SUDO_GID), or nobody. Detaching at exit only closes descriptors, which needs nothing.
 * Opt out with SOCKTOP_KEEP_PRIVILEGES=1 (e.g. to debug with bpftool from the same process tree).
 */
const NOBODY = 65534;

export interface DropResult {
  dropped: boolean;
  uid: number;
  gid: number;
}

export function dropPrivileges(env: NodeJS.ProcessEnv = process.env): DropResult {
  const current = { dropped: false, uid: process.getuid?.() ?? -1, gid: process.getgid?.() ?? -1 };
  if (current.uid !== 0 || env.SOCKTOP_KEEP_PRIVILEGES === '1' || !process.setuid) return current;
  const uid = positive(env.SUDO_UID) ?? NOBODY;
  const gid = positive(env.SUDO_GID) ?? NOBODY;
  process.setgroups!([]);
  process.setgid!(gid);
  process.setuid(uid);
  return { dropped: true, uid, gid };
}

function positive(text: string | undefined): number | undefined {
  const n = Number(text);
  return Number.isInteger(n) && n > 0 ? n : undefined;
}
