/**
 * processes.ts: one row per process (tgid), created once per pid and updated in place by the model.
 * Fields are plain numbers so the ingest path allocates nothing; the derived figures (rates,
 * percentiles) are filled in by refresh() once per frame, not per event.
 */
import { LatencyHistogram } from './latency';
import { RateWindow } from './rates';
import { EventLog } from './eventlog';
import type { Placement } from './container';

/** Series in each row's RateWindow (and in the model's global history). */
export const Series = { Connects: 0, Accepts: 1, Closes: 2, Errors: 3, Tx: 4, Rx: 5, Events: 6 } as const;
export const SERIES_COUNT = 7;

/** Connections waiting this long in a queue with no accept meanwhile: the server stopped accepting. */
export const STALL_NS = 2e9;

/** Scratch for refresh(): every series' rate (RateWindow.rates()), then the two percentiles. */
const RATES = new Float64Array(SERIES_COUNT);

export class ProcessRow {
  readonly pid: number;
  /** Parent pid from /proc (live) or the recording's PROCESS frame (replay); -1 while unknown. */
  ppid = -1;
  /** Lookups of the parent pid so far (a gone process is not asked about every frame). */
  ppidTries = 0;
  uid = 0;
  comm = '';
  /** The record's comm bytes as 4 words: comparing them spots a rename without building a string. */
  commW0 = 0; commW1 = 0; commW2 = 0; commW3 = 0;
  firstNs = 0;
  lastNs = 0;
  /** Position in the last sorted query (-1: none): the next sort starts from that order. */
  sortRank = -1;
  exited = false;
  exitNs = 0;
  exitCode = 0;
  /** cgroup v2 id and network namespace of its latest record that knew them (0: not known). */
  cgroupId = 0;
  netns = 0;
  /** What cgroupId names (container, pod, unit), resolved at refresh; placeId: the id it is for. */
  place: Placement | undefined = undefined;
  placeId = 0;
  /** The container's name from its runtime (live, when the runtime's API answers). */
  containerName: string | undefined = undefined;

  /** Sockets we saw open (SOCKET/ACCEPT/CONNECT_START/LISTEN or snapshot) and not yet closed. */
  open = 0;
  /** Sockets this process opened (created, accepted, connecting, listening) since socktop started. */
  opened = 0;
  /** Listening port -> number of this process's sockets listening on it (SO_REUSEPORT: several). */
  listen: Map<number, number> | null = null;

  accepts = 0;
  connectsOk = 0;
  connectsFailed = 0;
  closes = 0;
  bytesSent = 0;
  bytesReceived = 0;
  retransmits = 0;
  resetsSent = 0;
  resetsReceived = 0;
  /** Failed calls (any record with an errno) plus resets: the ERR column. */
  errors = 0;
  /** errno -> count, for the detail view. */
  errnos: Map<number, number> | null = null;
  /** Failed connects by reason (index = Reason, failures.ts), plus established connections ended
   * by a received RST under Reason.Reset; null until the first. */
  fails: Uint32Array | null = null;
  /** Their sum: the FAIL column. */
  failTotal = 0;

  /** Listen-queue health, summed over the process's listening sockets (model.ts keeps them). */
  queueLen = 0;
  queueMax = 0;
  /** Connections its listeners dropped because their accept queue was full. */
  overflows = 0;
  /** Listeners whose queue is full now. */
  fullListeners = 0;
  /** Since when its queues hold connections nobody accepted (0: empty). */
  queueWaitingSinceNs = 0;
  lastAcceptNs = 0;
  lastOverflowNs = 0;
  /** How long accepted connections waited in the queue (ACCEPT records' wait). */
  acceptWait: LatencyHistogram | null = null;

  readonly rates: RateWindow;
  latency: LatencyHistogram | null = null;
  log: EventLog | null = null;

