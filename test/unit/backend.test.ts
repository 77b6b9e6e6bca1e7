/** Backend choice (src/capture/backend.ts) for the kernels socktop meets, and CapEff parsing. */
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { BackendError, chooseBackend, NO_CGROUP_HOOKS, NO_KPROBES } from '../../src/capture/backend';
import { findCgroup2Mount, kernelVersion, KernelSupport, parsePrivileges, Presence, TRACEPOINTS } from '../../src/capture/kernel';

function kernel(over: Partial<KernelSupport> = {}, tracepoint: (name: string) => Presence = () => true): KernelSupport {
  return {
    btf: true,
    cgroup: { hooks: false, mount: '/sys/fs/cgroup', kernel: [5, 4] }, // before 5.9 unless a test says so
    kprobes: true,
    tracefs: '/sys/kernel/tracing',
    tracepoints: TRACEPOINTS.map((t) => ({ ...t, present: tracepoint(t.name) })),
    privileges: parsePrivileges('CapEff:\t000001ffffffffff\n'),
    ...over,
  };
}

function throwsBackendError(fn: () => unknown, pattern: RegExp): void {
  assert.throws(fn, (e: unknown) => {
    assert.ok(e instanceof BackendError, 'a BackendError');
    assert.match(e.message, pattern);
    assert.ok(!e.message.includes('\n'), 'one line');
    return true;
  });
}

test('auto on a kernel without kprobes picks tracepoints and says why', () => {
  const choice = chooseBackend('auto', kernel({ kprobes: false }));
  assert.equal(choice.backend, 'tracepoint');
  assert.match(choice.reason, /kprobes are not available/);
});

test('auto picks kprobes when they are available', () => {
  assert.equal(chooseBackend('auto', kernel()).backend, 'kprobe');
});

test('forced kprobe on a kernel without kprobes is a clear error', () => {
  throwsBackendError(() => chooseBackend('kprobe', kernel({ kprobes: false })), /^kprobes are not available/);
  assert.equal(NO_KPROBES,
    'kprobes are not available on this kernel (CONFIG_KPROBES is off); use --probe tracepoint or auto');
});

test('forced kprobe with kprobes, forced tracepoint: as asked', () => {
  assert.equal(chooseBackend('kprobe', kernel()).backend, 'kprobe');
  assert.equal(chooseBackend('tracepoint', kernel()).backend, 'tracepoint');
  assert.equal(chooseBackend('tracepoint', kernel({ kprobes: false })).backend, 'tracepoint');
});

test('no BTF is an error naming BTF, whatever was asked', () => {
  for (const requested of ['auto', 'kprobe', 'tracepoint'] as const) {
    throwsBackendError(() => chooseBackend(requested, kernel({ btf: false })), /BTF/);
  }
});

test('missing required tracepoints and no kprobes is an error naming them', () => {
  const support = kernel({ kprobes: false }, (name) => name !== 'sock/inet_sock_set_state');
  throwsBackendError(() => chooseBackend('auto', support), /sock\/inet_sock_set_state/);
  throwsBackendError(() => chooseBackend('tracepoint', support), /sock\/inet_sock_set_state/);
});

test('missing optional tracepoints still allow the tracepoint backend, noted in the reason', () => {
  const support = kernel({ kprobes: false }, (name) => !name.startsWith('sock/sock_'));
  const choice = chooseBackend('auto', support);
  assert.equal(choice.backend, 'tracepoint');
  assert.match(choice.reason, /without sock\/sock_send_length, sock\/sock_recv_length/);
});

test('tracefs not mounted: tracepoints are unknown, not missing, and will be mounted', () => {
  const support = kernel({ kprobes: false, tracefs: null }, () => 'unknown');
  const choice = chooseBackend('auto', support);
  assert.equal(choice.backend, 'tracepoint');
  assert.match(choice.reason, /tracefs is not mounted/);
});

