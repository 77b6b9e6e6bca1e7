/**
 * verify.ts: `node dist/test/vm/verify.js OUTDIR` checks and reports an output directory of
 * test/vm/run.sh (run.sh calls it last). Exit 0 when every check passes, 1 otherwise.
 * `report()` is also printed by vm.test.ts.
 */
import { agreementChecks, backendChecks, checkChecks, interpretCheck, runChecks } from './checks';
import { loadResults, VmResults } from './results';
import type { BackendSummary, RoleSummary } from './summarize';

const fmtKinds = (k: Record<string, number>) =>
  Object.entries(k).sort(([a], [b]) => a.localeCompare(b)).map(([n, c]) => `${n}=${c}`).join(' ');

function roleLine(name: string, r: RoleSummary): string {
  return `    ${name} pid ${r.pid}: ${fmtKinds(r.kinds)}\n` +
    `      closes with bytes: ${r.closesWithBytes} (sent/received: ${fmtKinds(r.closeBytes)}), all closes: ${fmtKinds(r.closesBy)}, exit codes ${JSON.stringify(r.exitCodes)}`;
}

/** The guest's figures, human-readable. */
export function report(res: VmResults): string {
  const out: string[] = [];
  const N = res.begin?.N ?? res.host?.N;
  const M = res.begin?.M ?? res.host?.M;
  out.push(`VM test: guest kernel ${res.begin?.kernel ?? '?'} (${res.begin?.cpus ?? '?'} cpus, node ${res.begin?.node ?? '?'}), N=${N} M=${M}`);
  if (res.host) out.push(`  host: qemu ran ${res.host.bootSeconds} s, run.sh at ${res.host.totalSeconds} s when qemu exited`);
  if (res.begin) out.push(`  guest: userland up at ${res.begin.uptime} s after boot; test finished at ${res.end?.uptime ?? '?'} s (guest.js ${res.end?.guestMs ?? '?'} ms)`);
  if (res.check) {
    const c = interpretCheck(res.check);
    out.push(`  socktop check: exit ${res.check.code}, ${res.check.ms} ms; kprobes=${c.kprobes} auto=${c.auto}${res.check.json ? ' (from --json)' : ' (from text)'}`);
  }
  for (const b of res.backends) {
    out.push(`  --probe ${b.probe}: attach ${b.attachMs ?? '?'} ms (spawn to "attached"), traffic ${b.trafficMs ?? '?'} ms, stop ${b.stopMs ?? '?'} ms, socktop exit ${b.exitCode ?? '?'}`);
    if (b.attachedLine) out.push(`    stderr: ${b.attachedLine.trim()}`);
    if (b.error) out.push(`    ERROR: ${b.error}`);
    const s: BackendSummary | undefined = b.summary;
    if (!s) continue;
    out.push(`    events ${s.events} by backend: ${fmtKinds(s.backends)}; owner unknown ${s.ownerUnknown}; drops ${s.drops}`);
    out.push(`    listens ${JSON.stringify(s.listens)}; accepts ${s.accepts.n} (inet ${s.accepts.inet4}, inet6 ${s.accepts.inet6}); ` +
      `connects ok ${s.connects.ok} (inet ${s.connects.ok4}, inet6 ${s.connects.ok6}), failed ${JSON.stringify(s.connects.failed)}, ` +
      `latency us ${s.connects.latencyUs ? `${s.connects.latencyUs.min}/${s.connects.latencyUs.median}/${s.connects.latencyUs.max} (min/median/max)` : '-'}`);
    out.push(roleLine('st-server', s.server));
    out.push(roleLine('st-client', s.client));
    for (const [who, kinds] of Object.entries(s.others)) out.push(`    other ${who}: ${fmtKinds(kinds)}`);
    if (s.unclosed.length) out.push(`    unclosed sockets: ${s.unclosed.join(' ')}`);
  }
  // Where backends saw the same traffic differently (kinds per role; byte totals).
  const withSummary = res.backends.filter((b) => b.summary);
  for (const role of ['server', 'client'] as const) {
    const shapes = withSummary.map((b) => `${fmtKinds(b.summary![role].kinds)} | ${fmtKinds(b.summary![role].closeBytes)}`);
    if (new Set(shapes).size > 1) {
      out.push(`  DIFFERENCE between backends for st-${role}:`);
      withSummary.forEach((b, i) => out.push(`    ${b.probe.padEnd(10)} ${shapes[i]}`));
    }
  }
  return out.join('\n');
}

function main(): void {
  const dir = process.argv[2];
  if (!dir) {
    console.error('usage: node dist/test/vm/verify.js OUTDIR');
    process.exit(2);
  }
  const res = loadResults(dir);
  console.log(report(res));
  const N = res.begin?.N ?? res.host?.N ?? 5;
  const M = res.begin?.M ?? res.host?.M ?? 3000;
  let failures = 0;
  const show = (group: string, results: Array<{ name: string; error: string | null }>) => {
    for (const r of results) {
      if (r.error) failures++;
      console.log(`  ${r.error ? 'FAIL' : 'ok  '} ${group}: ${r.name}${r.error ? `\n        ${r.error.split('\n').join('\n        ')}` : ''}`);
    }
  };
  show('check', runChecks(checkChecks(res.check)));
  const probes = res.begin?.probes ?? ['cgroup', 'kprobe', 'auto', 'tracepoint'];
  for (const probe of probes) {
    const b = res.backends.find((x) => x.probe === probe) ?? { probe, totalMs: 0, error: 'no result from the guest' };
    show(`--probe ${probe}`, runChecks(backendChecks(b, N, M)));
  }
  show('backends', runChecks(agreementChecks(res.backends)));
  if (!res.end) { failures++; console.log('  FAIL the guest did not finish (no SOCKTOP_VM_END)'); }
  console.log(failures ? `VM test: ${failures} check(s) FAILED (details: ${dir})` : 'VM test: all checks passed');
  process.exit(failures ? 1 : 0);
}

if (require.main === module) main();