  // Derived by refresh(nowNs).
  connRate = 0;
  accRate = 0;
  closeRate = 0;
  errRate = 0;
  txRate = 0;
  rxRate = 0;
  p50Ns = NaN;
  p99Ns = NaN;
  /** Accept wait percentiles (NaN: no sample). */
  acceptP50Ns = NaN;
  acceptP99Ns = NaN;
  /** The server is not keeping up: a queue full, an overflow within the rate window, or
   * connections waiting STALL_NS with no accept. */
  queueAlarm = false;
  /** latency.count when p50Ns/p99Ns were computed. */
  private latencyCountSeen = 0;
  private acceptCountSeen = 0;

  constructor(pid: number, rateSlots: number) {
    this.pid = pid;
    this.rates = new RateWindow(SERIES_COUNT, rateSlots);
  }

  addListen(port: number): void {
    if (!this.listen) this.listen = new Map();
    this.listen.set(port, (this.listen.get(port) ?? 0) + 1);
  }

  removeListen(port: number): void {
    const n = this.listen?.get(port);
    if (n === undefined) return;
    if (n <= 1) this.listen!.delete(port);
    else this.listen!.set(port, n - 1);
  }

  addErrno(errno: number): void {
    if (!this.errnos) this.errnos = new Map();
    this.errnos.set(errno, (this.errnos.get(errno) ?? 0) + 1);
  }

  /** Failed connects (and resets after establishment) of one reason. */
  failCount(reason: number): number {
    return this.fails ? this.fails[reason] ?? 0 : 0;
  }

  private refreshQueue(nowNs: number, windowSec: number): void {
    const waiting = this.queueWaitingSinceNs !== 0
      && nowNs - Math.max(this.queueWaitingSinceNs, this.lastAcceptNs) >= STALL_NS;
    this.queueAlarm = this.fullListeners > 0 || waiting
      || (this.lastOverflowNs !== 0 && nowNs - this.lastOverflowNs < windowSec * 1e9);
    const count = this.acceptWait ? this.acceptWait.count : 0;
    if (count === this.acceptCountSeen) return;
    this.acceptCountSeen = count;
    this.acceptWait!.quantilesNs(0.5, 0.99, RATES);
    this.acceptP50Ns = RATES[0];
    this.acceptP99Ns = RATES[1];
  }

  listenPorts(): number[] {
    return this.listen ? [...this.listen.keys()].sort((a, b) => a - b) : [];
  }

  /**
   * A copy whose figures no longer change: shares nothing mutable that the table reads (the rates
   * and percentiles were computed by the last refresh and are plain numbers).
   */
  frozenCopy(): ProcessRow {
    const copy = Object.assign(Object.create(ProcessRow.prototype) as ProcessRow, this);
    copy.listen = this.listen ? new Map(this.listen) : null;
    copy.errnos = this.errnos ? new Map(this.errnos) : null;
    copy.fails = this.fails ? this.fails.slice() : null;
    return copy;
  }

  refresh(nowNs: number, windowSec: number): void {
    // Every counted event is at or before lastNs: a row quiet since before the window's oldest
    // bucket has rates of exactly 0 (most of 10k rows, every frame), no need to read its buckets.
    if (this.lastNs < (Math.floor(nowNs / 1e9) - windowSec) * 1e9) {
      this.connRate = this.accRate = this.closeRate = this.errRate = this.txRate = this.rxRate = 0;
    } else {
      const r = RATES;
      this.rates.rates(nowNs, windowSec, r);
      this.connRate = r[Series.Connects];
      this.accRate = r[Series.Accepts];
      this.closeRate = r[Series.Closes];
      this.errRate = r[Series.Errors];
      this.txRate = r[Series.Tx];
      this.rxRate = r[Series.Rx];
    }
    this.refreshQueue(nowNs, windowSec);
    // The histogram only grows: its percentiles change only when it got new samples.
    const count = this.latency ? this.latency.count : 0;
    if (count !== this.latencyCountSeen) {
      this.latencyCountSeen = count;
      if (this.latency && count) {
        this.latency.quantilesNs(0.5, 0.99, RATES);
        this.p50Ns = RATES[0];
        this.p99Ns = RATES[1];
      } else {
        this.p50Ns = this.p99Ns = NaN;
      }
    }
  }
}
