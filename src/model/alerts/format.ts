/**
 * format.ts: alerts as text, for every output: the JSON line of `--json` (and `replay --json`),
 * the line batch mode prints when an alert changes state, and the summary of the TUI header and
 * the batch snapshot. Pure strings; the caller escapes for its terminal (showText, esc).
 *
 * JSON (one line per change of state, among the event lines, in time order):
 *   {"type":"alert","alert":"refused>10/s","state":"firing","value":12.4,"unit":"/s",
 *    "threshold":10,"ts_ns":123456789}
 * - type: always "alert" (event lines have "kind" and no "type": that tells them apart);
 * - alert: the condition as written; state: firing | cleared | no_data;
 * - value: in the condition's own unit (per second for /s, events in the window, or the duration
 *   unit written: ms for accept_p99>100ms), null with no_data; unit: "/s", "events" or that unit;
 * - threshold: the condition's number, same unit; ts_ns: the model's clock at the tick, the same
 *   CLOCK_MONOTONIC as the events' ts_ns (a replay: the recording's clock).
 */
import type { AlertStatus, AlertTransition } from './evaluator';
import { AlertRule, NS_PER } from './grammar';

/** JSON.stringify, with DEL and C1 controls escaped too (as the event lines do). */
function jsonString(s: string): string {
  return JSON.stringify(s).replace(/[\u007f-\u009f]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

export function unitName(rule: AlertRule): string {
  return rule.displayUnit || 'events';
}

/** The threshold as written (duration thresholds in their written unit). */
export function thresholdShown(rule: AlertRule): number {
  return rule.metric.unit === 'duration' ? rule.threshold / NS_PER[rule.displayUnit] : rule.threshold;
}

export function alertJsonLine(t: AlertTransition): string {
  return `{"type":"alert","alert":${jsonString(t.rule.text)},"state":"${t.state}","value":${t.value === null ? 'null' : t.value}`
    + `,"unit":${jsonString(unitName(t.rule))},"threshold":${thresholdShown(t.rule)},"ts_ns":${Math.round(t.tsNs)}}`;
}

/** A value with its unit: "12.4/s", "3 events", "143ms", "no data". */
export function valueText(rule: AlertRule, value: number | null): string {
  if (value === null || Number.isNaN(value)) return 'no data';
  const v = Number.isInteger(value) ? String(value) : value.toFixed(value < 10 ? 2 : 1);
  if (rule.displayUnit === '/s') return `${v}/s`;
  if (rule.displayUnit) return `${v}${rule.displayUnit}`;
  return `${v} ${value === 1 ? 'event' : 'events'}`;
}

/** Batch mode's line for a change of state: "ALERT refused>10/s firing: 12.4/s". */
export function alertTextLine(t: AlertTransition): string {
  const what = t.state === 'no_data' ? 'no data' : t.state;
  return t.state === 'no_data' ? `ALERT ${t.rule.text} ${what}` : `ALERT ${t.rule.text} ${what}: ${valueText(t.rule, t.value)}`;
}

/** One status for the header: "refused>10/s FIRING 12.4/s", "lost>0 ok", "accept_p99>100ms no data". */
export function statusText(s: AlertStatus): string {
  if (s.state === 'firing') return `${s.rule.text} FIRING ${valueText(s.rule, s.value)}`;
  if (s.state === 'no_data') return `${s.rule.text} no data`;
  return `${s.rule.text} ok`;
}
