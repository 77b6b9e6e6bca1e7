/**
 * state.ts: everything the TUI remembers between frames (sort, filters, selection, scroll, pause,
 * mode, the prompt being typed), and what each key does to it. Plain TypeScript, no blessed, so
 * the key map is unit-tested without a terminal; app.ts only translates blessed key events into
 * KeyInput and acts on the returned Effect.
 */
import { SORT_KEYS, SortKey } from '../model/query';
import type { ReplayAction } from '../source';
import {
  describeFilter, NO_FILTER, parsePidFilter, PidFilter, PidFilterError, RowFilter,
} from '../model/filter';
import { Families, nextFamilies } from '../model/families';

export { parsePidFilter, PidFilter, PidFilterError } from '../model/filter';

export type Mode = 'table' | 'detail' | 'help' | 'prompt';
export type PromptKind = 'pid' | 'comm';

export interface Prompt {
  kind: PromptKind;
  text: string;
  /** Inline message under the prompt after a bad entry; the prompt stays open. */
  error: string | null;
}

/** A key press: `name` as blessed names special keys (up, enter, escape, C-c...), `ch` the character. */
export interface KeyInput {
  name?: string;
  ch?: string;
}

/** What the app must do after a key: nothing, redraw now, quit, or drive the replay. */
export type Effect = 'none' | 'render' | 'quit' | ReplayAction;

/** Columns that read best largest-first when chosen; the others (names, pid, age) smallest-first. */
const ASCENDING_BY_DEFAULT: ReadonlySet<SortKey> = new Set<SortKey>(['pid', 'user', 'comm', 'age']);

export interface UiStateOptions {
  sortKey?: SortKey;
  descending?: boolean;
  pids?: PidFilter | null;
  comm?: string | null;
  families?: Families;
  /** Replay: space, +/-, arrows and g/G drive the replay clock. */
  replay?: boolean;
}

export class UiState {
  sortKey: SortKey;
  descending: boolean;
  filter: RowFilter;
  mode: Mode = 'table';
  /** The mode to return to when help or the prompt closes. */
  private returnMode: Mode = 'table';
  prompt: Prompt | null = null;
  paused = false;

  /** Selection follows the pid across re-sorts; the index is the fallback when that row goes. */
  selectedPid: number | null = null;
  selectedIndex = 0;
  scroll = 0;
  /** Rows the table shows at once (set by the view from its height). */
  pageSize = 20;
  rowCount = 0;
  private rowPids: readonly number[] = [];

  detailPid: number | null = null;
  detailScroll = 0;
  readonly replay: boolean;

  constructor(opts: UiStateOptions = {}) {
    this.sortKey = opts.sortKey ?? 'conn';
    this.descending = opts.descending ?? !ASCENDING_BY_DEFAULT.has(this.sortKey);
    this.filter = { ...NO_FILTER, pids: opts.pids ?? null, comm: opts.comm || null, families: opts.families ?? null };
    this.replay = opts.replay ?? false;
  }

  /** The view under an overlay: the help and the prompt are drawn over the table or the detail. */
  get baseMode(): 'table' | 'detail' {
    const m = this.mode === 'help' || this.mode === 'prompt' ? this.returnMode : this.mode;
    return m === 'detail' ? 'detail' : 'table';
  }

  // ------------------------------------------------------------------ rows and selection

  /**
   * Reconcile the selection with this frame's rows (in display order): keep the selected pid if it
   * is still there, else stay at the same index; then scroll so the selection is visible.
   */
  setRows(pids: readonly number[]): void {
    this.rowCount = pids.length;
    this.rowPids = pids;
    if (pids.length === 0) {
      this.selectedIndex = 0;
      this.scroll = 0;
      return;
    }
    const at = this.selectedPid === null ? -1 : pids.indexOf(this.selectedPid);
    this.selectedIndex = at >= 0 ? at : clamp(this.selectedIndex, 0, pids.length - 1);
    this.selectedPid = pids[this.selectedIndex];
    this.scrollToSelection();
  }

