/**
 * listen-queue.ts: one listening socket's accept queue, as its records told it (LISTEN: the limit;
 * passive ESTABLISHED and ACCEPT: the length as a connection joins or leaves it; QUEUE, about once
 * a second while it changes: length, limit, SYN queue and the connections dropped because it was
 * full). Pure data; the model (model.ts) keeps it on the listener's SocketEntry.
 */
import type { ProcessRow } from './processes';

export class ListenQueue {
  /** Established connections waiting for accept(). */
  len = 0;
  /** The listen() backlog (sk_max_ack_backlog); 0: not known. */
  max = 0;
  /** Connection requests not yet established (SYN_RECV). */
  synQueue = 0;
  /** Connections dropped because the queue was full, while socktop watched. */
  overflows = 0;
  /** When the figures were last told (ns, record clock). */
  sampledNs = 0;
  /** When the last overflow was told (0: never). */
  lastOverflowNs = 0;

  /** The kernel's own test (sk_acceptq_is_full): one more connection would be dropped. */
  get full(): boolean {
    return this.max > 0 && this.len > this.max;
  }
}

/**
 * The queue as a record tells it (`max` 0: the record does not know the limit: keep the known
 * one); the owner's sums (queue length and limit over its listeners, full listeners, since when
 * connections wait) follow.
 */
export function tellQueue(q: ListenQueue, owner: ProcessRow | null, len: number, max: number, tsNs: number): void {
  const limit = max === 0 ? q.max : max;
  const wasFull = q.full;
  if (owner) {
    owner.queueLen += len - q.len;
    owner.queueMax += limit - q.max;
  }
  q.len = len;
  q.max = limit;
  q.sampledNs = tsNs;
  if (!owner) return;
  if (q.full !== wasFull) owner.fullListeners += q.full ? 1 : -1;
  if (owner.queueLen <= 0) owner.queueWaitingSinceNs = 0;
  else if (owner.queueWaitingSinceNs === 0) owner.queueWaitingSinceNs = tsNs;
}

/** The listener ended: its queue leaves its owner's sums (its overflows stay counted). */
export function endQueue(q: ListenQueue, owner: ProcessRow | null): void {
  if (owner) {
    owner.queueLen -= q.len;
    owner.queueMax -= q.max;
    if (q.full) owner.fullListeners--;
    if (owner.queueLen <= 0) owner.queueWaitingSinceNs = 0;
  }
  q.len = q.max = 0;
}

/** Connections dropped since the listener's previous sample: to the queue and its owner. */
export function addOverflows(q: ListenQueue, owner: ProcessRow, dropped: number, tsNs: number): void {
  q.overflows += dropped;
  q.lastOverflowNs = tsNs;
  owner.overflows += dropped;
  owner.lastOverflowNs = tsNs;
}
