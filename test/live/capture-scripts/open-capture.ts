/**
 * Child process for the privilege test (run as an unprivileged user): tries startCapture() and
 * prints {ok: true} or {code, message, stack?} as one JSON line.
 */
import { startCapture } from '../../../src/capture/session';

async function main(): Promise<void> {
  const [objectPath] = process.argv.slice(2);
  try {
    const session = await startCapture({ backend: 'tracepoint', ringCapacity: 64, objectPath });
    await session.stop();
    process.stdout.write(`${JSON.stringify({ ok: true })}\n`);
  } catch (e) {
    const err = e as { code?: string; message?: string };
    process.stdout.write(`${JSON.stringify({ code: err.code, message: err.message })}\n`);
  }
}

void main();