  /** Index range [start, end) of the rows on screen. */
  visibleRange(): [number, number] {
    return [this.scroll, Math.min(this.rowCount, this.scroll + this.pageSize)];
  }

  private move(delta: number): void {
    if (this.rowCount === 0) return;
    this.selectedIndex = clamp(this.selectedIndex + delta, 0, this.rowCount - 1);
    this.selectedPid = this.rowPids[this.selectedIndex] ?? null;
    this.scrollToSelection();
  }

  private scrollToSelection(): void {
    const page = Math.max(1, this.pageSize);
    if (this.selectedIndex < this.scroll) this.scroll = this.selectedIndex;
    if (this.selectedIndex >= this.scroll + page) this.scroll = this.selectedIndex - page + 1;
    this.scroll = clamp(this.scroll, 0, Math.max(0, this.rowCount - page));
  }

  /** Mouse click on the table's n-th visible row. */
  clickRow(visibleIndex: number): Effect {
    if (this.mode !== 'table') return 'none';
    const i = this.scroll + visibleIndex;
    if (i < 0 || i >= this.rowCount) return 'none';
    this.selectedIndex = i;
    this.selectedPid = this.rowPids[i] ?? null;
    return 'render';
  }

  /** Mouse wheel: move the selection by `lines` (negative: up). */
  wheel(lines: number): Effect {
    if (this.mode === 'detail') {
      this.detailScroll = Math.max(0, this.detailScroll + lines);
      return 'render';
    }
    if (this.mode !== 'table') return 'none';
    this.move(lines);
    return 'render';
  }

  // ------------------------------------------------------------------ keys

  handleKey(key: KeyInput): Effect {
    if (key.name === 'C-c') return 'quit';
    switch (this.mode) {
      case 'prompt': return this.promptKey(key);
      case 'help': return this.helpKey(key);
      case 'detail': return this.detailKey(key);
      default: return this.tableKey(key);
    }
  }

  private tableKey(key: KeyInput): Effect {
    const k = keyOf(key);
    switch (k) {
      case 'q': return 'quit';
      case 'up': case 'k': this.move(-1); return 'render';
      case 'down': case 'j': this.move(1); return 'render';
      case 'pageup': this.move(-this.pageSize); return 'render';
      case 'pagedown': this.move(this.pageSize); return 'render';
      case 'home': this.move(-Infinity); return 'render';
      case 'end': this.move(Infinity); return 'render';
      case 'g': if (this.replay) return 'seek-start'; this.move(-Infinity); return 'render';
      case 'G': if (this.replay) return 'seek-end'; this.move(Infinity); return 'render';
      case 'enter':
        if (this.rowCount === 0 || this.selectedPid === null) return 'none';
        this.detailPid = this.selectedPid;
        this.detailScroll = 0;
        this.mode = 'detail';
        return 'render';
      case 'p': this.openPrompt('pid'); return 'render';
      case '/': this.openPrompt('comm'); return 'render';
      case 'F': this.toggleFollow(); return 'render';
      case 'u': this.filter = { ...this.filter, families: nextFamilies(this.filter.families ?? null) }; return 'render';
      case 'escape': this.clearFilters(); return 'render';
      case 's': case '>': this.cycleSort(1); return 'render';
      case '<': this.cycleSort(-1); return 'render';
      case 'r': this.descending = !this.descending; return 'render';
      default: return this.commonKey(k);
    }
  }

  private detailKey(key: KeyInput): Effect {
    const k = keyOf(key);
    switch (k) {
      case 'escape': case 'q': case 'backspace':
        this.mode = 'table';
        return 'render';
      case 'up': case 'k': this.detailScroll = Math.max(0, this.detailScroll - 1); return 'render';
      case 'down': case 'j': this.detailScroll++; return 'render';
      case 'pageup': this.detailScroll = Math.max(0, this.detailScroll - this.pageSize); return 'render';
      case 'pagedown': this.detailScroll += this.pageSize; return 'render';
      case 'home': this.detailScroll = 0; return 'render';
      case 'g': if (this.replay) return 'seek-start'; this.detailScroll = 0; return 'render';
      case 'G': return this.replay ? 'seek-end' : 'none';
      default: return this.commonKey(k);
    }
  }

