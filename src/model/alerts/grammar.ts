/**
 * grammar.ts: the one small grammar of alert conditions (`socktop --alert COND`, `socktop record
 * --trigger COND`):
 *
 *     COND   := [SCOPE ':'] METRIC OP NUMBER [UNIT] ['/s']
 *     SCOPE  := 'pid=' PIDLIST          (123  123,456  100-200  !123, as -p takes them)
 *             | 'comm=' NAME            (command names containing NAME, any case, as --comm)
 *     OP     := '>' | '>=' | '<' | '<=' | '==' | '!='
 *     NUMBER := digits, with an optional fraction (10  0.5)
 *     UNIT   := ns | us | ms | s        (durations only, and then required: accept_p99>100ms)
 *
 * Counters (refused, resets, lost, ...) compare their growth over the last rate window (5 s):
 * `resets>0` is "a reset in the last 5 s"; with `/s` they compare that growth per second
 * (`refused>10/s`). Gauges (sockets_open, listen) compare their level now; `/s` is refused on them.
 * Spaces around the parts are allowed (`'refused > 10/s'`). The scope ends at the LAST ':' of the
 * condition (no metric, operator or number holds one), so a command name may contain ':'.
 *
 * Errors are one line naming the token at fault and, for an unknown metric, listing them all.
 */
import { parsePidFilter, PidFilter, PidFilterError } from '../filter';
import { findMetric, Metric, METRIC_NAMES } from './metrics';

export type AlertOp = '>' | '>=' | '<' | '<=' | '==' | '!=';

export type AlertScope =
  | { kind: 'pid'; pids: PidFilter; text: string }
  | { kind: 'comm'; comm: string; text: string };

export interface AlertRule {
  /** The condition as written (trimmed): the alert's name in every output. */
  text: string;
  metric: Metric;
  op: AlertOp;
  /** In the metric's base unit: events (in the window, or per second with `rate`), or ns. */
  threshold: number;
  /** `/s`: compare the growth per second. */
  rate: boolean;
  scope: AlertScope | null;
  /** The unit values are shown in: '/s', '' (events), or the duration unit written ('ms'). */
  displayUnit: string;
}

export class AlertSyntaxError extends Error {}

/** Nanoseconds per duration unit a condition may use. */
export const NS_PER: Readonly<Record<string, number>> = { ns: 1, us: 1e3, 'µs': 1e3, ms: 1e6, s: 1e9 };
const OPS: readonly AlertOp[] = ['>=', '<=', '==', '!=', '>', '<'];

/** A bad token, quoted for a one-line message (controls shown as escapes). */
function quote(token: string): string {
  return `'${JSON.stringify(token).slice(1, -1)}'`;
}

function fail(message: string): never {
  throw new AlertSyntaxError(message);
}

function parseScope(text: string): AlertScope {
  const eq = text.indexOf('=');
  const key = (eq < 0 ? text : text.slice(0, eq)).trim();
  const value = eq < 0 ? '' : text.slice(eq + 1).trim();
  if (key === 'pid') {
    let pids: PidFilter | null;
    try {
      pids = parsePidFilter(value);
    } catch (e) {
      if (e instanceof PidFilterError) fail(`scope ${quote(text)}: ${e.message}`);
      throw e;
    }
    if (!pids) fail(`scope ${quote(text)}: no PID given (pid=123 or pid=100-200)`);
    return { kind: 'pid', pids, text: `pid=${pids.text}` };
  }
  if (key === 'comm') {
    if (!value) fail(`scope ${quote(text)}: no command name given (comm=nginx)`);
    return { kind: 'comm', comm: value, text: `comm=${value}` };
  }
  return fail(`unknown scope ${quote(text)} (use pid=LIST: or comm=NAME: before the metric)`);
}

/** Parse one condition; throws AlertSyntaxError with a one-line message. */
export function parseAlert(input: string): AlertRule {
  const text = input.trim();
  if (!text) fail('empty condition (e.g. refused>10/s)');
  const colon = text.lastIndexOf(':');
  const scope = colon >= 0 ? parseScope(text.slice(0, colon)) : null;
  let rest = text.slice(colon + 1).trim();

  const name = /^[A-Za-z_][A-Za-z0-9_]*/.exec(rest)?.[0];
  if (!name) fail(`expected a metric at ${quote(rest)} (metrics: ${METRIC_NAMES.join(', ')})`);
  const metric = findMetric(name);
  if (!metric) fail(`unknown metric ${quote(name)} (metrics: ${METRIC_NAMES.join(', ')})`);
  if (scope && metric.kind === 'host_counter') fail(`${name} is host-wide: it takes no ${scope.kind}= scope`);
  rest = rest.slice(name.length).trim();

  const op = OPS.find((o) => rest.startsWith(o));
  if (!op) fail(`expected an operator (> >= < <= == !=) after ${name}, got ${quote(rest || 'nothing')}`);
  rest = rest.slice(op.length).trim();

  const num = /^\d+(?:\.\d+)?/.exec(rest)?.[0];
  if (!num) fail(`expected a number after '${op}', got ${quote(rest || 'nothing')}`);
  let threshold = Number(num);
  rest = rest.slice(num.length).trim();

  const unit = /^[a-zµ]+/i.exec(rest)?.[0] ?? '';
  rest = rest.slice(unit.length).trim();
  const perSecond = /^\/\s*s$/.test(rest);
  if (rest && !perSecond) fail(`unexpected ${quote(rest)} after the number (only a unit such as ms, or /s, may follow)`);

  let displayUnit = '';
  if (metric.unit === 'duration') {
    if (perSecond) fail(`${name} is a duration: '/s' does not apply (e.g. ${name}>100ms)`);
    if (!unit) fail(`${name} is a duration: give a unit after the number (ns, us, ms, s: ${name}>100ms)`);
    const scale = NS_PER[unit];
    if (scale === undefined) fail(`unknown unit ${quote(unit)} for ${name} (ns, us, ms, s)`);
    threshold *= scale;
    displayUnit = unit;
  } else {
    if (unit) fail(`${name} counts events: unit ${quote(unit)} does not apply (a number, or a number with /s)`);
    if (perSecond && metric.kind === 'gauge') fail(`${name} is a level, not a count over time: '/s' does not apply`);
    displayUnit = perSecond ? '/s' : '';
  }
  return { text, metric, op, threshold, rate: perSecond, scope, displayUnit };
}

/** Parse every --alert value (the option may be given several times); throws on the first bad one. */
export function parseAlerts(values: readonly string[]): AlertRule[] {
  return values.map((v) => {
    try {
      return parseAlert(v);
    } catch (e) {
      if (e instanceof AlertSyntaxError) throw new AlertSyntaxError(`${quote(v)}: ${e.message}`);
      throw e;
    }
  });
}

export function compare(value: number, op: AlertOp, threshold: number): boolean {
  switch (op) {
    case '>': return value > threshold;
    case '>=': return value >= threshold;
    case '<': return value < threshold;
    case '<=': return value <= threshold;
    case '==': return value === threshold;
    case '!=': return value !== threshold;
  }
}
