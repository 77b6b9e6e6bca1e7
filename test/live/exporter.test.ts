/**
 * `socktop exporter` on real BPF, scraped by a real Prometheus (started by the test with its own
 * config and storage): the counters Prometheus stores for processes the test names equal the
 * workload's exact ground truth; many real distinct command names leave the series bounded; and
 * SIGTERM ends it with every BPF program it loaded gone.
 */
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { execFileSync } from 'child_process';
import * as crypto from 'crypto';
import * as fs from 'fs';
import * as path from 'path';
import { findCgroup2Mount } from '../../src/capture/kernel';
import { seriesBound } from '../../src/exporter/metrics';
import { liveTestOptions } from './bpf-available';
import { programsStillLoaded, waitFor } from './native-fixture';
import { poll, prometheusUnavailableReason, Sample, startPrometheus } from './prometheus';
import { CLI, closedPort, Running, startSocktop } from './socktop-run';

const FIXTURES = path.resolve(__dirname, '../../../test/live/fixtures');

function options(): { skip?: string; timeout?: number } {
  const live = liveTestOptions();
  if (live.skip) return live;
  const reason = prometheusUnavailableReason();
  if (reason && process.env.SOCKTOP_REQUIRE_BPF === '1') throw new Error(`SOCKTOP_REQUIRE_BPF=1 but no Prometheus: ${reason}`);
  return reason ? { skip: reason } : { timeout: 120_000 };
}

interface Exporter {
  run: Running;
  port: number;
  /** BPF programs the exporter process holds (from its fdinfo), to check they go at stop. */
  programIds: number[];
}

