/**
 * listen-queue.ts: one listening socket's accept queue, as its records told it (LISTEN: the limit;
 * passive ESTABLISHED and ACCEPT: the length as a connection joins or leaves it; QUEUE, about once
 * a second while it changes: length, limit, SYN queue and the connections dropped because it was
 * full). Pure data; the model (model.ts) keeps it on the listener's SocketEntry.
 */
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
