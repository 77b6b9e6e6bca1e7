/**
 * json.ts: `socktop --json`: every event as one JSON line (jsonLine: the schema of DESIGN.md, as decodeEvent builds it)
 * on stdout, filters applied; DROPS markers always pass (they concern everyone). Ends on a signal,
 * when stdout goes away (EPIPE: a closed `| head`), or when a finite source is exhausted, and then
 * prints one summary line to stderr with the drops per stage.
 */
import { readComm } from '../../capture/decode';
import { jsonLine } from '../../capture/json-line';
import { dropCounters, EventKind, formatDrops, Offset } from '../../capture/layout';
import { maxDrops } from '../../ui/pump';
import { commMatches, PidFilter } from '../../model/filter';
import { Families, familyShown } from '../../model/families';
import type { DataSource } from '../../source';
import type { CommonOptions } from '../options';
import { stopSignal } from '../shutdown';
import type { AlertEvaluator } from '../../model/alerts/evaluator';
import { alertJsonLine } from '../../model/alerts/format';
import type { AlertRule } from '../../model/alerts/grammar';
import { SocketModel } from '../../model/model';
import { ALERT_EXIT_CODE, alertEvaluator, alertTick } from './alerts';
import { JsonPlaces } from '../../capture/json-place';

export interface JsonOptions {
  pids: PidFilter | null;
  comm: string | null;
  /** --container, --netns. */
  container?: string | null;
  netns?: number | null;
  /** --family: the socket families printed (null or absent: all). */
  families?: Families;
  out?: NodeJS.WritableStream;
  err?: NodeJS.WritableStream;
  signal?: AbortSignal;
  /** Records per stdout write (default CHUNK_RECORDS). */
  chunkRecords?: number;
  /**
   * On the stop signal, stop the source (live: detach, the worker ends after its last batch) and
   * then print what is still in the ring, so the output holds every event the capture (and a
   * --record file) got, up to the end.
   */
  stopSourceOnSignal?: boolean;
  /**
   * --alert: every record also goes into a model (all of them: -p/--comm filter the lines, a
   * condition's own pid=/comm= scope filters what it counts), evaluated every `tickMs` (the -d
   * delay) and once more at the end; a change of state is one {"type":"alert",...} line
   * (src/model/alerts/format.ts) among the event lines.
   */
  alerts?: readonly AlertRule[];
  tickMs?: number;
}

export interface JsonSummary {
  read: number;
  written: number;
  /** Per stage, indexed by DropStage (see DROP_STAGES). */
  drops: number[];
  /** stdout was closed under us. */
  brokenPipe: boolean;
  /** Alert lines written. */
  alerts: number;
  /** Some --alert fired during the run. */
  alertFired: boolean;
}

/**
 * Records per stdout write: 256 lines are about 120 kB of text, all of it alive until written.
 * Kept well under V8's young generation (socktop runs with 1 MiB semi-spaces): a chunk that
 * outlives two scavenges is copied into the old generation, and at 4096 records (about 2 MB) a
 * storm of 10k connections/s piled 40-80 MB of dead lines there between two full GCs. stdout is a
 * file or a pipe, written synchronously on Linux: the smaller writes cost a syscall each.
 */
const CHUNK_RECORDS = 64;

export function summaryLine(s: JsonSummary): string {
  const drops = formatDrops(s.drops);
  return `socktop: ${s.written} events written (${s.read} read); drops: ${drops}${s.brokenPipe ? '; output closed' : ''}\n`;
}

