/**
 * bench/exposition.ts: Prometheus text exposition as the benches read it: one timed GET of
 * /metrics over HTTP, and the text parsed into samples (a series = one sample line), so that a
 * bench can count series and read counters by name and labels without trusting the exporter's
 * own code for it.
 */
import * as http from 'node:http';

/** One sample line: `name{label="value",...} value`. */
export interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

/** One GET: the body, its size and the time from request to the last byte. */
export interface Scrape {
  ms: number;
  bytes: number;
  body: string;
}

/** GET `url` on a fresh connection (no keep-alive: every scrape pays the same), timed to the last byte. */
export function scrape(url: string, timeoutMs = 10000): Promise<Scrape> {
  return new Promise((resolve, reject) => {
    const t0 = process.hrtime.bigint();
    const req = http.get(url, { agent: false, timeout: timeoutMs }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const ms = Number(process.hrtime.bigint() - t0) / 1e6;
        const buf = Buffer.concat(chunks);
        if (res.statusCode !== 200) reject(new Error(`GET ${url}: HTTP ${res.statusCode}: ${buf.toString('utf8', 0, 200).split('\n')[0]}`));
        else resolve({ ms, bytes: buf.length, body: buf.toString('utf8') });
      });
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error(`GET ${url}: no answer in ${timeoutMs} ms`)));
    req.on('error', reject);
  });
}

/** A label value with the exposition's escapes (\\, \", \n) undone. */
function unescapeLabel(v: string): string {
  return v.replace(/\\(["\\n])/g, (_m, c: string) => (c === 'n' ? '\n' : c));
}

const LABEL = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g;

/** One sample line (not a comment) parsed; null for a line that is not one. */
export function parseSampleLine(line: string): Sample | null {
  const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?\s+(\S+)(?:\s+\d+)?$/.exec(line);
  if (!m) return null;
  const labels: Record<string, string> = {};
  for (const [, k, v] of (m[2] ?? '').matchAll(LABEL)) labels[k] = unescapeLabel(v);
  const value = m[3] === '+Inf' ? Infinity : m[3] === '-Inf' ? -Infinity : Number(m[3]);
  return { name: m[1], labels, value };
}

/** Every sample of an exposition text (comments and blank lines skipped). */
export function parseExposition(text: string): Sample[] {
  const out: Sample[] = [];
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const s = parseSampleLine(line);
    if (!s) throw new Error(`not an exposition line: ${JSON.stringify(line.slice(0, 120))}`);
    out.push(s);
  }
  return out;
}

/** Series in an exposition: all of them, and socktop's own (socktop_*). */
export function countSeries(samples: Sample[]): { all: number; socktop: number } {
  return { all: samples.length, socktop: samples.filter((s) => s.name.startsWith('socktop_')).length };
}

/** The sum of the samples named `name` whose labels include every label of `where`. */
export function sumOf(samples: Sample[], name: string, where: Record<string, string> = {}): number {
  let n = 0;
  for (const s of samples) {
    if (s.name !== name) continue;
    if (Object.entries(where).every(([k, v]) => s.labels[k] === v)) n += s.value;
  }
  return n;
}