async function startExporter(args: string[], wrap?: { command: string[]; env: NodeJS.ProcessEnv }): Promise<Exporter> {
  const run = wrap
    ? await startWrapped(wrap.command, ['exporter', '--listen', '127.0.0.1:0', ...args], wrap.env)
    : await startSocktop(['exporter', '--listen', '127.0.0.1:0', ...args]);
  const served = await poll(async () => /serving http:\/\/127\.0\.0\.1:\d+\/metrics/.test(run.stderr()), 5000);
  assert.ok(served, run.stderr());
  const port = Number(/serving http:\/\/127\.0\.0\.1:(\d+)\//.exec(run.stderr())![1]);
  return { run, port, programIds: programIdsOf(run.child.pid!) };
}

function programIdsOf(pid: number): number[] {
  const ids = new Set<number>();
  for (const fd of fs.readdirSync(`/proc/${pid}/fdinfo`)) {
    try {
      const m = /^prog_id:\s*(\d+)/m.exec(fs.readFileSync(`/proc/${pid}/fdinfo/${fd}`, 'utf8'));
      if (m) ids.add(Number(m[1]));
    } catch { /* fd closed meanwhile */ }
  }
  return [...ids];
}

async function stopExporter(e: Exporter): Promise<void> {
  assert.equal(await e.run.stop('SIGTERM'), 0, e.run.stderr());
  assert.ok(e.programIds.length > 0, 'the exporter held BPF programs');
  // The kernel frees a program after its last reference goes, from a work queue: give it a moment.
  await waitFor(() => programsStillLoaded(e.programIds).length === 0, 3000);
  assert.deepEqual(programsStillLoaded(e.programIds), [], 'no program left attached after SIGTERM');
}

/** name{label} -> value for the socktop counters of `comm`. */
function byKey(samples: Sample[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const s of samples) {
    const extra = s.metric.result ?? s.metric.direction ?? '';
    out[`${s.metric.__name__}${extra ? `{${extra}}` : ''}`] = s.value;
  }
  return out;
}

/** JSON with keys sorted at every level: equal values, equal text. */
function canonical(v: unknown): string {
  if (v === null || typeof v !== 'object') return JSON.stringify(v);
  const o = v as Record<string, unknown>;
  return `{${Object.keys(o).sort().map((k) => `${JSON.stringify(k)}:${canonical(o[k])}`).join(',')}}`;
}

const COUNTERS = 'socktop_(connects|accepts|closes|bytes|resets|retransmits)_total';

function expected(o: { ok: number; refused: number; accepts: number; closes: number; sent: number; received: number; rstReceived: number }): Record<string, number> {
  return {
    'socktop_connects_total{ok}': o.ok, 'socktop_connects_total{refused}': o.refused,
    'socktop_connects_total{timeout}': 0, 'socktop_connects_total{unreachable}': 0,
    'socktop_connects_total{reset}': 0, 'socktop_connects_total{other}': 0,
    socktop_accepts_total: o.accepts, socktop_closes_total: o.closes,
    'socktop_bytes_total{sent}': o.sent, 'socktop_bytes_total{received}': o.received,
    'socktop_resets_total{sent}': 0, 'socktop_resets_total{received}': o.rstReceived,
    socktop_retransmits_total: 0,
  };
}

test('exporter: Prometheus stores the exact connects, accepts, closes, bytes and resets of the workload', options(), async (t) => {
  const exporter = await startExporter(['--top-comms', '1000']);
  let prom: Awaited<ReturnType<typeof startPrometheus>> | undefined;
  try {
    prom = await startPrometheus(`127.0.0.1:${exporter.port}`);
    await prom.waitUntilUp();
    const tag = crypto.randomBytes(3).toString('hex');
    const server = `pxs${tag}`;
    const client = `pxc${tag}`;
    const N = 25;
    const M = 7;
    const PAYLOAD = 1000;
    execFileSync('python3', [path.join(FIXTURES, 'exporter-workload.py'), server, client, String(N), String(M), String(await closedPort()), String(PAYLOAD)], { encoding: 'utf8' });
    const want = {
      [client]: expected({ ok: N, refused: M, accepts: 0, closes: N + M, sent: N * PAYLOAD, received: 0, rstReceived: M }),
      // The server's closes: N accepted connections and its listener.
      [server]: expected({ ok: 0, refused: 0, accepts: N, closes: N + 1, sent: 0, received: N * PAYLOAD, rstReceived: 0 }),
    };
    const got: Record<string, Record<string, number>> = {};
    const read = async () => {
      for (const comm of [client, server]) got[comm] = byKey(await prom!.query(`{__name__=~"${COUNTERS}",comm="${comm}"}`));
      return canonical(got) === canonical(want);
    };
    await poll(read, 20_000);
    const lost = await prom.query('socktop_events_lost_total');
    assert.deepEqual(got, want, `drops: ${JSON.stringify(lost.map((s) => [s.metric.stage, s.value]))}`);
    const latencyCount = await prom.query(`socktop_connect_duration_seconds_count{comm="${client}"}`);
    assert.deepEqual(latencyCount.map((s) => s.value), [N], 'one latency observation per successful connect');
    const inf = await prom.query(`socktop_connect_duration_seconds_bucket{comm="${client}",le="+Inf"}`);
    assert.deepEqual(inf.map((s) => s.value), [N]);
    // Every drop stage is exported, and every label is bounded: no pid, address or port label.
    assert.deepEqual(lost.map((s) => s.metric.stage).sort(), ['bpf_ring', 'kernel_miss', 'recording', 'shared_ring', 'udp_flows']);
    const labels = await prom.query('{__name__=~"socktop_.+"}');
    const names = new Set(labels.flatMap((s) => Object.keys(s.metric)));
    for (const bad of ['pid', 'laddr', 'raddr', 'lport', 'rport', 'port', 'address', 'sock']) assert.ok(!names.has(bad), `label ${bad}`);
    t.diagnostic(`socktop series in Prometheus: ${labels.length}; label names: ${[...names].sort().join(' ')}`);
  } finally {
    await prom?.stop();
    await stopExporter(exporter);
  }
});

test('exporter: 200 real distinct command names with --top-comms 20 stay within the documented series bound', options(), async (t) => {
  const TOP = 20;
  const COUNT = 200;
  const exporter = await startExporter(['--top-comms', String(TOP)]);
  let prom: Awaited<ReturnType<typeof startPrometheus>> | undefined;
  try {
    prom = await startPrometheus(`127.0.0.1:${exporter.port}`);
    await prom.waitUntilUp();
    const prefix = `pc${crypto.randomBytes(2).toString('hex')}_`;
    execFileSync('python3', [path.join(FIXTURES, 'many-comms.py'), prefix, String(COUNT), String(await closedPort())], { encoding: 'utf8' });
    // Settled: the ~other bucket plus the labelled names of the workload account for every connect.
    const refusedOf = async (q: string) => (await prom!.query(q)).reduce((n, s) => n + s.value, 0);
    await poll(async () => (await refusedOf(`socktop_connects_total{result="refused",comm=~"${prefix}.*|~other"}`)) >= COUNT, 20_000);
    const ours = await prom.query(`socktop_connects_total{result="refused",comm=~"${prefix}.*"}`);
    // (How many of them got a slot depends on what else ran first: a busy machine may take all N.)
    assert.ok(ours.length <= TOP, `labelled workload names: ${ours.length}`);
    for (const s of ours) assert.equal(s.value, 1, `${s.metric.comm}: one refused connect each`);
    const other = await refusedOf('socktop_connects_total{result="refused",comm="~other"}');
    assert.ok(ours.length + other >= COUNT, `labelled ${ours.length} + ~other ${other} >= ${COUNT}`);
    // The series bound, as Prometheus counts them and as one scrape of /metrics shows them.
    const series = (await prom.query('{__name__=~"socktop_.+"}')).length;
    const programs = (await prom.query('socktop_bpf_program_runs_total')).length;
    const comms = new Set((await prom.query('{__name__=~"socktop_.+",comm!=""}')).map((s) => s.metric.comm));
    assert.ok(comms.size <= TOP + 2, `comm label values: ${comms.size}`);
    const bound = seriesBound(TOP, programs);
    assert.ok(series <= bound, `socktop series ${series} > bound ${bound}`);
    const scrape = await (await fetch(`http://127.0.0.1:${exporter.port}/metrics`)).text();
    const scraped = scrape.split('\n').filter((l) => l.startsWith('socktop_')).length;
    assert.ok(scraped <= bound, `scraped socktop series ${scraped} > bound ${bound}`);
    const all = scrape.split('\n').filter((l) => l && !l.startsWith('#')).length;
    t.diagnostic(`${COUNT} distinct comms, --top-comms ${TOP}: ${comms.size} comm values, ${series} socktop series in Prometheus (${scraped} in a scrape, ${all} with process/nodejs metrics), bound ${bound}`);
  } finally {
    await prom?.stop();
    await stopExporter(exporter);
  }
});

/** startSocktop's contract, for socktop started through a wrapper script (pod-like.sh). */
async function startWrapped(command: string[], args: string[], env: NodeJS.ProcessEnv): Promise<Running> {
  const { spawn } = await import('child_process');
  const child = spawn(command[0], [...command.slice(1), process.execPath, CLI, ...args], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...env } });
  let out = '';
  let err = '';
  child.stdout!.setEncoding('utf8').on('data', (d) => (out += d));
  child.stderr!.setEncoding('utf8').on('data', (d) => (err += d));
  const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
  const attached = await poll(async () => /attached/.test(err) || child.exitCode !== null, 15_000);
  if (!attached || child.exitCode !== null) {
    child.kill('SIGKILL');
    throw new Error(`socktop did not attach: ${err}`);
  }
  return {
    child, stdout: () => out, stderr: () => err,
    async stop(signal = 'SIGINT') {
      if (child.exitCode === null) child.kill(signal);
      return exited;
    },
  };
}

