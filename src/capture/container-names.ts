/**
 * container-names.ts: a container's name from its runtime's API, where the runtime's socket is
 * reachable: Docker's Engine API and Podman's Docker-compatible API, both
 * `GET /containers/<id>/json` -> `.Name`, over their unix sockets.
 *
 * Never a failure: lookups are asynchronous (the UI shows the id until a name arrives), time out
 * (500 ms), and an absent, unreachable or silent runtime, or an id it does not know, gives no name.
 * Names are cached for the session, misses for a while (a container may be created after its
 * first event was seen, but an unknown id must not cost a request per frame).
 * containerd and CRI-O answer only gRPC (CRI): their containers keep their ids and the pod UID
 * their cgroup path holds.
 *
 * A name is chosen by whoever created the container: it is hostile input, kept as text here and
 * escaped by whatever shows it (src/model/text.ts showText), and bounded in length.
 *
 * Who asks: access to a runtime's socket is root's in all but name, and socktop gives up root
 * after attaching. So a live capture asks through container-names-helper.ts, a child started
 * before the drop that keeps uid 0 without any capability and answers only "the name of this hex
 * id"; the in-process inspector (socketInspector) serves the child itself and the tests.
 */
import * as fs from 'fs';
import * as http from 'http';

/** Where Docker and Podman (rootful) listen by default. DOCKER_HOST=unix://... comes first. */
export const DEFAULT_RUNTIME_SOCKETS: readonly string[] = ['/var/run/docker.sock', '/run/podman/podman.sock'];

/** Longest name kept (Docker allows any length; a screen column does not). */
const MAX_NAME = 128;
/** Largest answer read: an inspect document is a few kB. */
const MAX_BODY = 1 << 20;
/** Full (64) or short (12+) hex ids only: nothing else is ever put into a request path. */
const CONTAINER_ID = /^[0-9a-f]{12,64}$/;

/** Asks the runtimes for the name of one container id (undefined: no name); never rejects. */
export type Inspect = (id: string) => Promise<string | undefined>;

export interface ContainerNamesOptions {
  /** Who asks the runtimes (default: this process, on runtimeSockets()). */
  inspect?: Inspect;
  /** How long an id no runtime knew stays unknown before it is asked again. */
  missTtlMs?: number;
}

/** The unix socket a DOCKER_HOST value names, if it is one. */
export function dockerHostSocket(value: string | undefined): string | undefined {
  return value?.startsWith('unix://') ? value.slice('unix://'.length) : undefined;
}

/** The sockets to ask, in order: DOCKER_HOST's, then DEFAULT_RUNTIME_SOCKETS. */
export function runtimeSockets(env: NodeJS.ProcessEnv = process.env): string[] {
  const fromEnv = dockerHostSocket(env.DOCKER_HOST);
  return [...(fromEnv ? [fromEnv] : []), ...DEFAULT_RUNTIME_SOCKETS];
}

/** Whether any of `sockets` is a socket now (a runtime may be running). */
export function anyRuntimeSocket(sockets: readonly string[]): boolean {
  return sockets.some(isSocket);
}

/** Whether `id` may be put into a request: a full or short hex container id. */
export function isContainerId(id: string): boolean {
  return CONTAINER_ID.test(id);
}

/** Ask each of `sockets` in turn (this process's own access), each within `timeoutMs`. */
export function socketInspector(sockets: readonly string[], timeoutMs = 500): Inspect {
  return async (id) => {
    if (!isContainerId(id)) return undefined;
    for (const socketPath of sockets) {
      if (!isSocket(socketPath)) continue;
      const name = await inspectName(socketPath, id, timeoutMs);
      if (name) return name;
    }
    return undefined;
  };
}

export class ContainerNames {
  private readonly inspect: Inspect;
  private readonly missTtlMs: number;
  private readonly names = new Map<string, string>();
  /** id -> when it may be asked again. */
  private readonly misses = new Map<string, number>();
  private readonly inFlight = new Map<string, Promise<void>>();

  constructor(opts: ContainerNamesOptions = {}) {
    this.inspect = opts.inspect ?? socketInspector(runtimeSockets());
    this.missTtlMs = opts.missTtlMs ?? 30_000;
  }

  /** The name if known now; else starts one lookup (if none is running) and gives undefined. */
  nameOf(id: string): string | undefined {
    const known = this.names.get(id);
    if (known !== undefined || this.inFlight.has(id) || !isContainerId(id)) return known;
    const retryAt = this.misses.get(id);
    if (retryAt !== undefined && Date.now() < retryAt) return undefined;
    const lookup = this.lookup(id).finally(() => this.inFlight.delete(id));
    this.inFlight.set(id, lookup);
    return undefined;
  }

  /** Resolves once every lookup started so far has ended (batch output, tests). */
  async settle(): Promise<void> {
    while (this.inFlight.size > 0) await Promise.all([...this.inFlight.values()]);
  }

  private async lookup(id: string): Promise<void> {
    const name = await this.inspect(id).catch(() => undefined);
    if (name) {
      this.names.set(id, name);
      this.misses.delete(id);
    } else {
      this.misses.set(id, Date.now() + this.missTtlMs);
    }
  }
}

function isSocket(p: string): boolean {
  try {
    return fs.statSync(p).isSocket();
  } catch {
    return false;
  }
}

/** `.Name` of GET /containers/<id>/json on the API at `socketPath`, or undefined (never throws). */
function inspectName(socketPath: string, id: string, timeoutMs: number): Promise<string | undefined> {
  return new Promise((resolve) => {
    let done = false;
    const finish = (name: string | undefined): void => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      req.destroy();
      resolve(name);
    };
    const timer = setTimeout(() => finish(undefined), timeoutMs);
    const req = http.get({ socketPath, path: `/containers/${id}/json`, headers: { Host: 'localhost' } }, (res) => {
      if (res.statusCode !== 200) return finish(undefined);
      const chunks: Buffer[] = [];
      let size = 0;
      res.on('data', (c: Buffer) => {
        size += c.length;
        if (size > MAX_BODY) finish(undefined);
        else chunks.push(c);
      });
      res.on('end', () => finish(nameFromInspect(Buffer.concat(chunks).toString('utf8'))));
      res.on('error', () => finish(undefined));
    });
    req.on('error', () => finish(undefined));
  });
}

/** The container name an inspect document gives ("/web" -> "web"), bounded; undefined if none. */
export function nameFromInspect(body: string): string | undefined {
  try {
    const doc: unknown = JSON.parse(body);
    const name = doc !== null && typeof doc === 'object' ? (doc as { Name?: unknown }).Name : undefined;
    if (typeof name !== 'string') return undefined;
    const bare = name.replace(/^\//, '').slice(0, MAX_NAME);
    return bare || undefined;
  } catch {
    return undefined;
  }
}
