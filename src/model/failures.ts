/**
 * failures.ts: the reason of a failed connect (or of an established connection ended by a reset),
 * from a record: its `reason` byte, or for records written before reasons existed (reason 0) the
 * one its errno implies. Pure; used by the model and the exporter so both count alike.
 */
import { EventKind, Flag, Offset, Reason, REASON_NAMES, FAIL_REASONS } from '../capture/layout';

const ECONNREFUSED = 111;
const ETIMEDOUT = 110;
const ECONNABORTED = 103;
const ECONNRESET = 104;

/** The reason an errno implies, for a connect record without its own reason byte. */
export function reasonOfErrno(errno: number, localError: boolean): Reason {
  switch (errno) {
    case ECONNREFUSED: case ECONNRESET: return Reason.Refused;
    case ETIMEDOUT: return Reason.Timeout;
    case 100: case 101: case 112: case 113: return Reason.Unreachable; // ENETDOWN ENETUNREACH EHOSTDOWN EHOSTUNREACH
    case ECONNABORTED: return localError ? Reason.Local : Reason.Aborted;
    default: return localError || errno ? Reason.Local : Reason.None;
  }
}

/**
 * A CONNECT record's failure reason (Reason.None: it succeeded). A connect failed when it carries
 * an errno, or a reason without one (the cgroup backend cannot always learn the errno of a connect
 * that failed in the call).
 */
export function connectFailure(view: DataView, off: number): Reason {
  const reason = view.getUint8(off + Offset.reason);
  if (reason) return reason as Reason;
  const error = view.getInt32(off + Offset.error, true);
  if (!error) return Reason.None;
  return reasonOfErrno(error, (view.getUint8(off + Offset.flags) & Flag.LocalError) !== 0);
}

/** A CLOSE record of an established connection ended by a received RST: Reason.Reset, else None. */
export function closeFailure(view: DataView, off: number): Reason {
  return view.getUint8(off + Offset.kind) === EventKind.Close && view.getUint8(off + Offset.reason) === Reason.Reset
    ? Reason.Reset : Reason.None;
}

/** Counts per reason (index = Reason), allocated once per process that fails. */
export function failCounters(): Uint32Array {
  return new Uint32Array(REASON_NAMES.length + 1);
}

/** "refused 2, timeout 1": the nonzero counts, in FAIL_REASONS order ("" when none). */
export function formatFailures(counts: ArrayLike<number> | null): string {
  if (!counts) return '';
  return FAIL_REASONS.filter((r) => counts[r]).map((r) => `${REASON_NAMES[r]} ${counts[r]}`).join(', ');
}
