/**
 * exporter.ts: `socktop exporter` end to end: listen first (a taken port fails before anything is
 * attached), start the live capture the one way socktop does (src/cli/live.ts: backend choice,
 * capability check, privilege drop, stop on the shutdown path), drain the shared ring into the
 * aggregator every DRAIN_INTERVAL_MS, serve scrapes, and on SIGTERM/SIGINT detach, count what was
 * still in the ring, and close the listener.
 */
import * as fs from 'fs';
import * as path from 'path';
import { setTimeout as sleep } from 'timers/promises';
import type { ProbeChoice } from '../../capture/addon';
import { SocktopError } from '../errors';
import { DRAIN_INTERVAL_MS } from '../../ui/pump';
import type { DataSource } from '../../source';
import { Aggregator } from '../../exporter/aggregator';
import { formatAddress, ListenAddress } from '../../exporter/listen';
import { buildRegistry, ExporterView } from '../../exporter/metrics';
import { MetricsServer, serveMetrics } from '../../exporter/server';

export interface ExporterOptions {
  listen: ListenAddress;
  topComms: number;
  probe: ProbeChoice;
  /** Aborted by SIGTERM/SIGINT (the CLI's stopSignal). */
  signal: AbortSignal;
  err?: NodeJS.WritableStream;
}

export async function runExporter(o: ExporterOptions): Promise<void> {
  const err = o.err ?? process.stderr;
  // Containers are named by the live source's cgroup walk, once it exists (before: no labels).
  let pathOf: ((id: number) => string | undefined) | undefined;
  const aggregator = new Aggregator({ topComms: o.topComms, cgroupPath: (id) => pathOf?.(id) });
  const view: ExporterView = { aggregator, ringFill: { last: 0, max: 0 }, info: { backend: '', version: socktopVersion() } };
  const stop = new AbortController();
  const onAbort = () => stop.abort();
  o.signal.addEventListener('abort', onAbort, { once: true });
  let died: Error | undefined;
  const server = await listen(o.listen, view, () => !died && !stop.signal.aborted);
  let source: DataSource;
  try {
    const { openLiveSource } = await import('../live');
    source = await openLiveSource({ probe: o.probe, onError: (e) => { died = e; stop.abort(); } });
  } catch (e) {
    await server.close();
    throw e;
  }
  try {
    view.source = source;
    pathOf = source.cgroupPath?.bind(source);
    view.info.backend = source.describe().backend;
    const { attachedLine } = await import('../live');
    err.write(attachedLine(source.describe()));
    err.write(`socktop: exporter serving http://${formatAddress(server.address)}/metrics\n`);
    const drain = drainer(source, aggregator, view);
    while (!stop.signal.aborted) {
      drain();
      await sleep(DRAIN_INTERVAL_MS, undefined, { signal: stop.signal }).catch(() => undefined);
    }
    await source.stop(); // detach; what the worker published before it ended is still counted
    drain();
  } finally {
    o.signal.removeEventListener('abort', onAbort);
    await server.close();
  }
  if (died) throw died;
}

async function listen(where: ListenAddress, view: ExporterView, healthy: () => boolean): Promise<MetricsServer> {
  const registry = buildRegistry(view);
  try {
    return await serveMetrics(where, registry, { beforeScrape: () => view.aggregator.labels.rerank(Date.now()), healthy });
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    const why = code === 'EADDRINUSE' ? 'address already in use'
      : code === 'EADDRNOTAVAIL' ? 'no such local address'
        : code === 'EACCES' ? 'permission denied' : String((e as Error).message ?? e).split('\n')[0];
    throw new SocktopError(`--listen ${formatAddress(where)}: ${why}`);
  }
}

/** Empty the ring into the aggregator; the visitor is bound once (no closure per drain). */
function drainer(source: DataSource, aggregator: Aggregator, view: ExporterView): () => void {
  const ring = source.ring;
  const visit = (v: DataView, off: number) => aggregator.ingest(v, off);
  return () => {
    const fill = ring.available() / ring.capacity;
    view.ringFill.last = fill;
    if (fill > view.ringFill.max) view.ringFill.max = fill;
    while (ring.drain(visit) > 0) { /* until empty */ }
  };
}

function socktopVersion(): string {
  try {
    const pkg = JSON.parse(fs.readFileSync(path.join(__dirname, '..', '..', '..', 'package.json'), 'utf8')) as { version?: string };
    return pkg.version ?? 'unknown';
  } catch {
    return 'unknown';
  }
}
