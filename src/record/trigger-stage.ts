/**
 * trigger-stage.ts: `socktop record -w FILE --trigger COND [--before S] [--after S]`: the capture
 * worker keeps the last --before seconds of records in memory (memory-ring.ts) and writes them to
 * a recording only when COND fires, then keeps writing until --after seconds past the moment.
 *
 * Why everything happens here, in the worker, before the shared ring: the records are already here
 * (the recorder's place in pipeline.ts, so a slow main thread loses nothing), and the condition is
 * evaluated on a private model fed with the same records on their own clock (record-clock.ts: the
 * grammar, metrics and evaluator of --alert). No message goes between the threads, and the moment
 * of firing is exact in the record stream: the ring is written from (moment - before) on, with
 * every record up to the one that made the condition true. A timer ticks the condition when no
 * records come (so a quiet capture still ends its --after period).
 *
 * Files: opened on the main thread before privileges go (recording-file.ts, safe-open.ts rules);
 * one per incident, used in order (FILE, or with -W N: FILE.0 ... FILE.N-1 named as rotation.ts
 * names them). A firing while a file is being written (inside its --after period) extends that
 * file to --after past the new moment. When every file holds an incident, later firings are counted
 * (missed) and not recorded: the first incidents are kept, and the status line says so. Files never
 * used are removed at the end.
 *
 * Each file is a normal recording (`socktop replay` reads it); its header says what it covers:
 * `trigger: { condition, fired_mono_ns, before_s, after_s, window_from_mono_ns, incident }`: the
 * condition is evaluated every second of record time, so the file starts --before seconds ahead of
 * the second before that tick (window_from = fired - 1 s - before: the records that made the
 * condition true are always in it), and ends --after seconds past the tick; and
 * when the memory cap (--ring-mb) let go of records inside the --before window, a DROPS record of
 * the recording stage at the window's start counts them.
 */
import * as fs from 'fs';
import { DropStage, Offset, RECORD_SIZE } from '../capture/layout';
import type { BatchStage } from '../capture/pipeline';
import { AlertTransition } from '../model/alerts/evaluator';
import { parseAlerts } from '../model/alerts/grammar';
import { RecordClockAlerts } from '../model/alerts/record-clock';
import { MemoryRing } from './memory-ring';
import { createRecordingStage, RecordingStage } from './recording-stage';
import { RecordingStatsView } from './stats-view';
import { removeIfStillEmpty } from './rotation';
import { addWriterStats, emptyWriterStats, type HeaderInfo, type WriterStats } from './writer';

export interface TriggerConfig {
  /** The conditions as written (parsed again here: rules hold functions, which do not cross threads). */
  conditions: string[];
  beforeSec: number;
  afterSec: number;
  /** Memory cap of the ring, bytes. */
  maxBytes: number;
  /** One file per incident, opened on the main thread. */
  paths: string[];
  fds: number[];
  /** TriggerStatsView.sab */
  triggerSab: SharedArrayBuffer;
}

/** What the main thread reads of the trigger (status line, final report). */
export interface TriggerStats {
  /** Times a condition went to firing. */
  fired: number;
  /** Incident files started. */
  incidents: number;
  /** Firings with no file left to write. */
  missed: number;
  /** A file is being written now. */
  writing: boolean;
  ringBytes: number;
  /** Records of a --before window the memory cap let go. */
  ringEvicted: number;
}

const FIELDS = 6;

export class TriggerStatsView {
  readonly f64: Float64Array;

  static create(): TriggerStatsView {
    return new TriggerStatsView(new SharedArrayBuffer(FIELDS * 8));
  }

  constructor(readonly sab: SharedArrayBuffer) {
    this.f64 = new Float64Array(sab);
  }

  write(s: TriggerStats): void {
    const f = this.f64;
    f[0] = s.fired;
    f[1] = s.incidents;
    f[2] = s.missed;
    f[3] = s.writing ? 1 : 0;
    f[4] = s.ringBytes;
    f[5] = s.ringEvicted;
  }

  read(): TriggerStats {
    const f = this.f64;
    return { fired: f[0], incidents: f[1], missed: f[2], writing: f[3] === 1, ringBytes: f[4], ringEvicted: f[5] };
  }
}

/** How far behind "now" the timer ticks: records of that moment may still be in the BPF ring. */
const TICK_LAG_NS = 250e6;
const TIMER_MS = 200;
/** The condition is evaluated every second of record time. */
const TICK_NS = 1e9;

export interface TriggerStageOptions {
  header: HeaderInfo;
  /** Totals of every incident file (RecordingStatsView.sab), as a plain recording reports them. */
  statsSab?: SharedArrayBuffer;
  /** The capture's clock (tests may pass their own); CLOCK_MONOTONIC ns. */
  nowNs?: () => number;
}

