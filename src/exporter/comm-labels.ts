/**
 * comm-labels.ts: which `comm` label (and `container`, `pod_uid`: place-labels.ts) a record gets,
 * with the number of label values bounded. A slot is a command name in a place (a container, a
 * systemd unit, the host): the N most active (comm, place) pairs get their own labels; everything else
 * shares OTHER_SLOT ("~other"), records with no owner UNKNOWN_SLOT ("~unknown"). A fork bomb or a
 * scan from thousands of distinct names therefore adds no series beyond the N slots.
 *
 * Admission: a name gets a free slot at once (so a quiet machine labels everything from its first
 * event). Once the slots are full, rerank() (called before a scrape, at most every
 * RERANK_INTERVAL_MS) gives a slot to a name whose decayed activity is more than twice that of the
 * least active labelled one; that name's counters start from zero (a new series), the demoted
 * name's series ends and its counts move to ~other (aggregator.ts). Every series is a monotonic
 * counter, and so is every sum over comm.
 *
 * Cost: a direct-mapped cache on the comm's four 32-bit words and the place's index answers most
 * records without a string; a miss decodes the name once (a few per second in a storm of one program).
 */
import { COMM_LEN, Offset } from '../capture/layout';
import { decodeUtf8 } from '../model/text';

export const OTHER_SLOT = 0;
export const UNKNOWN_SLOT = 1;
export const FIRST_COMM_SLOT = 2;
export const OTHER_LABEL = '~other';
export const UNKNOWN_LABEL = '~unknown';

export const RERANK_INTERVAL_MS = 10_000;
/** A challenger needs more than this times the activity of the labelled name it replaces. */
const HYSTERESIS = 2;
const CACHE_SIZE = 1024;
/** Words per candidate: the comm's four, then its place index (place-labels.ts). */
const STRIDE = 5;

export interface SlotListener {
  /** A slot changes hands: its counters must start from zero. */
  slotReassigned(slot: number): void;
}

export class CommLabels {
  /** Labelled names at most (the --top-comms flag). */
  readonly topN: number;
  /** Names tracked at most (labelled or candidates for a label). */
  readonly capacity: number;
  private readonly words: Uint32Array;
  private readonly score: Float64Array;
  /** Candidate -> its slot, or -1 (counted under ~other). */
  private readonly slotOf: Int32Array;
  private readonly names: string[];
  /** Candidate -> its key in `index` (the name, with its place when it has one). */
  private readonly keys: string[];
  private readonly index = new Map<string, number>();
  private readonly freeCandidates: number[] = [];
  private readonly freeSlots: number[] = [];
  /** Slot -> its label (index: slot number). */
  private readonly slotNames: string[];
  /** Slot -> the place index of its label (0: none). */
  private readonly slotPlaces: Int32Array;
  /** Direct-mapped cache: hash of the words -> candidate (-1 empty). */
  private readonly cache = new Int32Array(CACHE_SIZE).fill(-1);
  private readonly scratch = new DataView(new ArrayBuffer(COMM_LEN));
  private lastRerankMs = -Infinity;
  /** Times a slot changed hands (rerank), for the exporter's own health metrics. */
  reassignments = 0;

  constructor(topN: number, private readonly listener?: SlotListener) {
    this.topN = topN;
    this.capacity = Math.max(4 * topN, 256);
    this.words = new Uint32Array(this.capacity * STRIDE);
    this.score = new Float64Array(this.capacity);
    this.slotOf = new Int32Array(this.capacity).fill(-1);
    this.names = new Array<string>(this.capacity).fill('');
    this.keys = new Array<string>(this.capacity).fill('');
    for (let i = this.capacity - 1; i >= 0; i--) this.freeCandidates.push(i);
    for (let s = FIRST_COMM_SLOT + topN - 1; s >= FIRST_COMM_SLOT; s--) this.freeSlots.push(s);
    this.slotNames = [OTHER_LABEL, UNKNOWN_LABEL];
    for (let s = 0; s < topN; s++) this.slotNames.push('');
    this.slotPlaces = new Int32Array(FIRST_COMM_SLOT + topN);
  }

  /** Slots in all (counter rows): ~other, ~unknown and the N comm slots. */
  get slotCount(): number {
    return FIRST_COMM_SLOT + this.topN;
  }

  /** The label of `slot` ('' for a comm slot not in use). */
  label(slot: number): string {
    return this.slotNames[slot] ?? '';
  }

  /** The place index of `slot`'s label (0: no container label). */
  placeOf(slot: number): number {
    return this.slotPlaces[slot] ?? 0;
  }

  /** Names tracked now. */
  get tracked(): number {
    return this.index.size;
  }

  /** The slot of the record's comm in place `place`, counting one unit of activity for it. */
  slotFor(view: DataView, off: number, place = 0): number {
    const c = off + Offset.comm;
    return this.slotForWords(view.getUint32(c, true), view.getUint32(c + 4, true),
      view.getUint32(c + 8, true), view.getUint32(c + 12, true), true, place);
  }

