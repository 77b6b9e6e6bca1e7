/** Backend choice (src/capture/backend.ts) for the kernels socktop meets, and CapEff parsing. */
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { BackendError, chooseBackend, NO_KPROBES } from '../../src/capture/backend';
import { KernelSupport, parsePrivileges, Presence, TRACEPOINTS } from '../../src/capture/kernel';

function kernel(over: Partial<KernelSupport> = {}, tracepoint: (name: string) => Presence = () => true): KernelSupport {
  return {
    btf: true,
    kprobes: true,
    tracefs: '/sys/kernel/tracing',
    tracepoints: TRACEPOINTS.map((t) => ({ ...t, present: tracepoint(t.name) })),
    privileges: parsePrivileges('CapEff:\t000001ffffffffff\n'),
    fentry: 'unknown',
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
