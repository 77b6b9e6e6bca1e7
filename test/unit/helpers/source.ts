/**
 * A DataSource for tests: a real SharedRing holding synthetic records, "finished" once drained.
 */
import { RECORD_SIZE } from '../../../src/capture/layout';
import { SharedRing } from '../../../src/capture/ring';
import type { DataSource, SourceInfo, SourceStats } from '../../../src/source';

export interface FakeSource extends DataSource {
  push(records: Uint8Array[]): void;
  stopped: boolean;
  done: boolean;
}

export function fakeSource(records: Uint8Array[] = [], opts: { capacity?: number; stats?: SourceStats; clockNs?: number } = {}): FakeSource {
  const ring = SharedRing.create(opts.capacity ?? 1024, RECORD_SIZE);
  const info: SourceInfo = { mode: 'replay', backend: 'tracepoint', host: 'testhost', kernel: '6.1.0-test' };
  const src: FakeSource = {
    ring,
    stopped: false,
    done: true,
    describe: () => info,
    stats: () => opts.stats,
    clockNs: opts.clockNs === undefined ? undefined : () => opts.clockNs!,
    finished: () => src.done,
    push(recs: Uint8Array[]) {
      const bytes = new Uint8Array(recs.length * RECORD_SIZE);
      recs.forEach((r, i) => bytes.set(r, i * RECORD_SIZE));
      ring.pushBatch(bytes, recs.length);
    },
    async stop() {
      src.stopped = true;
    },
  };
  src.push(records);
  return src;
}

/** A writable that collects what is written. */
export function collector(): { stream: NodeJS.WritableStream; text(): string } {
  const chunks: string[] = [];
  const { Writable } = require('node:stream') as typeof import('node:stream');
  const stream = new Writable({
    write(chunk, _enc, cb) {
      chunks.push(String(chunk));
      cb();
    },
  });
  return { stream, text: () => chunks.join('') };
}
