/**
 * stats-view.ts: the recorder's counters (WriterStats) in a SharedArrayBuffer, so the main thread
 * (status line, UI, exit summary) reads what the worker-side recorder did without messages.
 */
import type { WriterStats } from './writer';

const STATS_F64 = 9;
const STATS_ERR_AT = 72;
const STATS_BYTES = 320;

/**
 * The recording hook's counters in a SharedArrayBuffer, so the main thread (status line, UI) can
 * read what the worker-side recorder did without messages. Create with RecordingStatsView.create(),
 * pass `.sab` to the worker (the recording stage's statsSab), read with `.read()` anywhere.
 */
export class RecordingStatsView {
  readonly sab: SharedArrayBuffer;
  private readonly f64: Float64Array;
  private readonly u8: Uint8Array;
  private readonly i32: Int32Array;
  private lastWritten: string | null = null;

  static create(): RecordingStatsView {
    return new RecordingStatsView(new SharedArrayBuffer(STATS_BYTES));
  }

  constructor(sab: SharedArrayBuffer) {
    this.sab = sab;
    this.f64 = new Float64Array(sab, 0, STATS_F64);
    this.i32 = new Int32Array(sab, STATS_ERR_AT, 1);
    this.u8 = new Uint8Array(sab, STATS_ERR_AT + 4, STATS_BYTES - STATS_ERR_AT - 4);
  }

  write(s: WriterStats): void {
    const f = this.f64;
    f[0] = s.records;
    f[1] = s.recordsWritten;
    f[2] = s.bytes;
    f[3] = s.frames;
    f[4] = s.recordsLost;
    f[5] = s.writeErrors;
    f[6] = s.processes;
    f[7] = s.closed ? 1 : 0;
    f[8] = s.files ?? 0;
    if (s.lastError !== null && s.lastError !== this.lastWritten) {
      // Rare (one per distinct error): a reader may see a torn message once, never a crash.
      this.lastWritten = s.lastError;
      const b = Buffer.from(s.lastError, 'utf8').subarray(0, this.u8.length);
      Atomics.store(this.i32, 0, 0);
      this.u8.set(b);
      Atomics.store(this.i32, 0, b.length);
    }
  }

  read(): WriterStats {
    const f = this.f64;
    const n = Atomics.load(this.i32, 0);
    return {
      records: f[0], recordsWritten: f[1], bytes: f[2], frames: f[3], recordsLost: f[4],
      writeErrors: f[5], processes: f[6], closed: f[7] === 1, ...(f[8] > 0 ? { files: f[8] } : {}),
      lastError: n > 0 ? Buffer.from(this.u8.slice(0, n)).toString('utf8') : null,
    };
  }
}
