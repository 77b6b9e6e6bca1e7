/**
 * capabilities.ts: what each backend needs on which host, which of it a process holds, and the
 * one-line messages; and the privilege drop's decisions (privileges.ts) with the system calls faked.
 * The live proof of the sets is test/live/capabilities.test.ts.
 */
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import {
  AccessFacts, assess, backendNeeds, backendProblem, CapName, CAPABILITY_NAMES, capabilityNames, Credentials,
  dacAllows, missingRequired, parseCredentials, privilegeProblem, requiredSet, snapshotLimit,
} from '../../src/capture/capabilities';
import { dropPrivileges } from '../../src/cli/privileges';

function creds(uid: number, caps: CapName[]): Credentials {
  const mask = caps.reduce((m, c) => m | (1n << BigInt(CAPABILITY_NAMES.indexOf(c))), 0n);
  return { uid, gid: uid, groups: [], effective: mask, permitted: mask };
}

const HOST: AccessFacts = {
  tracefsMount: '/sys/kernel/tracing', tracefsOpenToUid: false, tracefsMode: '/sys/kernel/tracing is mode 0700, owner root', cgroup2Mounted: true,
};
const AS_ROOT: AccessFacts = { ...HOST, tracefsOpenToUid: true };

function required(backend: 'cgroup' | 'tracepoint', uid: number, facts: AccessFacts): string {
  return requiredSet(assess(backendNeeds(backend, uid, facts), creds(uid, [])));
}

test('parseCredentials reads the fs uid, gids and the capability sets of /proc/self/status', () => {
  const c = parseCredentials('Name:\tnode\nUid:\t1000\t1000\t1000\t1001\nGid:\t100\t100\t100\t100\nGroups:\t4 27 \nCapPrm:\t000000c000000000\nCapEff:\t0000008000000000\n');
  assert.deepEqual(c, { uid: 1001, gid: 100, groups: [4, 27], effective: 1n << 39n, permitted: (1n << 39n) | (1n << 38n) });
  assert.deepEqual(capabilityNames(c.permitted), ['CAP_PERFMON', 'CAP_BPF']);
  assert.equal(parseCredentials('').uid, -1);
});

test('the minimal sets: tracefs costs a non-root user CAP_DAC_READ_SEARCH (not on the cgroup backend: tp_btf), the cgroup backend CAP_NET_ADMIN', () => {
  assert.equal(required('tracepoint', 65534, HOST), 'CAP_BPF+CAP_PERFMON+CAP_DAC_READ_SEARCH');
  assert.equal(required('cgroup', 65534, HOST), 'CAP_BPF+CAP_PERFMON+CAP_NET_ADMIN');
  assert.equal(required('tracepoint', 0, AS_ROOT), 'CAP_BPF+CAP_PERFMON');
  assert.equal(required('cgroup', 0, AS_ROOT), 'CAP_BPF+CAP_PERFMON+CAP_NET_ADMIN');
  // A tracefs opened to a group the user is in needs no capability.
  assert.equal(required('tracepoint', 1000, { ...HOST, tracefsOpenToUid: true }), 'CAP_BPF+CAP_PERFMON');
});

test('nothing mounted: CAP_SYS_ADMIN to mount, and CAP_DAC_OVERRIDE for a non-root user to create /run/socktop/cgroup2', () => {
  const bare: AccessFacts = { tracefsMount: null, tracefsOpenToUid: false, tracefsMode: '', cgroup2Mounted: false };
  assert.equal(required('cgroup', 65534, bare), 'CAP_BPF+CAP_PERFMON+CAP_NET_ADMIN+CAP_SYS_ADMIN+CAP_DAC_OVERRIDE');
  assert.equal(required('tracepoint', 65534, bare), 'CAP_BPF+CAP_PERFMON+CAP_SYS_ADMIN+CAP_DAC_READ_SEARCH');
  assert.equal(required('cgroup', 0, { ...bare, tracefsOpenToUid: true }), 'CAP_BPF+CAP_PERFMON+CAP_NET_ADMIN+CAP_SYS_ADMIN');
});

test('CAP_SYS_ADMIN stands in for CAP_BPF, CAP_PERFMON and CAP_NET_ADMIN; CAP_DAC_OVERRIDE for CAP_DAC_READ_SEARCH', () => {
  const states = assess(backendNeeds('tracepoint', 65534, HOST), creds(65534, ['CAP_SYS_ADMIN', 'CAP_DAC_OVERRIDE']));
  assert.deepEqual(missingRequired(states), []);
  assert.equal(privilegeProblem('tracepoint', states), null);
  assert.deepEqual(missingRequired(assess(backendNeeds('cgroup', 65534, HOST), creds(65534, ['CAP_SYS_ADMIN']))), []);
});

