/**
 * container.ts: what a cgroup v2 path says about where a process runs: a container (its runtime
 * and 64-hex id), a Kubernetes pod (its UID and QoS class), a systemd unit or a user session.
 * Pure: the path comes from src/capture/cgroups.ts (live) or from a recording (replay).
 *
 * One table of patterns, tried on each path segment from the leaf up, so the innermost match wins
 * (podman's `libpod-<id>.scope/container`, a docker `init.scope` child, ...). The pod is looked
 * for separately: both the systemd driver (`kubepods-burstable-pod<uid with _>.slice`) and the
 * cgroupfs driver (`/kubepods/burstable/pod<uid>`) name it in a segment of its own.
 */

export type Runtime = 'docker' | 'containerd' | 'cri-o' | 'podman' | 'cri';

export interface Placement {
  /** The cgroup path relative to the cgroup v2 root ("/" for the root). */
  path: string;
  /** Container runtime, when a container pattern matched. */
  runtime?: Runtime;
  /** The container id (64 hex digits; conmon scopes: the id of the container it monitors). */
  containerId?: string;
  /** The scope is the runtime's monitor (conmon) of that container, not the container itself. */
  monitor?: boolean;
  /** Kubernetes pod UID, with dashes (`0f9a...-...`). */
  podUid?: string;
  /** Kubernetes QoS class: guaranteed, burstable or besteffort. */
  qos?: string;
  /** systemd unit (`nginx.service`, `session-3.scope`), when no container matched. */
  unit?: string;
  /** uid of a `user-UID.slice` (user sessions and user services). */
  userUid?: number;
  /** What the CONTAINER column shows: a 12-digit id, a unit, the leaf's name; '' for the root. */
  name: string;
}

const HEX64 = '([0-9a-f]{64})';

interface ContainerPattern {
  re: RegExp;
  runtime: Runtime;
  monitor?: boolean;
  /** The match needs this previous segment (cgroupfs drivers: `/docker/<id>`). */
  parent?: RegExp;
}

/** Container scopes, one segment each. Order matters only for segments two patterns could read. */
export const CONTAINER_PATTERNS: readonly ContainerPattern[] = [
  { re: new RegExp(`^docker-${HEX64}\\.scope$`), runtime: 'docker' },
  { re: new RegExp(`^${HEX64}$`), runtime: 'docker', parent: /^docker$/ },
  { re: new RegExp(`^cri-containerd-${HEX64}\\.scope$`), runtime: 'containerd' },
  { re: new RegExp(`^crio-conmon-${HEX64}\\.scope$`), runtime: 'cri-o', monitor: true },
  { re: new RegExp(`^crio-${HEX64}\\.scope$`), runtime: 'cri-o' },
  { re: new RegExp(`^libpod-conmon-${HEX64}\\.scope$`), runtime: 'podman', monitor: true },
  { re: new RegExp(`^libpod-${HEX64}(?:\\.scope)?$`), runtime: 'podman' },
  // cgroupfs driver under a pod (`/kubepods/burstable/pod<uid>/<id>`): the runtime is not named.
  { re: new RegExp(`^${HEX64}$`), runtime: 'cri', parent: /^pod[0-9a-f-]{36}$/ },
];

/** systemd driver `kubepods[-qos]-pod<uid_>.slice`, cgroupfs driver `pod<uid>`. */
const POD_SYSTEMD = /^kubepods(?:-(burstable|besteffort|guaranteed))?-pod([0-9a-f_]{36})\.slice$/;
const POD_CGROUPFS = /^pod([0-9a-f-]{36})$/;
const QOS_CGROUPFS = /^(burstable|besteffort|guaranteed)$/;
const USER_SLICE = /^user-(\d+)\.slice$/;
const UNIT = /\.(service|scope)$/;

function findContainer(segs: readonly string[], p: Placement): boolean {
  for (let i = segs.length - 1; i >= 0; i--) {
    for (const pat of CONTAINER_PATTERNS) {
      const m = pat.re.exec(segs[i]);
      if (!m || (pat.parent && !(i > 0 && pat.parent.test(segs[i - 1])))) continue;
      p.runtime = pat.runtime;
      p.containerId = m[1];
      if (pat.monitor) p.monitor = true;
      return true;
    }
  }
  return false;
}

