/**
 * container-names-helper.ts: privilege separation for container names (container-names.ts).
 *
 * A runtime's API socket (docker.sock, podman.sock) is root's: whoever can talk to it can run
 * anything as root. socktop gives up root after attaching, so it cannot ask the runtime itself,
 * and keeping a connection open across the drop would keep that power inside the process that
 * parses hostile input. Instead, before the drop, a live capture starts this file as a child:
 *   - it empties its own capability sets at once (uid 0 stays: the sockets' owner, no more);
 *   - it reads lines of hex container ids on stdin (anything else is ignored) and answers each
 *     with one JSON line {"id","name"} (name null when no runtime knows it), asking the runtime
 *     sockets with GET /containers/<id>/json only;
 *   - it ends when its stdin ends (socktop exited, however it exited).
 * The parent side (spawnNamesHelper) is an Inspect for ContainerNames: ids in, names out.
 */
import { ChildProcess, spawn } from 'child_process';
import * as readline from 'readline';
import {
  anyRuntimeSocket, Inspect, isContainerId, runtimeSockets, socketInspector,
} from './container-names';

/** Longest wait for the helper's answer (it waits 500 ms per runtime socket itself). */
const ANSWER_TIMEOUT_MS = 2000;

/**
 * Start the helper when a runtime socket exists now (call it while still root); null when none
 * does (nothing to ask) or it cannot start. The child does not keep socktop alive.
 */
export function spawnNamesHelper(env: NodeJS.ProcessEnv = process.env): Inspect | null {
  if (!anyRuntimeSocket(runtimeSockets(env))) return null;
  let child: ChildProcess;
  try {
    child = spawn(process.execPath, [__filename, '--serve'], { stdio: ['pipe', 'pipe', 'ignore'], env });
  } catch {
    return null;
  }
  const waiting = new Map<string, Array<(name: string | undefined) => void>>();
  let alive = true;
  const answer = (id: string, name: string | undefined): void => {
    for (const resolve of waiting.get(id) ?? []) resolve(name);
    waiting.delete(id);
  };
  child.on('error', () => { alive = false; });
  child.on('exit', () => {
    alive = false;
    for (const id of [...waiting.keys()]) answer(id, undefined);
  });
  child.stdin!.on('error', () => { alive = false; });
  readline.createInterface({ input: child.stdout! }).on('line', (line) => {
    const reply = parseReply(line);
    if (reply) answer(reply.id, reply.name);
  });
  child.unref();
  (child.stdin as unknown as { unref?: () => void }).unref?.();
  (child.stdout as unknown as { unref?: () => void }).unref?.();
  return (id) => new Promise((resolve) => {
    if (!alive || !isContainerId(id)) return resolve(undefined);
    const timer = setTimeout(() => resolve(undefined), ANSWER_TIMEOUT_MS);
    const done = (name: string | undefined): void => {
      clearTimeout(timer);
      resolve(name);
    };
    const list = waiting.get(id);
    if (list) return void list.push(done);
    waiting.set(id, [done]);
    child.stdin!.write(`${id}\n`);
  });
}

/** One answer line of the helper, or null when it is not one. */
export function parseReply(line: string): { id: string; name: string | undefined } | null {
  try {
    const v = JSON.parse(line) as { id?: unknown; name?: unknown };
    if (typeof v.id !== 'string' || !isContainerId(v.id)) return null;
    return { id: v.id, name: typeof v.name === 'string' && v.name ? v.name : undefined };
  } catch {
    return null;
  }
}

/** The child: no capabilities, ids in, names out, until stdin ends. */
async function serve(): Promise<void> {
  try {
    // eslint-disable-next-line @typescript-eslint/no-var-requires
    const { loadAddon } = require('./addon') as typeof import('./addon');
    loadAddon().dropCapabilities();
  } catch {
    process.exit(1); // never run with more than the sockets' ownership
  }
  const inspect = socketInspector(runtimeSockets());
  const lines = readline.createInterface({ input: process.stdin });
  for await (const line of lines) {
    const id = line.trim();
    if (!isContainerId(id)) continue;
    const name = await inspect(id);
    process.stdout.write(`${JSON.stringify({ id, name: name ?? null })}\n`);
  }
}

if (require.main === module && process.argv[2] === '--serve') {
  serve().then(() => process.exit(0), () => process.exit(1));
}
