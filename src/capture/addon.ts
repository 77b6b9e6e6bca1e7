/**
 * addon.ts: the typed face of the native addon (native/src/addon.cc), loaded from
 * native/build/Release/socktop.node. Only the capture worker opens sessions; `check` and tests use
 * the read-only probes.
 */
import * as path from 'path';

export type ProbeChoice = 'auto' | 'kprobe' | 'tracepoint';

export type Backend = 'kprobe' | 'tracepoint';

export interface OpenOptions {
  /** Chosen in TypeScript (src/capture/backend.ts), never 'auto' here. */
  backend: Backend;
  objectPath: string;       // bpf/socktop.bpf.o
  bpfRingBytes?: number;    // size of the BPF ring buffer map
}

export interface OpenResult {
  backend: Backend;
  attachMs: number;         // time from open() call to all programs attached
  programs: string[];       // names of the programs attached
}

export interface ProgramStats { name: string; runCount: number; runTimeNs: number }

export interface SessionStats {
  bpfRingDrops: number;     // events the BPF programs could not reserve in the ring buffer
  polled: number;           // records handed to JS by poll()
  programs: ProgramStats[]; // kernel.bpf_stats_enabled figures (zeros when disabled)
}

/** One BPF session: open+load+attach, poll the ring buffer, stop. Not thread-safe: one thread. */
export interface NativeSession {
  /**
   * Wait up to timeoutMs for BPF events, then copy whole records into `out` (a multiple of
   * RECORD_SIZE bytes). Returns the number of records written (0 on timeout). Never allocates
   * per record and makes no JS call per record.
   */
  poll(out: Uint8Array, timeoutMs: number): number;
  stats(): SessionStats;
  /** Detach and free everything. Idempotent. */
  close(): void;
}

export interface NativeAddon {
  /**
   * Open, load and attach. Throws an Error whose `code` is one of:
   *   EPERM (not privileged), ENOENT (object file missing), ENOBTF, ELOAD (verifier or attach
   *   failure; message names the program and libbpf's reason). Messages are one line.
   */
  open(opts: OpenOptions): NativeSession & { info: OpenResult };
  /** Whether the kernel accepts an fentry (BPF_PROG_TYPE_TRACING) program: for `socktop check`. */
  probeFentry(): boolean;
  /** offsetof() of every field of struct socktop_event, plus "size". */
  layout(): Record<string, number>;
}

export function nativeAddonPath(): string {
  return path.resolve(__dirname, '../../../native/build/Release/socktop.node');
}

export function bpfObjectPath(): string {
  return path.resolve(__dirname, '../../../bpf/socktop.bpf.o');
}

export function loadAddon(): NativeAddon {
  // eslint-disable-next-line @typescript-eslint/no-var-requires
  return require(nativeAddonPath()) as NativeAddon;
}