export function createTriggerStage(cfg: TriggerConfig, opts: TriggerStageOptions): BatchStage & { close(): void } {
  const rules = parseAlerts(cfg.conditions);
  const clock = new RecordClockAlerts(rules, TICK_NS);
  const beforeNs = cfg.beforeSec * 1e9;
  const afterNs = cfg.afterSec * 1e9;
  const ring = new MemoryRing(beforeNs + TICK_NS, cfg.maxBytes); // the tick's second too (see fire())
  const triggerView = new TriggerStatsView(cfg.triggerSab);
  const statsView = opts.statsSab ? new RecordingStatsView(opts.statsSab) : null;
  const now = opts.nowNs ?? (() => Number(process.hrtime.bigint()));
  const st: TriggerStats = { fired: 0, incidents: 0, missed: 0, writing: false, ringBytes: 0, ringEvicted: 0 };
  const done = emptyWriterStats();
  let writer: RecordingStage | null = null;
  let untilNs = 0;
  let closed = false;

  const publish = (): void => {
    st.writing = writer !== null;
    st.ringBytes = ring.bytes;
    st.ringEvicted = ring.evictedRecords;
    triggerView.write(st);
    statsView?.write(total());
  };
  const total = (): WriterStats => {
    const t = { ...done };
    if (writer) addWriterStats(t, writer.stats());
    t.files = st.incidents;
    return t;
  };

  /** A condition went to firing at `tsNs` (record clock). */
  function fire(t: AlertTransition): void {
    st.fired++;
    if (writer) {
      untilNs = Math.max(untilNs, t.tsNs + afterNs);
      return;
    }
    if (st.incidents >= cfg.paths.length) {
      st.missed++;
      publish();
      return;
    }
    const k = st.incidents++;
    // From --before ahead of the tick's whole second: the records that made the condition true (in
    // the second before the tick) are in the file even with --before 0.
    const fromNs = t.tsNs - TICK_NS - beforeNs;
    const batches = ring.since(fromNs);
    const firstNs = batches.reduce((m, b) => (b.firstTsNs > 0 && (m === 0 || b.firstTsNs < m) ? b.firstTsNs : m), 0) || t.tsNs;
    const startNs = Math.min(firstNs, fromNs > 0 ? fromNs : firstNs);
    const lost = ring.evictedSince(fromNs);
    const trigger = {
      condition: t.rule.text, incident: k + 1, fired_mono_ns: String(Math.round(t.tsNs)), before_s: cfg.beforeSec,
      after_s: cfg.afterSec, window_from_mono_ns: String(Math.round(Math.max(0, fromNs))),
      ...(lost > 0 ? { memory_cap_lost_records: lost } : {}),
    };
    writer = createRecordingStage(cfg.paths[k], {
      ...opts.header,
      startMonoNs: BigInt(Math.round(startNs)),
      startWallMs: Math.round(Date.now() - (now() - startNs) / 1e6),
      extra: { ...(opts.header.extra ?? {}), trigger },
    }, { fd: cfg.fds[k] });
    // What the cap let go inside the window is said where it was: at the window's start.
    if (lost > 0) writer.writer.appendDrops(DropStage.Recording, lost, BigInt(Math.round(startNs)));
    for (const b of batches) writer.batch(b.bytes, null, b.count);
    ring.clear();
    untilNs = t.tsNs + afterNs;
    publish();
  }

  function onChanges(changes: AlertTransition[] | null): void {
    if (!changes) return;
    for (const t of changes) if (t.state === 'firing') fire(t);
  }

  function finishIfDue(nowNs: number): void {
    if (writer && nowNs >= untilNs) {
      addWriterStats(done, writer.close());
      writer = null;
      publish();
    }
  }

  const timer = setInterval(() => {
    if (closed) return;
    const at = now() - TICK_LAG_NS;
    onChanges(clock.advanceTo(at));
    finishIfDue(at);
    publish();
  }, TIMER_MS);
  timer.unref();
  publish();

  return {
    batch(staging: Uint8Array, view: DataView, count: number): void {
      if (count <= 0 || closed) return;
      if (writer) {
        writer.batch(staging, view, count);
        for (let i = 0; i < count; i++) onChanges(clock.ingest(view, i * RECORD_SIZE));
        finishIfDue(newestTs(view, count));
        return;
      }
      // Into the ring first: a condition that fires inside this batch writes it whole.
      ring.push(staging, count);
      for (let i = 0; i < count; i++) onChanges(clock.ingest(view, i * RECORD_SIZE));
    },
    close(): void {
      if (closed) return;
      closed = true;
      clearInterval(timer);
      if (writer) addWriterStats(done, writer.close()); // the capture ended inside --after: what there is
      writer = null;
      cfg.fds.forEach((fd, i) => {
        if (i >= st.incidents) removeIfStillEmpty(cfg.paths[i], fd);
        if (i >= st.incidents) closeQuietly(fd); // used files were closed by their writer
      });
      publish();
      statsView?.write({ ...total(), closed: true });
    },
  };
}

function newestTs(view: DataView, count: number): number {
  let newest = 0;
  for (let i = 0, at = 0; i < count; i++, at += RECORD_SIZE) {
    const ts = view.getUint32(at + Offset.ts_ns + 4, true) * 4294967296 + view.getUint32(at + Offset.ts_ns, true);
    if (ts > newest) newest = ts;
  }
  return newest;
}

function closeQuietly(fd: number): void {
  try {
    fs.closeSync(fd);
  } catch {
    /* already closed */
  }
}