  /** Keys that work the same in the table and the detail view. */
  private commonKey(k: string): Effect {
    switch (k) {
      // A replay pauses its clock (nothing to catch up on); live, the display freezes.
      case 'space': case ' ':
        if (this.replay) return 'toggle-pause';
        this.paused = !this.paused;
        return 'render';
      case '?': case 'h': this.returnMode = this.mode; this.mode = 'help'; return 'render';
      case '+': case '=': return this.replay ? 'speed-up' : 'none';
      case '-': return this.replay ? 'speed-down' : 'none';
      case 'left': return this.replay ? 'seek-back' : 'none';
      case 'right': return this.replay ? 'seek-forward' : 'none';
      default: return 'none';
    }
  }

  private helpKey(key: KeyInput): Effect {
    const k = keyOf(key);
    if (k === 'q' || k === 'escape' || k === '?' || k === 'h' || k === 'enter' || k === 'space' || k === ' ') {
      this.mode = this.returnMode;
      return 'render';
    }
    return 'none';
  }

  private promptKey(key: KeyInput): Effect {
    const p = this.prompt!;
    switch (key.name) {
      case 'escape': this.closePrompt(); return 'render';
      case 'enter': return this.applyPrompt();
      case 'backspace': p.text = p.text.slice(0, -1); p.error = null; return 'render';
      case 'C-u': p.text = ''; p.error = null; return 'render';
      case 'return': case 'linefeed': return 'none';
      default:
        if (key.ch && key.ch.length === 1 && key.ch >= ' ' && key.ch !== '\x7f' && p.text.length < 200) {
          p.text += key.ch;
          p.error = null;
          return 'render';
        }
        return 'none';
    }
  }

  private openPrompt(kind: PromptKind): void {
    const text = kind === 'pid' ? (this.filter.pids?.text ?? '') : (this.filter.comm ?? '');
    this.prompt = { kind, text, error: null };
    this.returnMode = this.mode;
    this.mode = 'prompt';
  }

  private closePrompt(): void {
    this.prompt = null;
    this.mode = this.returnMode === 'prompt' ? 'table' : this.returnMode;
  }

  /** Enter in the prompt: apply, or keep the prompt open with the reason (never throw). */
  private applyPrompt(): Effect {
    const p = this.prompt!;
    if (p.kind === 'comm') {
      this.filter = { ...this.filter, comm: p.text.trim() || null };
    } else {
      try {
        this.filter = { ...this.filter, pids: parsePidFilter(p.text) };
      } catch (e) {
        p.error = e instanceof PidFilterError ? e.message : String(e);
        return 'render';
      }
    }
    this.closePrompt();
    this.scroll = 0;
    return 'render';
  }

  private toggleFollow(): void {
    if (this.filter.follow !== null) this.filter = { ...this.filter, follow: null };
    else if (this.selectedPid !== null) this.filter = { ...this.filter, follow: this.selectedPid };
  }

  clearFilters(): void {
    this.filter = { ...NO_FILTER };
  }

  private cycleSort(step: number): void {
    const i = SORT_KEYS.indexOf(this.sortKey);
    this.setSort(SORT_KEYS[(i + step + SORT_KEYS.length) % SORT_KEYS.length]);
  }

  setSort(key: SortKey): void {
    this.sortKey = key;
    this.descending = !ASCENDING_BY_DEFAULT.has(key);
  }

  /** One line for the header: the active filters, or '' when none. */
  filterText(): string {
    return describeFilter(this.filter);
  }
}

/** Printable characters act by themselves (so 'F' is F, '<' is <); special keys by name. */
function keyOf(key: KeyInput): string {
  if (key.name === 'space') return 'space';
  if (key.ch && key.ch.length === 1 && key.ch > ' ' && key.ch !== '\x7f') return key.ch;
  return key.name ?? '';
}

function clamp(n: number, lo: number, hi: number): number {
  return n < lo ? lo : n > hi ? hi : n;
}
