/**
 * privileges.ts: give up root, and every capability, once the BPF programs are attached.
 *
 * After attach, socktop only reads a ring buffer, program stats and maps and runs its flush program
 * (BPF_PROG_TEST_RUN) through descriptors it already holds, writes to a recording it already
 * opened, and reads world-readable /proc files: none of that needs a capability (verified: see
 * capabilities.ts). So:
 *   - as uid 0 with CAP_SETUID/CAP_SETGID (plain root, sudo): the whole process (setuid/setgid
 *     apply to every thread) becomes the user who ran sudo (SUDO_UID/SUDO_GID), or nobody;
 *   - every thread's capability sets are then emptied (the addon's dropCapabilities): that is all
 *     there is to give up for a non-root user holding capabilities, and what remains possible for
 *     uid 0 without CAP_SETUID (it stays uid 0, with no capability).
 * A failure here is never a missing capture privilege: the capture is already running.
 * Opt out with SOCKTOP_KEEP_PRIVILEGES=1 (e.g. to debug with bpftool from the same process tree).
 */
import * as fs from 'fs';
import type { CapabilityDrop } from '../capture/addon';
import { Credentials, hasCap, parseCredentials } from '../capture/capabilities';
import { SocktopError } from './errors';
import { firstLine } from '../one-line';

const NOBODY = 65534;

export interface DropResult {
  /** The uid changed (root gave way to the sudo user or nobody). */
  dropped: boolean;
  uid: number;
  gid: number;
  /** Every thread's capability sets were emptied (false only with SOCKTOP_KEEP_PRIVILEGES=1). */
  capabilitiesDropped: boolean;
  /** Why uid 0 was kept: no CAP_SETUID. */
  keptRoot?: string;
}

export interface DropDeps {
  credentials?: () => Credentials;
  dropCapabilities?: () => CapabilityDrop;
}

function ownCredentials(): Credentials {
  return parseCredentials(fs.readFileSync('/proc/self/status', 'utf8'));
}

function addonDropCapabilities(): CapabilityDrop {
  // eslint-disable-next-line @typescript-eslint/no-var-requires
  const { loadAddon } = require('../capture/addon') as typeof import('../capture/addon');
  return loadAddon().dropCapabilities();
}

export function dropPrivileges(env: NodeJS.ProcessEnv = process.env, deps: DropDeps = {}): DropResult {
  const uid = process.getuid?.() ?? -1;
  const gid = process.getgid?.() ?? -1;
  const result: DropResult = { dropped: false, uid, gid, capabilitiesDropped: false };
  if (env.SOCKTOP_KEEP_PRIVILEGES === '1') return result;
  const creds = (deps.credentials ?? ownCredentials)();
  if (uid === 0 && process.setuid) {
    const toUid = positive(env.SUDO_UID) ?? NOBODY;
    const toGid = positive(env.SUDO_GID) ?? NOBODY;
    // Groups and gid first: after setuid() the capability to change them is gone.
    if (hasCap(creds, 'CAP_SETGID')) {
      step('setgroups', () => process.setgroups!([]));
      step(`setgid(${toGid})`, () => process.setgid!(toGid));
      result.gid = toGid;
    }
    if (hasCap(creds, 'CAP_SETUID')) {
      step(`setuid(${toUid})`, () => process.setuid!(toUid));
      result.uid = toUid;
      result.dropped = true;
    } else {
      result.keptRoot = 'no CAP_SETUID: socktop stays uid 0, without any capability';
    }
  }
  const drop = (deps.dropCapabilities ?? addonDropCapabilities)();
  if (drop.holding.length > 0) {
    const why = drop.error ? `: ${drop.error}` : '';
    throw new SocktopError(
      `cannot drop capabilities after attaching: ${drop.holding.length} of ${drop.threads} threads still hold some${why} ` +
      '(SOCKTOP_KEEP_PRIVILEGES=1 keeps them knowingly)',
    );
  }
  result.capabilitiesDropped = true;
  return result;
}

/** Runs one set*id call; its failure is reported as what it is, never as a capture privilege. */
function step(what: string, fn: () => void): void {
  try {
    fn();
  } catch (e) {
    const err = e as { code?: unknown; message?: unknown };
    const why = typeof err.message === 'string' ? firstLine(err.message) : String(e);
    throw new SocktopError(`cannot give up root after attaching: ${what} failed (${why}); SOCKTOP_KEEP_PRIVILEGES=1 keeps it`);
  }
}

function positive(text: string | undefined): number | undefined {
  const n = Number(text);
  return Number.isInteger(n) && n > 0 ? n : undefined;
}
