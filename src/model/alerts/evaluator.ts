/**
 * evaluator.ts: alert conditions (grammar.ts) against the model, once per tick.
 *
 * A tick is whenever the caller refreshed the model (a TUI frame, a batch snapshot, a --json tick,
 * the recorder's trigger check): evaluate() reads the metrics (metrics.ts) and reports the changes
 * of state, each ONCE:
 *   ok -> firing      the condition became true ("firing", with the value that made it true)
 *   firing -> ok      it became false again ("cleared", with the value now)
 *   * -> no_data      the metric has no figure (a percentile no process in scope has): the
 *                     condition is neither true nor false and never fires until there is data
 * No hysteresis: a value hovering at the threshold fires and clears on alternate ticks.
 *
 * Counters: each tick adds, per process row, how much its total grew since the previous tick (a
 * row first seen adds its whole total); the window holds those per-tick growths for the last
 * `windowSec` seconds of the model's clock, and the condition compares their sum (or sum / window
 * with /s). Rows that went (exited and aged out) simply stop adding: a total never goes backwards.
 */
import type { SocketModel } from '../model';
import type { ProcessRow } from '../processes';
import { commMatches } from '../filter';
import { AlertRule, compare, NS_PER } from './grammar';
import type { HostFigures, RowMetric } from './metrics';

export type AlertState = 'ok' | 'firing' | 'no_data';

/**
 * `socktop -b`, `--json`, `replay -b`/`--json` end with this status when an alert fired during the
 * run and nothing failed (failures keep their own status: 1, 2).
 */
export const ALERT_EXIT_CODE = 3;

/** What a tick changed: one per alert whose state changed. */
export interface AlertTransition {
  rule: AlertRule;
  state: 'firing' | 'cleared' | 'no_data';
  /** In the rule's display unit (per second, events, or the duration unit written); null: no data. */
  value: number | null;
  /** The model's clock at the tick (ns, CLOCK_MONOTONIC of the capturing host, as events' ts_ns). */
  tsNs: number;
}

export interface AlertStatus {
  rule: AlertRule;
  state: AlertState;
  /** Last value, display unit; NaN when there is none. */
  value: number;
  /** Times it went to firing. */
  fired: number;
  /** Model clock when it last went to firing (0: never). */
  firedAtNs: number;
}

interface Growth {
  tsNs: number;
  n: number;
}

/** One rule's running state. */
class AlertTrack implements AlertStatus {
  state: AlertState = 'ok';
  value = NaN;
  fired = 0;
  firedAtNs = 0;
  /** Counter growth this tick (summed over the rows in scope). */
  pending = 0;
  /** Per-tick growths in the window, oldest first. */
  readonly window: Growth[] = [];
  /** Host counters: the total at the previous tick (-1 = none yet). */
  hostLast = -1;

  constructor(readonly rule: AlertRule, readonly counterSlot: number) {}

  inScope(row: ProcessRow): boolean {
    const s = this.rule.scope;
    if (!s) return true;
    return s.kind === 'pid' ? s.pids.matches(row.pid) : commMatches(s.comm, row.comm);
  }
}

export class AlertEvaluator {
  private readonly tracks: AlertTrack[];
  /** The per-row counter metrics in use, one slot each in a row's baseline. */
  private readonly counters: RowMetric[] = [];
  private baselines = new Map<ProcessRow, Float64Array>();

  /** `windowSec`: the model's rate window (ModelOptions.rateWindowSec). */
  constructor(readonly rules: readonly AlertRule[], private readonly windowSec = 5) {
    this.tracks = rules.map((rule) => {
      const m = rule.metric;
      let slot = -1;
      if (m.kind === 'counter') {
        slot = this.counters.indexOf(m);
        if (slot < 0) slot = this.counters.push(m) - 1;
      }
      return new AlertTrack(rule, slot);
    });
  }

  get statuses(): readonly AlertStatus[] {
    return this.tracks;
  }

  /** Some alert went to firing at least once. */
  get anyFired(): boolean {
    return this.tracks.some((t) => t.fired > 0);
  }

  /** The model was replaced (a replay seeking back): growth starts over; states are kept. */
  reset(): void {
    this.baselines = new Map();
    for (const t of this.tracks) {
      t.window.length = 0;
      t.hostLast = -1;
    }
  }

