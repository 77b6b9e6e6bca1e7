/**
 * server.ts: the exporter's HTTP endpoint: GET /metrics (Prometheus text exposition), GET /healthz
 * ("ok" while the capture runs), anything else 404. Listening happens before the capture starts, so
 * a taken port fails at once with one line and nothing attached.
 */
import * as http from 'http';
import type { AddressInfo } from 'net';
import type { Registry } from 'prom-client';
import type { ListenAddress } from './listen';

export interface MetricsServer {
  /** The address actually bound (the port chosen when 0 was asked). */
  address: ListenAddress;
  close(): Promise<void>;
}

export interface ServeOptions {
  /** Called before each scrape (re-rank the comm labels). */
  beforeScrape?: () => void;
  /** False once the capture is gone: /healthz answers 503. */
  healthy?: () => boolean;
}

export async function serveMetrics(where: ListenAddress, registry: Registry, o: ServeOptions = {}): Promise<MetricsServer> {
  const server = http.createServer((req, res) => void answer(req, res, registry, o));
  server.keepAliveTimeout = 65_000; // longer than Prometheus' idle keep-alive: no reset mid-scrape
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(where.port, where.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const bound = server.address() as AddressInfo;
  return {
    address: { host: bound.address, port: bound.port },
    close: () => new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    }),
  };
}

async function answer(req: http.IncomingMessage, res: http.ServerResponse, registry: Registry, o: ServeOptions): Promise<void> {
  const path = (req.url ?? '/').split('?')[0];
  if (req.method !== 'GET' && req.method !== 'HEAD') return reply(res, 405, 'only GET\n', { Allow: 'GET, HEAD' });
  try {
    if (path === '/metrics') {
      o.beforeScrape?.();
      return reply(res, 200, await registry.metrics(), { 'Content-Type': registry.contentType });
    }
    if (path === '/healthz') {
      const ok = o.healthy?.() ?? true;
      return reply(res, ok ? 200 : 503, ok ? 'ok\n' : 'capture stopped\n');
    }
    if (path === '/') return reply(res, 200, 'socktop exporter: metrics at /metrics, health at /healthz\n');
    return reply(res, 404, 'not found: try /metrics\n');
  } catch (e) {
    return reply(res, 500, `socktop: metrics failed: ${String(e).split('\n')[0]}\n`);
  }
}

function reply(res: http.ServerResponse, status: number, body: string, headers: Record<string, string> = {}): void {
  res.writeHead(status, { 'Content-Type': 'text/plain; charset=utf-8', ...headers });
  res.end(res.req.method === 'HEAD' ? undefined : body);
}
