/**
 * Child process for the signal test: starts a capture (argv: objectPath backend), prints the
 * session info as one JSON line, and waits. On SIGTERM/SIGINT it does what the CLI's handler will
 * do: stopAllCaptures(), then exit 0.
 */
import { startCapture, stopAllCaptures } from '../../../src/capture/session';
import type { Backend } from '../../../src/capture/addon';

async function main(): Promise<void> {
  const [objectPath, backend] = process.argv.slice(2);
  const onSignal = (): void => {
    stopAllCaptures().then(() => process.exit(0), () => process.exit(2));
  };
  process.once('SIGTERM', onSignal);
  process.once('SIGINT', onSignal);
  const session = await startCapture({ backend: backend as Backend, ringCapacity: 1024, objectPath });
  process.stdout.write(`${JSON.stringify(session.info)}\n`);
  // Consume so the ring never fills; the worker keeps the process alive until stopped.
  setInterval(() => session.ring.drain(() => undefined), 100);
}

main().catch((e) => {
  process.stdout.write(`${JSON.stringify({ error: (e as Error).message, code: (e as { code?: string }).code })}\n`);
  process.exit(1);
});
