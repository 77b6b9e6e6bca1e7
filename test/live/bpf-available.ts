/**
 * Whether live BPF tests can run here. They skip only where BPF truly is unavailable; with
 * SOCKTOP_REQUIRE_BPF=1 (CI) a missing prerequisite is a failure instead.
 */
import * as fs from 'fs';
import { bpfObjectPath, nativeAddonPath } from '../../src/capture/addon';

export function bpfUnavailableReason(): string | null {
  if (process.getuid && process.getuid() !== 0) return 'not root';
  if (!fs.existsSync('/sys/kernel/btf/vmlinux')) return 'no kernel BTF';
  if (!fs.existsSync(bpfObjectPath())) return `BPF object not built (${bpfObjectPath()})`;
  if (!fs.existsSync(nativeAddonPath())) return `native addon not built (${nativeAddonPath()})`;
  return null;
}

/** Options for node:test's `test(name, opts, fn)`: skip with the reason, or fail when required. */
export function liveTestOptions(): { skip?: string } {
  const reason = bpfUnavailableReason();
  if (!reason) return {};
  if (process.env.SOCKTOP_REQUIRE_BPF === '1') {
    throw new Error(`SOCKTOP_REQUIRE_BPF=1 but live BPF tests cannot run: ${reason}`);
  }
  return { skip: `BPF unavailable: ${reason}` };
}
