/**
 * backend.ts: which probe backend to use, from what was asked (--probe) and what the kernel
 * offers (kernel.ts). Pure: no I/O, so every case is unit-tested.
 */
import type { Backend, ProbeChoice } from './addon';
import type { KernelSupport } from './kernel';

/** An impossible choice: its message is one line for the user. */
export class BackendError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'BackendError';
  }
}

export interface BackendChoice {
  backend: Backend;
  reason: string;
}

export const NO_KPROBES =
  'kprobes are not available on this kernel (CONFIG_KPROBES is off); use --probe tracepoint or auto';

/** Required tracepoints known to be absent (unknown ones are not counted: tracefs gets mounted). */
export function missingTracepoints(support: KernelSupport, required = true): string[] {
  return support.tracepoints
    .filter((t) => t.required === required && t.present === false)
    .map((t) => t.name);
}

function tracepointNotes(support: KernelSupport): string {
  const notes: string[] = [];
  if (support.tracefs === null) notes.push('tracefs is not mounted: it will be mounted at /sys/kernel/tracing');
  const optional = missingTracepoints(support, false);
  if (optional.length > 0) notes.push(`without ${optional.join(', ')}`);
  return notes.length > 0 ? ` (${notes.join('; ')})` : '';
}

function useTracepoints(support: KernelSupport, why: string): BackendChoice {
  const missing = missingTracepoints(support);
  if (missing.length > 0) {
    throw new BackendError(`the tracepoint backend needs tracepoints this kernel lacks: ${missing.join(', ')}`);
  }
  return { backend: 'tracepoint', reason: why + tracepointNotes(support) };
}

export function chooseBackend(requested: ProbeChoice, support: KernelSupport): BackendChoice {
  if (!support.btf) {
    throw new BackendError(
      'kernel BTF is missing (/sys/kernel/btf/vmlinux): socktop needs a kernel built with CONFIG_DEBUG_INFO_BTF=y',
    );
  }
  switch (requested) {
    case 'kprobe':
      if (!support.kprobes) throw new BackendError(NO_KPROBES);
      return { backend: 'kprobe', reason: 'requested with --probe kprobe' };
    case 'tracepoint':
      return useTracepoints(support, 'requested with --probe tracepoint');
    case 'auto':
      if (support.kprobes) return { backend: 'kprobe', reason: 'kprobes are available' };
      if (missingTracepoints(support).length > 0) {
        throw new BackendError(
          `neither kprobes (CONFIG_KPROBES is off) nor the needed tracepoints are available (missing: ${missingTracepoints(support).join(', ')})`,
        );
      }
      return useTracepoints(support, 'kprobes are not available on this kernel (CONFIG_KPROBES is off), using tracepoints');
    default:
      throw new BackendError(`unknown probe backend '${String(requested)}': use auto, kprobe or tracepoint`);
  }
}
