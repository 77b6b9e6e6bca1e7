/**
 * Child process for the tracefs test, run where tracefs is not mounted (a private mount
 * namespace): what kernel.ts and backend.ts say then, and whether open() mounted it. Prints JSON.
 */
import { loadAddon } from '../../../src/capture/addon';
import { chooseBackend } from '../../../src/capture/backend';
import { detectKernelSupport } from '../../../src/capture/kernel';

const objectPath = process.argv[2];
const before = detectKernelSupport();
const choice = chooseBackend('tracepoint', before);
const session = loadAddon().open({ backend: 'tracepoint', objectPath });
const after = detectKernelSupport();
session.close();
process.stdout.write(`${JSON.stringify({
  tracefsBefore: before.tracefs,
  presentBefore: [...new Set(before.tracepoints.map((t) => t.present))],
  reason: choice.reason,
  mountedTracefs: session.info.mountedTracefs,
  tracefsAfter: after.tracefs,
  missingAfter: after.tracepoints.filter((t) => t.required && t.present !== true).map((t) => t.name),
})}\n`);