/** One scrape of the exporter: `comm`'s connects ok and closes (0 when it has no series). */
async function countsOf(port: number, comm: string): Promise<{ connects: number; closes: number }> {
  const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
  // Summed over the other labels (container, pod_uid: the workload's cgroup may name a unit).
  const read = (name: string, label: string) => [...text.matchAll(new RegExp(`^${name}\\{([^}]*)\\} (\\d+)$`, 'gm'))]
    .filter((m) => m[1].split(',').includes(`comm="${comm}"`) && (!label || m[1].split(',').includes(label)))
    .reduce((n, m) => n + Number(m[2]), 0);
  return { connects: read('socktop_connects_total', 'result="ok"'), closes: read('socktop_closes_total', '') };
}

for (const hostMount of [true, false]) {
  const what = hostMount
    ? 'with the host\'s cgroup v2 root mounted read-only over its own, as the DaemonSet does, counts processes outside its cgroup exactly'
    : 'without that mount misses the socket ends only cgroup hooks see (UDP): why the DaemonSet mounts it';
  test(`exporter as the DaemonSet runs it (uid 0, only CAP_BPF+CAP_PERFMON+CAP_NET_ADMIN, private cgroup namespace) ${what}`, options(), async () => {
    const hostCgroup2 = findCgroup2Mount(fs.readFileSync('/proc/self/mountinfo', 'utf8'));
    assert.ok(hostCgroup2, 'a cgroup v2 mount on this host');
    const pod = fs.mkdtempSync(path.join(hostCgroup2, 'socktop-pod-'));
    let exporter: Exporter | undefined;
    try {
      exporter = await startExporter([], {
        command: [path.join(FIXTURES, 'pod-like.sh')],
        env: { HOST_CGROUP2: hostCgroup2, POD_CGROUP: pod, HOST_MOUNT: hostMount ? '1' : '0' },
      });
      const status = fs.readFileSync(`/proc/${exporter.run.child.pid}/status`, 'utf8');
      assert.match(status, /^CapBnd:\s*000000c000001000$/m, 'bounding set: CAP_BPF, CAP_PERFMON, CAP_NET_ADMIN only');
      assert.match(status, /^CapEff:\s*0+$/m, 'and even those given up once attached');
      assert.match(status, /^Uid:\s*0\s/m);
      const tag = crypto.randomBytes(3).toString('hex');
      const N = 6;
      const U = 4;
      // The workload runs in the test's cgroup, outside the pod's. TCP connects and ends come from
      // tracepoints (global); a UDP socket's end only from the cgroup sock_release hook.
      execFileSync('python3', [path.join(FIXTURES, 'exporter-workload.py'), `pds${tag}`, `pdc${tag}`, String(N), '0', String(await closedPort()), '10', String(U)]);
      const want = { connects: N, closes: hostMount ? N + U : N };
      await poll(async () => JSON.stringify(await countsOf(exporter!.port, `pdc${tag}`)) === JSON.stringify(want), 10_000);
      await new Promise((r) => setTimeout(r, 500)); // nothing more arrives
      assert.deepEqual(await countsOf(exporter.port, `pdc${tag}`), want);
    } finally {
      if (exporter) await stopExporter(exporter);
      await poll(async () => fs.readFileSync(path.join(pod, 'cgroup.procs'), 'utf8').trim() === '', 5000);
      fs.rmdirSync(pod);
    }
  });
}