test('the problem line names the whole set and each missing capability with what needs it', () => {
  const states = assess(backendNeeds('cgroup', 65534, HOST), creds(65534, ['CAP_BPF', 'CAP_PERFMON']));
  assert.deepEqual(missingRequired(states), ['CAP_NET_ADMIN']);
  assert.equal(privilegeProblem('cgroup', states),
    'capturing with the cgroup backend needs root or CAP_BPF+CAP_PERFMON+CAP_NET_ADMIN; missing: CAP_NET_ADMIN (cgroup socket programs)');
  const tp = assess(backendNeeds('tracepoint', 65534, HOST), creds(65534, ['CAP_BPF']));
  assert.equal(privilegeProblem('tracepoint', tp),
    'capturing with the tracepoint backend needs root or CAP_BPF+CAP_PERFMON+CAP_DAC_READ_SEARCH; missing: ' +
    'CAP_PERFMON (tracing programs, tracepoint perf events), CAP_DAC_READ_SEARCH (reading tracepoint ids in tracefs: /sys/kernel/tracing is mode 0700, owner root)');
  // auto chose cgroup, and the tracepoint backend would run: say so.
  const support = { credentials: creds(0, ['CAP_BPF', 'CAP_PERFMON']), access: AS_ROOT };
  assert.match(backendProblem('auto', 'cgroup', support)!, /missing: CAP_NET_ADMIN .*; --probe tracepoint would run/);
  assert.doesNotMatch(backendProblem('cgroup', 'cgroup', support)!, /--probe tracepoint/);
  assert.equal(backendProblem('tracepoint', 'tracepoint', support), null);
  assert.equal(backendProblem('auto', 'cgroup', {}), undefined);
});

test('the optional needs say what is lost without them; uid 0 adds CAP_SETUID+CAP_SETGID', () => {
  const nobody = assess(backendNeeds('tracepoint', 65534, HOST), creds(65534, ['CAP_BPF', 'CAP_PERFMON', 'CAP_DAC_READ_SEARCH']));
  const optional = nobody.filter((n) => !n.required);
  assert.deepEqual(optional.map((n) => [n.caps.join('+'), n.present]), [['CAP_SYS_PTRACE+CAP_DAC_READ_SEARCH', false], ['CAP_SYS_ADMIN', false]]);
  assert.match(optional[0].without!, /sockets that existed at start are not shown for other users' processes/);
  const root = backendNeeds('tracepoint', 0, AS_ROOT).filter((n) => !n.required);
  assert.deepEqual(root.map((n) => n.caps.join('+')), ['CAP_SYS_PTRACE+CAP_DAC_READ_SEARCH', 'CAP_SYS_ADMIN', 'CAP_SETUID+CAP_SETGID']);
});

test('the snapshot note names the capabilities whose lack hid sockets, and is silent when none is lacking', () => {
  const hidden = { hiddenSockets: 3 };
  assert.equal(snapshotLimit(hidden, creds(65534, ['CAP_DAC_READ_SEARCH'])), 'snapshot: 3 sockets hidden (no CAP_SYS_PTRACE)');
  assert.equal(snapshotLimit({ hiddenSockets: 1 }, creds(0, [])), 'snapshot: 1 socket hidden (no CAP_SYS_PTRACE+CAP_DAC_READ_SEARCH)');
  assert.equal(snapshotLimit(hidden, creds(0, ['CAP_SYS_PTRACE', 'CAP_DAC_OVERRIDE'])), null, 'hidden from root too');
  assert.equal(snapshotLimit({ hiddenSockets: 0 }, creds(0, [])), null);
  assert.equal(snapshotLimit(undefined, creds(0, [])), null);
});

test('dacAllows: owner, group, then other bits', () => {
  const dir = { mode: 0o40750, uid: 0, gid: 27 };
  assert.equal(dacAllows(dir, creds(0, []), 1), true);
  assert.equal(dacAllows(dir, { ...creds(1000, []), groups: [27] }, 5), true);
  assert.equal(dacAllows(dir, creds(1000, []), 1), false);
  assert.equal(dacAllows({ mode: 0o100444, uid: 0, gid: 0 }, creds(1000, []), 4), true);
});

test('the privilege drop: without CAP_SETUID/CAP_SETGID no set*id call is made, and the capabilities still go', () => {
  let drops = 0;
  const r = dropPrivileges({}, {
    credentials: () => creds(process.getuid!(), ['CAP_BPF', 'CAP_PERFMON']),
    dropCapabilities: () => { drops++; return { threads: 7, holding: [], error: '' }; },
  });
  assert.equal(drops, 1);
  assert.equal(r.capabilitiesDropped, true);
  assert.equal(r.dropped, false);
  assert.equal(r.uid, process.getuid!());
  if (process.getuid!() === 0) assert.match(r.keptRoot!, /no CAP_SETUID/);
});

test('the privilege drop: a thread that keeps capabilities is an error of its own, not a capture privilege', () => {
  assert.throws(() => dropPrivileges({}, {
    credentials: () => creds(process.getuid!(), []),
    dropCapabilities: () => ({ threads: 7, holding: [1234], error: 'rt_sigaction: Invalid argument' }),
  }), (e: Error) => {
    assert.equal(e.message, 'cannot drop capabilities after attaching: 1 of 7 threads still hold some: rt_sigaction: Invalid argument (SOCKTOP_KEEP_PRIVILEGES=1 keeps them knowingly)');
    assert.doesNotMatch(e.message, /needs root/);
    return true;
  });
  let called = false;
  const kept = dropPrivileges({ SOCKTOP_KEEP_PRIVILEGES: '1' }, { dropCapabilities: () => { called = true; return { threads: 1, holding: [], error: '' }; } });
  assert.equal(called, false);
  assert.equal(kept.capabilitiesDropped, false);
});
