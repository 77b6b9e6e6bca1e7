/**
 * A real Prometheus (Debian's `prometheus` package) for live tests: started from the test with a
 * generated config (one scrape job, 1 s interval) on a free loopback port and a temporary TSDB
 * directory, never the system service; queried through its HTTP API.
 */
import { ChildProcess, spawn, spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { closedPort } from './socktop-run';

export const PROMETHEUS_BIN = process.env.SOCKTOP_PROMETHEUS ?? '/usr/bin/prometheus';

/** Why no Prometheus can run here (scripts/setup.sh installs it), or null. */
export function prometheusUnavailableReason(): string | null {
  if (!fs.existsSync(PROMETHEUS_BIN)) return `${PROMETHEUS_BIN} not installed (apt-get install prometheus; scripts/setup.sh does)`;
  const r = spawnSync(PROMETHEUS_BIN, ['--version'], { encoding: 'utf8' });
  return r.status === 0 ? null : `${PROMETHEUS_BIN} --version failed: ${(r.stderr || '').split('\n')[0]}`;
}

export interface Sample {
  metric: Record<string, string>;
  value: number;
}

export interface Prometheus {
  url: string;
  query(promql: string): Promise<Sample[]>;
  /** Wait until the scrape target is up (up == 1). */
  waitUntilUp(timeoutMs?: number): Promise<void>;
  stop(): Promise<void>;
  log(): string;
}

export async function startPrometheus(target: string, job = 'socktop'): Promise<Prometheus> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'socktop-prom-'));
  const config = path.join(dir, 'prometheus.yml');
  fs.writeFileSync(config, [
    'global:',
    '  scrape_interval: 1s',
    '  scrape_timeout: 1s',
    '  evaluation_interval: 1s',
    'scrape_configs:',
    `  - job_name: ${job}`,
    '    static_configs:',
    `      - targets: ['${target}']`,
    '',
  ].join('\n'));
  const port = await closedPort();
  const url = `http://127.0.0.1:${port}`;
  const child = spawn(PROMETHEUS_BIN, [
    `--config.file=${config}`, `--storage.tsdb.path=${path.join(dir, 'data')}`,
    `--web.listen-address=127.0.0.1:${port}`, '--log.level=warn', '--storage.tsdb.retention.time=1h',
  ], { stdio: ['ignore', 'pipe', 'pipe'] });
  let log = '';
  child.stdout!.setEncoding('utf8').on('data', (d) => (log += d));
  child.stderr!.setEncoding('utf8').on('data', (d) => (log += d));
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  const prom: Prometheus = {
    url,
    query: (promql) => query(url, promql),
    waitUntilUp: async (timeoutMs = 20000) => {
      const ok = await poll(async () => (await query(url, `up{job="${job}"}`)).some((s) => s.value === 1), timeoutMs);
      if (!ok) throw new Error(`Prometheus never scraped ${target}: ${log.slice(-2000)}`);
    },
    stop: async () => {
      if (child.exitCode === null) child.kill('SIGTERM');
      await exited;
      fs.rmSync(dir, { recursive: true, force: true });
    },
    log: () => log,
  };
  await waitReady(url, child, () => log);
  return prom;
}

async function waitReady(url: string, child: ChildProcess, log: () => string): Promise<void> {
  const ready = await poll(async () => {
    if (child.exitCode !== null) throw new Error(`prometheus exited (${child.exitCode}): ${log().slice(-2000)}`);
    try {
      return (await fetch(`${url}/-/ready`)).status === 200;
    } catch {
      return false;
    }
  }, 30000);
  if (!ready) throw new Error(`prometheus not ready in 30 s: ${log().slice(-2000)}`);
}

async function query(url: string, promql: string): Promise<Sample[]> {
  const res = await fetch(`${url}/api/v1/query?query=${encodeURIComponent(promql)}`);
  const body = await res.json() as { status: string; error?: string; data?: { result: Array<{ metric: Record<string, string>; value: [number, string] }> } };
  if (body.status !== 'success') throw new Error(`query ${promql}: ${body.error ?? res.status}`);
  return (body.data?.result ?? []).map((r) => ({ metric: r.metric, value: Number(r.value[1]) }));
}

/** Call `cond` every 250 ms until it resolves true or `timeoutMs` passed. */
export async function poll(cond: () => Promise<boolean>, timeoutMs: number): Promise<boolean> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    if (await cond()) return true;
    if (Date.now() > end) return false;
    await new Promise((r) => setTimeout(r, 250));
  }
}