test('exporter as the systemd unit runs it (a non-root user with ambient CAP_BPF+CAP_PERFMON+CAP_NET_ADMIN, no new privileges) counts exactly', options(), async () => {
  const caps = '+bpf,+perfmon,+net_admin';
  const exporter = await startExporter([], {
    command: ['setpriv', '--reuid=65534', '--regid=65534', '--clear-groups', '--no-new-privs', `--inh-caps=-all,${caps}`, `--ambient-caps=-all,${caps}`, `--bounding-set=-all,${caps}`],
    env: {},
  });
  try {
    const status = fs.readFileSync(`/proc/${exporter.run.child.pid}/status`, 'utf8');
    assert.match(status, /^Uid:\s*65534\s/m);
    assert.match(status, /^CapEff:\s*0+$/m, 'capabilities given up once attached');
    const tag = crypto.randomBytes(3).toString('hex');
    const N = 5;
    const M = 2;
    execFileSync('python3', [path.join(FIXTURES, 'exporter-workload.py'), `sds${tag}`, `sdc${tag}`, String(N), String(M), String(await closedPort()), '10']);
    const want = { connects: N, closes: N + M };
    await poll(async () => JSON.stringify(await countsOf(exporter.port, `sdc${tag}`)) === JSON.stringify(want), 10_000);
    assert.deepEqual(await countsOf(exporter.port, `sdc${tag}`), want);
  } finally {
    await stopExporter(exporter);
  }
});

test('exporter: the listen-sockets gauge in Prometheus follows a process that opens 3 listeners and exits', options(), async () => {
  const { spawn } = await import('child_process');
  const exporter = await startExporter(['--top-comms', '1000']);
  let prom: Awaited<ReturnType<typeof startPrometheus>> | undefined;
  try {
    prom = await startPrometheus(`127.0.0.1:${exporter.port}`);
    await prom.waitUntilUp();
    const comm = `pl${crypto.randomBytes(3).toString('hex')}`;
    const holder = spawn('python3', [path.join(FIXTURES, 'named-listener.py'), comm, '3'], { stdio: ['pipe', 'pipe', 'inherit'] });
    const exited = new Promise((r) => holder.once('exit', r));
    await new Promise<void>((r) => holder.stdout!.once('data', () => r()));
    const gauge = async () => (await prom!.query(`socktop_listen_sockets{comm="${comm}"}`)).map((x) => x.value);
    assert.ok(await poll(async () => JSON.stringify(await gauge()) === '[3]', 15_000), `listening: ${JSON.stringify(await gauge())}`);
    assert.ok((await prom.query('socktop_tcp_sockets{state="LISTEN"}'))[0].value >= 3);
    holder.stdin!.end();
    await exited;
    assert.ok(await poll(async () => (await gauge()).length === 0, 15_000), `after exit: ${JSON.stringify(await gauge())}`);
  } finally {
    await prom?.stop();
    await stopExporter(exporter);
  }
});
