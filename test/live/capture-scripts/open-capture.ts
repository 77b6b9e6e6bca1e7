/**
 * Child process for the privilege and capability tests (run as an unprivileged user or with a
 * reduced capability set): startCapture() straight, with no CLI preflight, so the native layer's
 * own messages are what is seen. Prints {ok: true} or {code, message} as one JSON line.
 *
 *   node open-capture.js BACKEND [OBJECT_PATH]
 */
import type { Backend } from '../../../src/capture/addon';
import { startCapture } from '../../../src/capture/session';

async function main(): Promise<void> {
  const [backend, objectPath] = process.argv.slice(2);
  try {
    const session = await startCapture({ backend: backend as Backend, ringCapacity: 64, objectPath });
    await session.stop();
    process.stdout.write(`${JSON.stringify({ ok: true })}\n`);
  } catch (e) {
    const err = e as { code?: string; message?: string };
    process.stdout.write(`${JSON.stringify({ code: err.code, message: err.message })}\n`);
  }
}

void main();
