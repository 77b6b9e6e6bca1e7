/**
 * checks.ts: what the VM test asserts on the guest's results, shared by vm.test.ts (node:test) and
 * verify.ts (run.sh's verdict). Per backend these are the assertions of
 * test/live/lifecycle.test.ts (same N and M), applied to the guest's summary (summarize.ts), plus:
 * `socktop check` reports kprobes and auto -> kprobe, and the events came from the backend asked for
 * (under --probe auto: kprobe programs: 6.1 has no sock_send_length, so the cgroup backend is not complete there).
 */
import * as assert from 'node:assert/strict';
import type { BackendResult, CheckResult } from './results';

export interface Check {
  name: string;
  run: () => void;
}

/** Which backend a probe choice must end up with in the guest (a stock kernel with kprobes). */
export const EXPECTED_BACKEND: Record<string, string> = { cgroup: 'cgroup', kprobe: 'kprobe', auto: 'kprobe', tracepoint: 'tracepoint' };

export function backendChecks(r: BackendResult, N: number, M: number): Check[] {
  const s = r.summary;
  const need = () => {
    if (!s) assert.fail(`no results for --probe ${r.probe}: ${r.error ?? 'the guest sent none'}\n${r.stderr ?? ''}`);
    return s;
  };
  const checks: Check[] = [
    {
      name: 'socktop attached, ran the traffic, and exited 0 on SIGINT',
      run: () => {
        assert.equal(r.error, undefined, `--probe ${r.probe}: ${r.error}`);
        assert.equal(r.exitCode, 0, `socktop --probe ${r.probe} exit code; stderr:\n${r.stderr}`);
        need();
      },
    },
    {
      name: `events came from the ${EXPECTED_BACKEND[r.probe] ?? r.probe} programs`,
      run: () => {
        const x = need();
        // The client creates 2N sockets that connect and one that is refused.
        assert.deepEqual(x.clientSocketBackends, { [EXPECTED_BACKEND[r.probe] ?? r.probe]: 2 * N + 1 },
          `--probe ${r.probe}: the client's socket events by backend (in the guest, auto must pick kprobe)`);
      },
    },
    {
      name: 'traffic: every connection accepted, one refused connect',
      run: () => {
        const x = need();
        assert.equal(x.traffic.accepted, 2 * N);
        assert.equal(x.traffic.clientResult?.refused, 'ECONNREFUSED');
      },
    },
    {
      name: 'listens: one per server address, right ports',
      run: () => {
        const x = need();
        const { port4, port6 } = x.traffic;
        assert.deepEqual(x.listens, [`127.0.0.1:${port4}`, `::1:${port6}`].sort());
      },
    },
    {
      name: 'accepts: N per family for st-server',
      run: () => {
        const x = need();
        assert.equal(x.accepts.n, 2 * N);
        assert.deepEqual(x.accepts.comms, ['st-server']);
        assert.equal(x.accepts.inet4, N, 'inet accepts on port4');
        assert.equal(x.accepts.inet6, N, 'inet6 accepts on port6');
        assert.equal(x.accepts.withoutWait, 0, 'every accept with its wait in the queue');
        assert.equal(x.accepts.withoutQueue, 0, 'every accept with its listener\'s queue and backlog');
      },
    },
    {
      name: 'connects: N successful per family for st-client, with latency',
      run: () => {
        const x = need();
        assert.equal(x.connects.ok, 2 * N);
        assert.deepEqual(x.connects.comms, ['st-client']);
        assert.equal(x.connects.ok4, N, 'connects to 127.0.0.1:port4');
        assert.equal(x.connects.ok6, N, 'connects to ::1:port6');
        assert.equal(x.connects.okLatencyNotPositive, 0, 'successful connects without latency_us > 0');
      },
    },
    {
      name: 'refused connect: exactly one, ECONNREFUSED (reason refused, no SYN retry) to the closed port',
      run: () => {
        const x = need();
        assert.deepEqual(x.connects.failed, [['ECONNREFUSED', x.traffic.closedPort, 'refused', 0]]);
      },
    },
    {
      name: 'no other process got these accepts',
      run: () => assert.equal(need().accepts.onPortsAnyPid, 2 * N),
    },
    ...(['server', 'client'] as const).map((roleName) => ({
      name: `st-${roleName}: one close per connection with ${M} bytes each way, one exit`,
      run: () => {
        const x = need()[roleName];
        const comm = `st-${roleName}`;
        assert.equal(x.closesWithBytes, 2 * N, `${comm} closes`);
        assert.deepEqual(x.closeComms, [comm]);
        assert.deepEqual(x.closeBytes, { [`${M}/${M}`]: 2 * N }, `${comm} close byte totals ("sent/received": count)`);
        assert.equal(x.closeSocks, 2 * N, 'one close per socket');
        assert.equal(x.exits, 1, `${comm} exit`);
      },
    })),
    {
      name: 'every accepted and connected socket was closed',
      run: () => assert.deepEqual(need().unclosed, []),
    },
  ];
  return checks;
}

/**
 * Beyond lifecycle.test.ts: every backend saw the same traffic the same way (events per kind for
 * each of st-server and st-client, close byte totals), so a difference between kprobe and
 * tracepoint shows up even where the exact checks above do not look.
 */