  /** Evaluate every rule at the model's last refresh(); the changes of state, in rule order. */
  evaluate(model: SocketModel, host: HostFigures, nowNs = model.now): AlertTransition[] {
    if (this.counters.length > 0) this.addRowGrowth(model);
    const out: AlertTransition[] = [];
    for (const t of this.tracks) {
      const value = this.valueOf(t, model, host, nowNs);
      t.value = value;
      const change = this.step(t, value, nowNs);
      if (change) out.push({ rule: t.rule, state: change, value: Number.isNaN(value) ? null : round(value), tsNs: nowNs });
    }
    return out;
  }

  private step(t: AlertTrack, value: number, nowNs: number): AlertTransition['state'] | null {
    if (Number.isNaN(value)) {
      if (t.state === 'no_data') return null;
      t.state = 'no_data';
      return 'no_data';
    }
    const on = compare(value, t.rule.op, this.thresholdOf(t.rule));
    if (on && t.state !== 'firing') {
      t.state = 'firing';
      t.fired++;
      t.firedAtNs = nowNs;
      return 'firing';
    }
    if (!on && t.state !== 'ok') {
      const was = t.state;
      t.state = 'ok';
      return was === 'firing' ? 'cleared' : null;
    }
    return null;
  }

  /** The threshold in display units (values are compared as shown). */
  private thresholdOf(rule: AlertRule): number {
    return rule.metric.unit === 'duration' ? rule.threshold / NS_PER[rule.displayUnit] : rule.threshold;
  }

  private valueOf(t: AlertTrack, model: SocketModel, host: HostFigures, nowNs: number): number {
    const m = t.rule.metric;
    switch (m.kind) {
      case 'host_counter': {
        const total = m.read(host);
        const grew = t.hostLast < 0 ? total : Math.max(0, total - t.hostLast);
        t.hostLast = total;
        return this.windowed(t, grew, nowNs);
      }
      case 'counter': {
        const grew = t.pending;
        t.pending = 0;
        return this.windowed(t, grew, nowNs);
      }
      case 'gauge': {
        let sum = 0;
        for (const row of model.rows()) if (t.inScope(row)) sum += m.read(row);
        return sum;
      }
      case 'duration': {
        let worst = NaN;
        for (const row of model.rows()) {
          if (!t.inScope(row)) continue;
          const v = m.read(row);
          if (Number.isFinite(v) && !(v <= worst)) worst = v;
        }
        return worst / NS_PER[t.rule.displayUnit];
      }
    }
  }

  /** Add this tick's growth to the window; the count in the window (or per second with /s). */
  private windowed(t: AlertTrack, grew: number, nowNs: number): number {
    const w = t.window;
    if (grew > 0) w.push({ tsNs: nowNs, n: grew });
    const since = nowNs - this.windowSec * 1e9;
    let drop = 0;
    while (drop < w.length && w[drop].tsNs <= since) drop++;
    if (drop > 0) w.splice(0, drop);
    let sum = 0;
    for (const g of w) sum += g.n;
    return t.rule.rate ? sum / this.windowSec : sum;
  }

  /** Per row, how much each counter in use grew since the last tick, into each track's pending. */
  private addRowGrowth(model: SocketModel): void {
    const next = new Map<ProcessRow, Float64Array>();
    const counters = this.counters;
    const delta = new Float64Array(counters.length);
    for (const row of model.rows()) {
      let base = this.baselines.get(row);
      const fresh = base === undefined;
      if (!base) base = new Float64Array(counters.length);
      let any = false;
      for (let i = 0; i < counters.length; i++) {
        const v = counters[i].read(row);
        delta[i] = fresh ? v : Math.max(0, v - base[i]);
        base[i] = v;
        if (delta[i] > 0) any = true;
      }
      next.set(row, base);
      if (!any) continue;
      for (const t of this.tracks) {
        if (t.counterSlot >= 0 && delta[t.counterSlot] > 0 && t.inScope(row)) t.pending += delta[t.counterSlot];
      }
    }
    this.baselines = next;
  }
}

function round(v: number): number {
  return Math.round(v * 1000) / 1000;
}
