/**
 * ingest-cursor.ts: the record being ingested, shared by the model and its tables.
 *
 * Fields, not arguments: a double passed to a function V8 does not inline is boxed (a heap
 * allocation per call), and these would be passed a dozen times per record. An object field holds
 * its double in place, so writing it per record allocates nothing.
 */
export class IngestCursor {
  /** The record's time (ns, monotonic clock of the capturing host). */
  ts = 0;
  /** That time's second, the rate windows' bucket. */
  sec = 0;
  /** The record's socket key (sockets.ts socketKey), 0 when it names no socket. */
  key = 0;
}
