/**
 * alerts.ts: what the runners (batch, --json, the TUI through src/ui) share about alerts: one tick
 * of the evaluator on a source's model, and the exit status of a run in which an alert fired.
 */
import { ALERT_EXIT_CODE, AlertEvaluator, AlertTransition } from '../../model/alerts/evaluator';
import type { AlertRule } from '../../model/alerts/grammar';
import type { SocketModel } from '../../model/model';
import type { DataSource } from '../../source';
import { dropsPerStage } from '../../ui/pump';

export { ALERT_EXIT_CODE };

export function alertEvaluator(rules: readonly AlertRule[] | undefined, model: SocketModel): AlertEvaluator | null {
  return rules && rules.length > 0 ? new AlertEvaluator(rules, model.options.rateWindowSec) : null;
}

/** Evaluate at the model's last refresh(); lost events count every stage (markers and counters). */
export function alertTick(ev: AlertEvaluator, model: SocketModel, source: DataSource): AlertTransition[] {
  return ev.evaluate(model, { drops: dropsPerStage(model, source.stats(), source.ring.drops()) });
}

export function exitStatus(code: number, ev: AlertEvaluator | null): number {
  return code === 0 && ev?.anyFired ? ALERT_EXIT_CODE : code;
}
