/**
 * options.ts: the command line as the commands use it, checked once: a bad value is a UsageError
 * (exit 2) naming the option and what it expects.
 */
import { PROBE_CHOICES as PROBES, ProbeChoice } from '../capture/addon';
import { parseNetns, parsePidFilter, PidFilter, PidFilterError } from '../model/filter';
import { AlertRule, AlertSyntaxError, parseAlerts } from '../model/alerts/grammar';
import { Families, FamilyFilterError, parseFamilies } from '../model/families';
import { UsageError } from './errors';
import { VIEW_NAMES, viewByName, ViewName } from '../model/views/registry';
import { DEFAULT_FOLD_EXITED_SEC } from '../model/views';

export interface CommonOptions {
  pids: PidFilter | null;
  comm: string | null;
  /** --container: id/pod prefix or unit name; --netns: an inode. */
  container: string | null;
  netns: number | null;
  /** --family: the socket families shown (null: all). */
  families: Families;
  delaySec: number;
  probe: ProbeChoice;
  json: boolean;
  batch: boolean;
  iterations: number | undefined;
  record: string | undefined;
  verbose: boolean;
  /** --force: a recording may overwrite an existing file of the invoking user. */
  force: boolean;
  /** --alert COND, as often as given (src/model/alerts/grammar.ts). */
  alerts: AlertRule[];
  /** --view: the view to start in (TUI) or to print (-b). */
  view: ViewName;
  /** --fold-exited: seconds after which an exited process folds into its command. */
  foldExitedSec: number;
}

/** The raw yargs values we read (all optional: yargs fills defaults). */
export interface RawArgs {
  pid?: unknown;
  comm?: unknown;
  container?: unknown;
  netns?: unknown;
  family?: unknown;
  delay?: unknown;
  probe?: unknown;
  json?: unknown;
  batch?: unknown;
  iterations?: unknown;
  record?: unknown;
  verbose?: unknown;
  force?: unknown;
  alert?: unknown;
  view?: unknown;
  foldExited?: unknown;
  'fold-exited'?: unknown;
}

export const MIN_DELAY_SEC = 0.1;
export const MAX_DELAY_SEC = 3600;

/** A repeated option arrives as an array: the last one wins, except -p lists, which add up. */
function last(v: unknown): unknown {
  return Array.isArray(v) ? v[v.length - 1] : v;
}

/** -p given with no PID in it (`-p ''`, `-p ,,,`) is a mistake, not "every process". */
export function parsePidOption(v: unknown): PidFilter | null {
  if (v === undefined || v === null) return null;
  const text = (Array.isArray(v) ? v : [v]).map(String).join(',');
  let filter: PidFilter | null;
  try {
    filter = parsePidFilter(text);
  } catch (e) {
    if (e instanceof PidFilterError) throw new UsageError(`-p/--pid: ${e.message}`);
    throw e;
  }
  if (filter === null) throw new UsageError('-p/--pid: empty PID list');
  return filter;
}

export function parseDelay(v: unknown): number {
  const raw = last(v);
  const n = typeof raw === 'number' ? raw : Number(raw);
  if (!Number.isFinite(n) || n < MIN_DELAY_SEC || n > MAX_DELAY_SEC) {
    const shown = Number.isNaN(raw) ? 'that' : `'${String(raw)}'`;
    throw new UsageError(`-d/--delay: ${shown} is not a delay in seconds between ${MIN_DELAY_SEC} and ${MAX_DELAY_SEC}`);
  }
  return n;
}

export function parseIterations(v: unknown): number | undefined {
  const raw = last(v);
  if (raw === undefined) return undefined;
  const n = typeof raw === 'number' ? raw : Number(raw);
  if (!Number.isInteger(n) || n < 1) {
    const shown = Number.isNaN(raw) ? 'that' : `'${String(raw)}'`;
    throw new UsageError(`-n/--iterations: ${shown} is not a positive whole number`);
  }
  return n;
}

/** Every value of a repeatable condition option (--alert, --trigger), parsed; a bad one is a
 *  one-line UsageError naming the option, the token at fault and the metrics. */