test('privileges come from CapEff: CAP_SYS_ADMIN, or CAP_BPF with CAP_PERFMON', () => {
  assert.equal(parsePrivileges('CapEff:\t000001ffffffffff\n').sufficient, true);
  assert.equal(parsePrivileges('CapEff:\t0000000000000000\n').sufficient, false);
  const bpfPerfmon = ((1n << 39n) | (1n << 38n)).toString(16).padStart(16, '0');
  assert.deepEqual(parsePrivileges(`Name:\tx\nCapEff:\t${bpfPerfmon}\n`),
    { capSysAdmin: false, capBpf: true, capPerfmon: true, sufficient: true });
  const bpfOnly = (1n << 39n).toString(16).padStart(16, '0');
  assert.equal(parsePrivileges(`CapEff:\t${bpfOnly}\n`).sufficient, false);
  assert.equal(parsePrivileges('').sufficient, false);
});

const withCgroup = (mount: string | null = '/sys/fs/cgroup/unified', kernel: [number, number] = [6, 18]) =>
  ({ cgroup: { hooks: true, mount, kernel } });
const noUseTracepoints = (name: string): Presence => !/sock_(send|recv)_length/.test(name);

test('auto: a 6.1 kernel with kprobes but no send/recv tracepoints gets kprobe; without kprobes, cgroup only if the syscall tracepoints are missing', () => {
  const old = { ...withCgroup('/sys/fs/cgroup', [6, 1]) };
  const k = chooseBackend('auto', kernel(old, noUseTracepoints));
  assert.equal(k.backend, 'kprobe');
  assert.match(k.reason, /accepts only at close/);
  assert.equal(chooseBackend('auto', kernel({ ...old, kprobes: false }, noUseTracepoints)).backend, 'tracepoint');
  assert.equal(chooseBackend('cgroup', kernel(old, noUseTracepoints)).backend, 'cgroup', 'still there when asked for');
  // tracefs not mounted yet: the kernel version decides
  assert.equal(chooseBackend('auto', kernel(withCgroup('/x', [6, 3]), () => 'unknown')).backend, 'cgroup');
  assert.equal(chooseBackend('auto', kernel(withCgroup('/x', [6, 2]), () => 'unknown')).backend, 'kprobe');
});

test('auto picks the cgroup backend wherever its hooks exist, with or without kprobes, and says why', () => {
  for (const kprobes of [true, false]) {
    const choice = chooseBackend('auto', kernel({ kprobes, ...withCgroup() }));
    assert.equal(choice.backend, 'cgroup');
    assert.match(choice.reason, /cheapest/);
    assert.match(choice.reason, /\/sys\/fs\/cgroup\/unified/);
  }
  assert.match(chooseBackend('auto', kernel(withCgroup(null))).reason, /mounts one at \/run\/socktop\/cgroup2/);
});

test('forced cgroup: as asked where the hooks exist, a clear error before 5.9', () => {
  assert.equal(chooseBackend('cgroup', kernel(withCgroup())).backend, 'cgroup');
  throwsBackendError(() => chooseBackend('cgroup', kernel()), /^the cgroup backend needs kernel 5\.9/);
  assert.match(NO_CGROUP_HOOKS, /--probe tracepoint or auto/);
});

test('kernel versions and cgroup2 mounts are read from what the kernel prints', () => {
  assert.deepEqual(kernelVersion('6.18.44-cloud'), [6, 18]);
  assert.deepEqual(kernelVersion('5.9.0'), [5, 9]);
  assert.deepEqual(kernelVersion('garbage'), [0, 0]);
  const hybrid = [
    '25 30 0:22 / /sys rw,nosuid - sysfs sysfs rw',
    '39 30 0:36 / /sys/fs/cgroup/systemd rw - cgroup cgroup rw,name=systemd',
    '40 30 0:37 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw',
  ].join('\n');
  assert.equal(findCgroup2Mount(hybrid), '/sys/fs/cgroup/unified');
  assert.equal(findCgroup2Mount('41 30 0:37 /sub /mnt/x rw - cgroup2 cgroup2 rw'), null, 'not the root');
  assert.equal(findCgroup2Mount('41 30 0:37 / /mnt/a\\040b rw shared:1 - cgroup2 none rw'), '/mnt/a b');
  assert.equal(findCgroup2Mount(''), null);
});
