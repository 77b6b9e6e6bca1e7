/**
 * record-clock.ts: alerts evaluated on the records' own clock, for the places that see records
 * but have no display tick: `replay FILE --json` (read straight from the file, as fast as stdout
 * takes it) and the triggered recorder in the capture worker (src/record/trigger-stage.ts).
 *
 * Every record goes into a private model; when a record's time reaches the next tick (every
 * `tickNs` of record time), the model is refreshed AT that tick and the conditions evaluated, before
 * the record is counted: the result is the same at any replay speed. advanceTo(now) ticks without
 * records (a quiet live capture, so an alert also clears). After a long quiet gap only a few ticks
 * are evaluated: past the rate window nothing changes from one quiet tick to the next.
 */
import { EventKind, Offset } from '../../capture/layout';
import { SocketModel } from '../model';
import { AlertEvaluator, AlertTransition } from './evaluator';
import type { AlertRule } from './grammar';

const TWO32 = 4294967296;

export class RecordClockAlerts {
  readonly model = new SocketModel({ globalLogSize: 0, processLogSize: 1 });
  readonly evaluator: AlertEvaluator;
  private nextTickNs = 0;
  private lastTsNs = 0;

  constructor(rules: readonly AlertRule[], private readonly tickNs = 1e9) {
    this.evaluator = new AlertEvaluator(rules, this.model.options.rateWindowSec);
  }

  /**
   * Count one record; returns the changes of state of the ticks its time passed (evaluated before
   * it), or null when it passed none (the common case: nothing is allocated).
   */
  ingest(view: DataView, off: number): AlertTransition[] | null {
    const ts = view.getUint32(off + Offset.ts_ns + 4, true) * TWO32 + view.getUint32(off + Offset.ts_ns, true);
    // Writer-made DROPS records carry the writer's clock; a zero time is no time at all.
    const timed = ts > 0 && view.getUint8(off + Offset.kind) !== EventKind.None;
    const changes = timed ? this.advanceTo(ts) : null;
    this.model.ingest(view, off);
    if (timed && ts > this.lastTsNs) this.lastTsNs = ts;
    return changes;
  }

  /** Evaluate every tick up to `nowNs` (record clock); null when none was due. */
  advanceTo(nowNs: number): AlertTransition[] | null {
    if (this.nextTickNs === 0) {
      this.nextTickNs = nowNs + this.tickNs;
      return null;
    }
    if (nowNs < this.nextTickNs) return null;
    let out: AlertTransition[] | null = null;
    const maxTicks = this.model.options.rateWindowSec * 1e9 / this.tickNs + 2;
    for (let i = 0; nowNs >= this.nextTickNs; i++) {
      if (i >= maxTicks) this.nextTickNs += Math.floor((nowNs - this.nextTickNs) / this.tickNs) * this.tickNs;
      const changes = this.tickAt(this.nextTickNs);
      if (changes.length > 0) out = out ? out.concat(changes) : changes;
      this.nextTickNs += this.tickNs;
    }
    return out;
  }

  /** A last evaluation at the newest record's time (the end of a file, the end of a capture). */
  finish(): AlertTransition[] {
    return this.lastTsNs > 0 ? this.tickAt(this.lastTsNs) : [];
  }

  private tickAt(tick: number): AlertTransition[] {
    // A timer tick (advanceTo) may come after newer records were counted: "now" is never before them.
    const tsNs = Math.max(tick, this.lastTsNs);
    this.model.refresh(tsNs);
    return this.evaluator.evaluate(this.model, { drops: this.model.stats().drops }, tsNs);
  }
}