export async function runJson(source: DataSource, o: JsonOptions): Promise<JsonSummary> {
  const out = o.out ?? process.stdout;
  const signal = o.signal ?? stopSignal;
  const sum: JsonSummary = { read: 0, written: 0, drops: dropCounters(), brokenPipe: false, alerts: 0, alertFired: false };
  const model = o.alerts && o.alerts.length > 0 ? new SocketModel({ globalLogSize: 0 }) : null;
  const alerts: AlertEvaluator | null = model ? alertEvaluator(o.alerts, model) : null;
  const tickMs = o.tickMs ?? 1000;
  let nextTick = Date.now() + tickMs;
  const tick = (): void => {
    if (!model || !alerts) return;
    model.refresh(source.clockNs?.());
    for (const t of alertTick(alerts, model, source)) {
      chunk += alertJsonLine(t) + '\n';
      sum.alerts++;
    }
  };
  const onError = (e: NodeJS.ErrnoException) => {
    if (e.code === 'EPIPE' || e.code === 'ERR_STREAM_DESTROYED') sum.brokenPipe = true;
    else throw e;
  };
  out.on('error', onError);
  let chunk = '';
  const places = new JsonPlaces(source.cgroupPath?.bind(source), o.container ?? null, o.netns ?? null);
  const visit = (view: DataView, off: number) => {
    sum.read++;
    model?.ingest(view, off);
    const kind = view.getUint8(off + Offset.kind);
    if (kind === EventKind.Drops) {
      const stage = view.getUint8(off + Offset.new_state);
      if (stage < sum.drops.length) sum.drops[stage] += view.getUint32(off + Offset.count, true);
    } else {
      if (o.pids && !o.pids.matches(view.getUint32(off + Offset.pid, true))) return;
      if (o.comm && !commMatches(o.comm, readComm(view, off))) return;
      if (o.families && !familyShown(o.families, view.getUint8(off + Offset.family))) return;
      if (!places.matches(view, off)) return;
      const place = places.fragment(view, off);
      if (place) {
        const line = jsonLine(view, off);
        chunk += `${line.slice(0, -1)}${place}}\n`;
        sum.written++;
        return;
      }
    }
    chunk += jsonLine(view, off) + '\n';
    sum.written++;
  };
  try {
    while (!signal.aborted && !sum.brokenPipe) {
      await source.ring.waitForData(100);
      while (source.ring.drain(visit, o.chunkRecords ?? CHUNK_RECORDS) > 0 && !sum.brokenPipe) {
        await write(out, chunk, signal);
        chunk = '';
      }
      if (model && Date.now() >= nextTick) {
        nextTick = Date.now() + tickMs;
        tick();
      }
      if (source.finished?.() && source.ring.available() === 0) break;
    }
    if (chunk && !sum.brokenPipe) await write(out, chunk, signal);
    chunk = '';
    if (o.stopSourceOnSignal && signal.aborted && !sum.brokenPipe) {
      await source.stop();
      while (source.ring.drain(visit, o.chunkRecords ?? CHUNK_RECORDS) > 0 && !sum.brokenPipe) {
        await write(out, chunk, signal);
        chunk = '';
      }
    }
    // The last records get their evaluation too: a short run (-n-less, ended by a signal or the
    // source) still reports the alert its final second crossed.
    tick();
    if (chunk && !sum.brokenPipe) await write(out, chunk, signal);
    chunk = '';
  } finally {
    out.off('error', onError);
  }
  sum.drops = maxDrops(sum.drops, source.stats(), source.ring.drops());
  sum.alertFired = alerts?.anyFired ?? false;
  (o.err ?? process.stderr).write(summaryLine(sum));
  return sum;
}

/** Write, and wait for the pipe to take it when it is full (capture goes on meanwhile). */
function write(out: NodeJS.WritableStream, text: string, signal: AbortSignal): Promise<void> {
  if (out.write(text)) return Promise.resolve();
  return new Promise((resolve) => {
    const done = () => {
      out.off('drain', done);
      out.off('close', done);
      out.off('error', done);
      signal.removeEventListener('abort', done);
      resolve();
    };
    out.once('drain', done);
    out.once('close', done);
    out.once('error', done);
    signal.addEventListener('abort', done, { once: true });
  });
}

/** Live --json; resolves to the exit code (1 when a --record file lost records, else 3 when an
 *  --alert fired). */
export async function jsonCommand(o: CommonOptions): Promise<number> {
  const { openHeadlessLive } = await import('../live');
  const live = await openHeadlessLive(o);
  const sum = await runJson(live.source, {
    pids: o.pids, comm: o.comm, container: o.container, netns: o.netns, families: o.families, signal: live.stop.signal,
    stopSourceOnSignal: true, alerts: o.alerts, tickMs: o.delaySec * 1000,
  });
  live.throwIfDied();
  // As `socktop record` does: a recording that lost records is a failure, though the events
  // themselves all reached stdout.
  const error = live.source.stats()?.recordingError;
  if (o.record && sum.drops[3] > 0) {
    process.stderr.write(`socktop: the recording lost ${sum.drops[3]} records${error ? ` (${error})` : ''}\n`);
    return 1;
  }
  return sum.alertFired ? ALERT_EXIT_CODE : 0;
}
