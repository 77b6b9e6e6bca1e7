/**
 * replay-control.ts: the control block shared by ReplaySource (main thread) and the replay worker,
 * a small SharedArrayBuffer so controls reach a worker that never yields to its event loop, and the
 * worker's position is readable at any time without messages.
 *
 *   Int32 slots (Atomics):                       Float64 slots (plain: one writer each):
 *     0 wake: bumped by main on every change        8 speed (0 = as fast as possible)     main
 *     1 paused (0/1)                      main       9 seek target, ns after first record   main
 *     2 stop (0/1)                        main      10 position, ns after first record    worker
 *     3 seek request sequence             main      11 records pushed into the ring       worker
 *     4 seek done sequence              worker      12 duration ns                         worker
 *     5 reset request sequence          worker      13 total records                       worker
 *     6 reset acknowledged sequence       main
 *     7 state: 0 starting 1 running 2 ended 3 stopped 4 failed   worker
 */

export const enum Ctl {
  Wake = 0,
  Paused = 1,
  Stop = 2,
  SeekSeq = 3,
  SeekDone = 4,
  ResetSeq = 5,
  ResetAck = 6,
  State = 7,
}

export const enum Pos {
  Speed = 8,
  SeekTarget = 9,
  Position = 10,
  Pushed = 11,
  Duration = 12,
  Total = 13,
}

export const enum ReplayState {
  Starting = 0,
  Running = 1,
  Ended = 2,
  Stopped = 3,
  Failed = 4,
}

const BYTES = 16 * 8;

export class ReplayControl {
  readonly sab: SharedArrayBuffer;
  readonly i32: Int32Array;
  readonly f64: Float64Array;

  static create(speed: number, paused: boolean): ReplayControl {
    const c = new ReplayControl(new SharedArrayBuffer(BYTES));
    c.f64[Pos.Speed] = speed;
    c.i32[Ctl.Paused] = paused ? 1 : 0;
    return c;
  }

  constructor(sab: SharedArrayBuffer) {
    this.sab = sab;
    this.i32 = new Int32Array(sab, 0, 8);
    this.f64 = new Float64Array(sab, 0, 16);
  }

  wake(): void {
    Atomics.add(this.i32, Ctl.Wake, 1);
    Atomics.notify(this.i32, Ctl.Wake);
  }

  get(slot: Ctl): number {
    return Atomics.load(this.i32, slot);
  }

  set(slot: Ctl, value: number): void {
    Atomics.store(this.i32, slot, value);
  }
}