function findPod(segs: readonly string[], p: Placement): void {
  for (let i = segs.length - 1; i >= 0; i--) {
    const sd = POD_SYSTEMD.exec(segs[i]);
    if (sd) {
      p.podUid = sd[2].replace(/_/g, '-');
      p.qos = sd[1] ?? 'guaranteed';
      return;
    }
    const fs = POD_CGROUPFS.exec(segs[i]);
    if (fs && segs.slice(0, i).some((s) => s === 'kubepods' || s.startsWith('kubepods'))) {
      p.podUid = fs[1];
      const qos = i > 0 ? QOS_CGROUPFS.exec(segs[i - 1]) : null;
      p.qos = qos ? qos[1] : 'guaranteed';
      return;
    }
  }
}

/** The innermost systemd unit (`nginx.service`, `session-3.scope`, `user@1000.service`). */
function findUnit(segs: readonly string[], p: Placement): void {
  for (let i = segs.length - 1; i >= 0; i--) {
    if (!UNIT.test(segs[i])) continue;
    // `init.scope` under a unit is systemd's own child (user@.service, nspawn): name the parent.
    if (segs[i] === 'init.scope' && i > 0 && UNIT.test(segs[i - 1])) continue;
    p.unit = segs[i];
    return;
  }
}

/** What `path` (relative to the cgroup v2 root, starting with '/') says. */
export function parseCgroupPath(path: string): Placement {
  const segs = path.split('/').filter((s) => s.length > 0);
  const p: Placement = { path: segs.length ? `/${segs.join('/')}` : '/', name: '' };
  if (segs.length === 0) return p;
  for (const s of segs) {
    const u = USER_SLICE.exec(s);
    if (u) p.userUid = Number(u[1]);
  }
  const container = findContainer(segs, p);
  findPod(segs, p);
  if (container) {
    p.name = (p.monitor ? 'conmon-' : '') + p.containerId!.slice(0, 12);
    return p;
  }
  findUnit(segs, p);
  // A pod's own slice (its pause/infra processes, or a pod-level cgroup) shows the pod.
  if (p.unit) p.name = p.unit;
  else if (p.podUid) p.name = `pod-${p.podUid.slice(0, 8)}`;
  else p.name = segs[segs.length - 1];
  return p;
}

/**
 * Whether `query` names this placement: a prefix of the container id or of the pod UID, or a
 * case-insensitive substring of the shown name, the unit or the path's last segment.
 */
export function placementMatches(query: string, p: Placement | null | undefined): boolean {
  if (!p) return false;
  const q = query.toLowerCase();
  if (p.containerId?.startsWith(q)) return true;
  if (p.podUid && (p.podUid.startsWith(q) || p.podUid.replace(/-/g, '').startsWith(q.replace(/-/g, '')))) return true;
  if (p.name?.toLowerCase().includes(q)) return true;
  if (p.unit?.toLowerCase().includes(q)) return true;
  const leaf = p.path.slice(p.path.lastIndexOf('/') + 1).toLowerCase();
  return leaf.length > 0 && leaf.includes(q);
}

/**
 * Placements by cgroup id, parsed once per id: the model's rows and the exporter read them at
 * refresh. `pathOf` (the live walk, or a recording's map) may not know an id yet: asked again on
 * a later lookup (the walker rescans at most once a second). Bounded: over `max` ids, the table
 * starts over (ids come and go with containers; the walk's own cache survives).
 */
export class PlacementBook {
  private readonly byId = new Map<number, Placement>();

  constructor(private pathOf: (cgroupId: number) => string | undefined, private readonly max = 16384) {}

  /** A new source of paths (a replay's seek, another recording): forget what was parsed. */
  setResolver(pathOf: (cgroupId: number) => string | undefined): void {
    this.pathOf = pathOf;
    this.byId.clear();
  }

  /** The placement of cgroup `id`; undefined when 0 (unknown) or its path is not known. */
  get(id: number): Placement | undefined {
    if (id === 0) return undefined;
    let p = this.byId.get(id);
    if (p) return p;
    const path = this.pathOf(id);
    if (path === undefined) return undefined;
    if (this.byId.size >= this.max) this.byId.clear();
    p = parseCgroupPath(path);
    this.byId.set(id, p);
    return p;
  }
}