export function parseConditionOption(v: unknown, flag: string): AlertRule[] {
  if (v === undefined || v === null) return [];
  const values = (Array.isArray(v) ? v : [v]).map(String);
  try {
    return parseAlerts(values);
  } catch (e) {
    if (e instanceof AlertSyntaxError) throw new UsageError(`${flag} ${e.message}`);
    throw e;
  }
}

function parseFamilyOption(v: unknown): Families {
  if (v === undefined || v === null) return null;
  try {
    return parseFamilies(String(last(v)));
  } catch (e) {
    if (e instanceof FamilyFilterError) throw new UsageError(`--family: ${e.message}`);
    throw e;
  }
}

/** --netns INODE (also `net:[INODE]`, as /proc/PID/ns/net reads). */
export function parseNetnsOption(v: unknown): number | null {
  const raw = last(v);
  if (raw === undefined) return null;
  try {
    const n = parseNetns(String(raw));
    if (n === null) throw new PidFilterError('empty');
    return n;
  } catch (e) {
    if (e instanceof PidFilterError) throw new UsageError(`--netns: '${String(raw)}' is not a network namespace inode (lsns -t net shows them)`);
    throw e;
  }
}

function parseContainerOption(v: unknown): string | null {
  const raw = last(v);
  if (raw === undefined) return null;
  if (String(raw).trim() === '') throw new UsageError('--container: empty name (give a container id prefix, a pod UID prefix or a unit name)');
  return String(raw).trim();
}

export function parseView(v: unknown): ViewName {
  const raw = last(v);
  if (raw === undefined) return 'processes';
  const view = viewByName(String(raw));
  if (!view) throw new UsageError(`--view: '${String(raw)}' is not a view (${VIEW_NAMES.join(', ')})`);
  return view;
}

/** Up to a day: past that, exited processes age out of the model (60 s) long before. */
export function parseFoldExited(v: unknown): number {
  const raw = last(v);
  if (raw === undefined) return DEFAULT_FOLD_EXITED_SEC;
  const n = typeof raw === 'number' ? raw : Number(raw);
  if (!Number.isFinite(n) || n < 0 || n > 86400) {
    const shown = Number.isNaN(raw) ? 'that' : `'${String(raw)}'`;
    throw new UsageError(`--fold-exited: ${shown} is not a number of seconds between 0 and 86400`);
  }
  return n;
}

export function normalizeOptions(a: RawArgs): CommonOptions {
  const probe = String(last(a.probe) ?? 'auto') as ProbeChoice;
  if (!PROBES.includes(probe)) throw new UsageError(`--probe: '${probe}' is not one of ${PROBES.join(', ')}`);
  const comm = last(a.comm);
  const record = last(a.record);
  const o: CommonOptions = {
    pids: parsePidOption(a.pid),
    comm: comm === undefined || comm === '' ? null : String(comm),
    container: parseContainerOption(a.container),
    netns: parseNetnsOption(a.netns),
    families: parseFamilyOption(a.family),
    delaySec: parseDelay(a.delay ?? 1),
    probe,
    json: Boolean(last(a.json)),
    batch: Boolean(last(a.batch)),
    iterations: parseIterations(a.iterations),
    record: record === undefined ? undefined : String(record),
    verbose: Boolean(last(a.verbose)),
    force: Boolean(last(a.force)),
    alerts: parseConditionOption(a.alert, '--alert'),
    view: parseView(a.view),
    foldExitedSec: parseFoldExited(a['fold-exited'] ?? a.foldExited),
  };
  if (o.json && o.batch) throw new UsageError('--json and -b/--batch cannot be used together');
  if (o.iterations !== undefined && o.json) throw new UsageError('-n/--iterations goes with -b/--batch (or the TUI), not --json');
  if (o.record === '') throw new UsageError('--record needs a file name');
  if (o.json && last(a.view) !== undefined) throw new UsageError('--view goes with the TUI or -b/--batch, not --json (which prints events, not a view)');
  return o;
}