export function agreementChecks(results: BackendResult[]): Check[] {
  const done = results.filter((r) => r.summary);
  if (done.length < 2) return [];
  // One known difference, by design: 6.1 has no sock_recv_length, so on the cgroup backend an
  // accepted socket is claimed by its owner only when it closes or shuts it down (the FIN), and the
  // state changes before that one (CLOSE_WAIT when the peer closed first) carry no owner. The
  // server's state count is therefore compared among the other backends only.
  const shape = (r: BackendResult, role: 'server' | 'client') => {
    const kinds = { ...r.summary![role].kinds };
    if (role === 'server' && r.probe === 'cgroup') delete kinds.state;
    // A listener's QUEUE samples come from the reader's once-a-second flush: how many a run gets
    // depends on how long its listeners lived, not on the backend.
    delete kinds.queue;
    return { kinds, closeBytes: r.summary![role].closeBytes };
  };
  const comparable = (a: BackendResult, b: BackendResult, role: 'server' | 'client') => {
    const [x, y] = [shape(a, role), shape(b, role)];
    if (!('state' in x.kinds) || !('state' in y.kinds)) {
      delete x.kinds.state;
      delete y.kinds.state;
    }
    return [x, y];
  };
  return (['server', 'client'] as const).map((role) => ({
    name: `st-${role}: ${done.map((r) => r.probe).join(', ')} saw the same events and bytes`,
    run: () => {
      const ref = done.find((r) => r.probe !== 'cgroup') ?? done[0];
      for (const r of done.filter((x) => x !== ref)) {
        const [x, y] = comparable(r, ref, role);
        assert.deepEqual(x, y, `st-${role}: --probe ${r.probe} vs --probe ${ref.probe}`);
      }
    },
  }));
}

/** What `socktop check` said, from its JSON (when it has --json) or its text. */
export function interpretCheck(c: CheckResult): { kprobes: boolean | null; auto: string | null } {
  let kprobes: boolean | null = null;
  let auto: string | null = null;
  if (c.json && typeof c.json === 'object') {
    const walk = (o: any, keyPath: string) => {
      if (!o || typeof o !== 'object') return;
      for (const [k, v] of Object.entries(o)) {
        const p = `${keyPath}.${k}`.toLowerCase();
        if (kprobes === null && /^kprobes?$/i.test(k) && typeof v === 'boolean') kprobes = v;
        if (kprobes === null && /^kprobes?$/i.test(k) && v && typeof v === 'object' && typeof (v as any).available === 'boolean') kprobes = (v as any).available;
        if (auto === null && typeof v === 'string' && /^(cgroup|kprobe|tracepoint)$/.test(v) && /(auto|backend|chosen|choice|pick)/.test(p)) auto = v;
        walk(v, p);
      }
    };
    walk(c.json, '');
  }
  const lines = (c.stdout + '\n' + c.stderr).split('\n');
  if (kprobes === null) {
    // e.g. "  kprobes                            yes" (src/cli/run/check.ts)
    const l = lines.find((x) => /^\s*kprobes?\b/i.test(x)) ?? lines.find((x) => /kprobe/i.test(x) && !/(backend|auto)/i.test(x));
    if (l) kprobes = /\b(yes|available|present|ok|true|supported)\b/i.test(l) && !/\b(no|not|missing|unavailable|absent|off)\b/i.test(l);
  }
  if (auto === null) {
    // e.g. "backend (--probe auto): kprobe: kprobes are available"
    const m = lines.map((x) => /backend\s*\(--probe auto\)\s*:\s*(\w+)/i.exec(x)).find(Boolean);
    if (m) auto = m[1];
    else {
      const l = lines.find((x) => /\bauto\b/i.test(x) && /\b(cgroup|kprobe|tracepoint)\b/i.test(x));
      const w = l && /\b(cgroup|kprobe|tracepoint)\b/i.exec(l);
      if (w) auto = w[1].toLowerCase();
    }
  }
  return { kprobes, auto };
}

export function checkChecks(c: CheckResult | null): Check[] {
  const need = () => {
    if (!c) assert.fail('the guest sent no `socktop check` result');
    return c;
  };
  return [
    { name: 'socktop check exits 0', run: () => { const x = need(); assert.equal(x.code, 0, x.stdout + x.stderr); } },
    {
      name: 'socktop check reports kprobes available',
      run: () => { const x = need(); assert.equal(interpretCheck(x).kprobes, true, `socktop check said:\n${x.stdout}${x.stderr}`); },
    },
    {
      name: 'socktop check reports auto -> kprobe',
      run: () => { const x = need(); assert.equal(interpretCheck(x).auto, 'kprobe', `socktop check said:\n${x.stdout}${x.stderr}`); },
    },
  ];
}

/** Run checks, returning the failures' messages (for verify.ts). */
export function runChecks(checks: Check[]): Array<{ name: string; error: string | null }> {
  return checks.map((c) => {
    try {
      c.run();
      return { name: c.name, error: null };
    } catch (e) {
      return { name: c.name, error: (e as Error).message };
    }
  });
}