  /** The slot of a comm given as its four words (and a place index); `count` adds activity (lookups for gauges do not). */
  slotForWords(w0: number, w1: number, w2: number, w3: number, count: boolean, place = 0): number {
    if (w0 === 0) return UNKNOWN_SLOT; // empty comm: the kernel did not know the owner
    const h = (Math.imul(w0 ^ Math.imul(w1, 0x9e3779b1) ^ Math.imul(w2, 0x85ebca6b) ^ Math.imul(w3 ^ Math.imul(place, 0x165667b1), 0xc2b2ae35), 0x27d4eb2f) >>> 22) & (CACHE_SIZE - 1);
    let cand = this.cache[h];
    if (cand < 0 || !this.sameWords(cand, w0, w1, w2, w3, place)) {
      cand = this.lookup(w0, w1, w2, w3, place, count);
      if (cand < 0) return OTHER_SLOT;
      this.cache[h] = cand;
    }
    if (count) this.score[cand] += 1;
    const slot = this.slotOf[cand];
    return slot < 0 ? OTHER_SLOT : slot;
  }

  /**
   * Give slots to names that became more active than labelled ones (see the file comment). Runs
   * at most every RERANK_INTERVAL_MS; halves every activity score, so "active" means recently.
   */
  rerank(nowMs: number): void {
    if (nowMs - this.lastRerankMs < RERANK_INTERVAL_MS) return;
    this.lastRerankMs = nowMs;
    const labelled: number[] = [];
    const waiting: number[] = [];
    for (const cand of this.index.values()) (this.slotOf[cand] >= 0 ? labelled : waiting).push(cand);
    labelled.sort((a, b) => this.score[a] - this.score[b]);
    waiting.sort((a, b) => this.score[b] - this.score[a]);
    for (let i = 0; i < Math.min(labelled.length, waiting.length); i++) {
      const out = labelled[i];
      const inn = waiting[i];
      if (this.score[inn] <= HYSTERESIS * this.score[out] + 1) break;
      this.giveSlot(inn, this.slotOf[out]);
      this.slotOf[out] = -1;
      this.reassignments++;
    }
    for (const cand of this.index.values()) this.score[cand] /= 2;
  }

  private sameWords(cand: number, w0: number, w1: number, w2: number, w3: number, place: number): boolean {
    const w = this.words;
    const i = cand * STRIDE;
    return w[i] === w0 && w[i + 1] === w1 && w[i + 2] === w2 && w[i + 3] === w3 && w[i + 4] === place;
  }

  /** The candidate holding these words; a new one when `insert` (may evict the least active). */
  private lookup(w0: number, w1: number, w2: number, w3: number, place: number, insert: boolean): number {
    const name = this.decode(w0, w1, w2, w3);
    const key = place === 0 ? name : `${name}\u0000${place}`;
    const known = this.index.get(key);
    if (known !== undefined) return known;
    if (!insert) return -1;
    const cand = this.freeCandidates.pop() ?? this.evictLeastActive();
    if (cand < 0) return -1;
    const i = cand * STRIDE;
    this.words[i] = w0;
    this.words[i + 1] = w1;
    this.words[i + 2] = w2;
    this.words[i + 3] = w3;
    this.words[i + 4] = place;
    this.keys[cand] = key;
    this.names[cand] = name;
    this.score[cand] = 0;
    this.slotOf[cand] = -1;
    this.index.set(key, cand);
    const slot = this.freeSlots.pop();
    if (slot !== undefined) this.giveSlot(cand, slot);
    return cand;
  }

  private giveSlot(cand: number, slot: number): void {
    this.slotOf[cand] = slot;
    this.slotNames[slot] = this.names[cand];
    this.slotPlaces[slot] = this.words[cand * STRIDE + 4];
    this.listener?.slotReassigned(slot);
  }

  /** Forget the least active name without a slot; -1 if every tracked name has one. */
  private evictLeastActive(): number {
    let victim = -1;
    for (const cand of this.index.values()) {
      if (this.slotOf[cand] >= 0) continue;
      if (victim < 0 || this.score[cand] < this.score[victim]) victim = cand;
    }
    if (victim >= 0) {
      this.index.delete(this.keys[victim]);
      this.words[victim * STRIDE] = 0; // cache entries still pointing here now miss (no comm starts with 0)
    }
    return victim;
  }

  private decode(w0: number, w1: number, w2: number, w3: number): string {
    const s = this.scratch;
    s.setUint32(0, w0, true);
    s.setUint32(4, w1, true);
    s.setUint32(8, w2, true);
    s.setUint32(12, w3, true);
    return decodeUtf8(s, 0, COMM_LEN, COMM_LEN - 1);
  }
}
