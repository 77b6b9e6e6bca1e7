/**
 * json-place.ts: what --json adds about where an event happened, beyond the record's own
 * "netns" and "cgroup_id": the container, pod or unit its cgroup names ("container",
 * "container_id", "pod_uid"), and the --container / --netns filters.
 *
 * Cheap on the hot path: one Map lookup per record. The JSON fragment and the filter's verdict are
 * built once per cgroup id; an id whose path is not known yet is asked again (the live walk
 * rescans at most once a second) and gets no fragment meanwhile.
 */
import { Offset } from './layout';
import { Placement, PlacementBook, placementMatches } from '../model/container';

const MAX_IDS = 16384;
const TWO32 = 4294967296;

/** `,"container":"…","container_id":"…","pod_uid":"…"` (the keys that apply), '' for the host root. */
export function placeFragment(p: Placement): string {
  if (!p.name) return '';
  let s = `,"container":${JSON.stringify(p.name)}`;
  if (p.containerId) s += `,"container_id":"${p.containerId}"`;
  if (p.podUid) s += `,"pod_uid":"${p.podUid}"`;
  return s;
}

export class JsonPlaces {
  private readonly book: PlacementBook;
  private readonly fragments = new Map<number, string>();
  private readonly verdicts = new Map<number, boolean>();

  constructor(
    pathOf: ((cgroupId: number) => string | undefined) | undefined,
    private readonly container: string | null,
    private readonly netns: number | null,
  ) {
    this.book = new PlacementBook(pathOf ?? (() => undefined), MAX_IDS);
  }

  /** The record passes --container and --netns (records without a cgroup id fail --container). */
  matches(view: DataView, off: number): boolean {
    if (this.netns !== null && view.getUint32(off + Offset.netns, true) !== this.netns) return false;
    if (this.container === null) return true;
    const id = cgroupIdOf(view, off);
    let ok = this.verdicts.get(id);
    if (ok === undefined) {
      const p = this.book.get(id);
      if (p === undefined) return false; // not known (yet): asked again next time
      ok = placementMatches(this.container, p);
      if (this.verdicts.size >= MAX_IDS) this.verdicts.clear();
      this.verdicts.set(id, ok);
    }
    return ok;
  }

  /** The JSON keys naming the record's container ('' when none or not known). */
  fragment(view: DataView, off: number): string {
    const id = cgroupIdOf(view, off);
    if (id === 0) return '';
    let s = this.fragments.get(id);
    if (s === undefined) {
      const p = this.book.get(id);
      if (p === undefined) return '';
      s = placeFragment(p);
      if (this.fragments.size >= MAX_IDS) this.fragments.clear();
      this.fragments.set(id, s);
    }
    return s;
  }
}

function cgroupIdOf(view: DataView, off: number): number {
  return view.getUint32(off + Offset.cgroup_id + 4, true) * TWO32 + view.getUint32(off + Offset.cgroup_id, true);
}
