/**
 * place-labels.ts: the `container` and `pod_uid` label values of a record's cgroup, as a small
 * index (comm-labels.ts keys its slots by comm and this index). Index 0 is "no label" (the host's
 * root cgroup, or a cgroup whose path is not known yet: asked again on a later record; the live
 * walk rescans at most once a second). Bounded: at most MAX_PLACES distinct values; beyond them a
 * new place is labelled "~other" (index 1). The series bound does not depend on it: slots are.
 */
import { Offset } from '../capture/layout';
import { PlacementBook } from '../model/container';

export const MAX_PLACES = 4096;
export const OTHER_PLACE = 1;
const MAX_CGROUPS = 16384;
const TWO32 = 4294967296;

export interface PlaceLabel {
  container: string;
  pod_uid: string;
}

export class PlaceLabels {
  private readonly book: PlacementBook;
  private readonly byCgroup = new Map<number, number>();
  private readonly byValue = new Map<string, number>();
  private readonly values: PlaceLabel[] = [{ container: '', pod_uid: '' }, { container: '~other', pod_uid: '' }];

  constructor(pathOf: (cgroupId: number) => string | undefined = () => undefined) {
    this.book = new PlacementBook(pathOf, MAX_CGROUPS);
  }

  /** The place index of the record's cgroup id (0: none). */
  ofRecord(view: DataView, off: number): number {
    const id = view.getUint32(off + Offset.cgroup_id + 4, true) * TWO32 + view.getUint32(off + Offset.cgroup_id, true);
    if (id === 0) return 0;
    const known = this.byCgroup.get(id);
    if (known !== undefined) return known;
    const p = this.book.get(id);
    if (p === undefined) return 0; // path not known yet
    const label: PlaceLabel = { container: p.name, pod_uid: p.podUid ?? '' };
    const key = `${label.container}\u0000${label.pod_uid}`;
    let idx = label.container === '' && label.pod_uid === '' ? 0 : this.byValue.get(key);
    if (idx === undefined) {
      if (this.values.length >= MAX_PLACES) idx = OTHER_PLACE;
      else {
        idx = this.values.length;
        this.values.push(label);
        this.byValue.set(key, idx);
      }
    }
    if (this.byCgroup.size >= MAX_CGROUPS) this.byCgroup.clear();
    this.byCgroup.set(id, idx);
    return idx;
  }

  label(idx: number): PlaceLabel {
    return this.values[idx] ?? this.values[0];
  }

  /** Distinct container/pod label values held (at most MAX_PLACES). */
  get size(): number {
    return this.values.length - 2;
  }
}
