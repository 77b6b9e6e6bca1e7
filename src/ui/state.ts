/**
 * state.ts: everything the TUI remembers between frames (sort, filters, selection, scroll, pause,
 * mode, the prompt being typed), and what each key does to it. Plain TypeScript, no blessed, so
 * the key map is unit-tested without a terminal; app.ts only translates blessed key events into
 * KeyInput and acts on the returned Effect.
 */
import type { SortKey } from '../model/query';
import type { ReplayAction } from '../source';
import { nextView, viewByKey, ViewName, VIEWS } from '../model/views/registry';
import { DEFAULT_FOLD_EXITED_SEC, Drill, CommandGrouping, nextGrouping } from '../model/views';
import {
  describeFilter, NO_FILTER, parseNetns, parsePidFilter, PidFilter, PidFilterError, RowFilter,
} from '../model/filter';
import { Families, nextFamilies } from '../model/families';

export { parsePidFilter, PidFilter, PidFilterError } from '../model/filter';

export type Mode = 'table' | 'detail' | 'help' | 'prompt';
export type PromptKind = 'pid' | 'comm' | 'container' | 'netns';

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

/**
 * What the app must do after a key: nothing, redraw now, quit, drive the replay, or drill into
 * the selected row (Enter: the app knows what the row is and calls openDetail or showView).
 */
export type Effect = 'none' | 'render' | 'quit' | 'drill' | ReplayAction;

/** A row's selection key: a pid, a socket id, a command, an endpoint, a port. */
export type RowKey = number | string;

export interface UiStateOptions {
  /** The view to start in (--view). */
  view?: ViewName;
  /** Exited processes fold into their command after this many seconds (--fold-exited). */
  foldExitedSec?: number;
  sortKey?: SortKey | string;
  descending?: boolean;
  pids?: PidFilter | null;
  comm?: string | null;
  container?: string | null;
  netns?: number | null;
  families?: Families;
  /** Replay: space, +/-, arrows and g/G drive the replay clock. */
  replay?: boolean;
}

export class UiState {
  view: ViewName;
  sortKey: string;
  descending: boolean;
  /** Each view's sort, kept while another view is shown. */
  private readonly sorts = new Map<ViewName, { key: string; descending: boolean }>();
  foldExitedSec: number;
  /** Commands view: grouped by command or by user (u). */
  groupBy: CommandGrouping = 'command';
  /** Tree view: pids whose children are folded away (-), unfolded with +. */
  readonly folded = new Set<number>();
  /** Connections view narrowed to one remote endpoint or local port (Enter in remotes/listeners). */
  drill: Drill | null = null;
  filter: RowFilter;
  mode: Mode = 'table';
  /** The mode to return to when help or the prompt closes. */
  private returnMode: Mode = 'table';
  prompt: Prompt | null = null;
  paused = false;

  /** Selection follows the row's key across re-sorts; the index is the fallback when that row goes. */
  selectedKey: RowKey | null = null;
  selectedIndex = 0;
  scroll = 0;
  /** Rows the table shows at once (set by the view from its height). */
  pageSize = 20;
  rowCount = 0;
  private rowPids: readonly RowKey[] = [];

  detailPid: number | null = null;
  detailScroll = 0;
  readonly replay: boolean;

  constructor(opts: UiStateOptions = {}) {
    this.view = opts.view ?? 'processes';
    const info = VIEWS[this.view];
    this.sortKey = opts.sortKey && info.sortKeys.includes(opts.sortKey) ? opts.sortKey : info.defaultSort;
    this.descending = opts.descending ?? !info.ascending.includes(this.sortKey);
    this.foldExitedSec = opts.foldExitedSec ?? DEFAULT_FOLD_EXITED_SEC;
    this.filter = {
      ...NO_FILTER, pids: opts.pids ?? null, comm: opts.comm || null,
      ...(opts.container ? { container: opts.container } : {}), ...(opts.netns ? { netns: opts.netns } : {}),
      families: opts.families ?? null,
    };
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
  /** The selected row's key when it is a pid (processes and tree views). */
  get selectedPid(): number | null {
    return typeof this.selectedKey === 'number' ? this.selectedKey : null;
  }

  setRows(pids: readonly RowKey[]): void {
    this.rowCount = pids.length;
    this.rowPids = pids;
    if (pids.length === 0) {
      this.selectedIndex = 0;
      this.scroll = 0;
      return;
    }
    const at = this.selectedKey === null ? -1 : pids.indexOf(this.selectedKey);
    this.selectedIndex = at >= 0 ? at : clamp(this.selectedIndex, 0, pids.length - 1);
    this.selectedKey = pids[this.selectedIndex];
    this.scrollToSelection();
  }

  /** Index range [start, end) of the rows on screen. */
  visibleRange(): [number, number] {
    return [this.scroll, Math.min(this.rowCount, this.scroll + this.pageSize)];
  }

  private move(delta: number): void {
    if (this.rowCount === 0) return;
    this.selectedIndex = clamp(this.selectedIndex + delta, 0, this.rowCount - 1);
    this.selectedKey = this.rowPids[this.selectedIndex] ?? null;
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
    this.selectedKey = this.rowPids[i] ?? null;
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
        if (this.rowCount === 0 || this.selectedKey === null) return 'none';
        if (this.view === 'processes' || this.view === 'tree') return this.openDetail(this.selectedPid);
        return 'drill';
      case 'tab': this.showView(nextView(this.view, 1)); return 'render';
      case 'S-tab': this.showView(nextView(this.view, -1)); return 'render';
      case 'u':
        if (this.view !== 'commands') return 'none';
        this.groupBy = nextGrouping(this.groupBy);
        this.selectedKey = null;
        return 'render';
      case '+': case '=':
        if (this.view !== 'tree') return this.commonKey(k);
        if (this.selectedPid !== null) this.folded.delete(this.selectedPid);
        return 'render';
      case '-':
        if (this.view !== 'tree') return this.commonKey(k);
        if (this.selectedPid !== null) this.folded.add(this.selectedPid);
        return 'render';
      case 'p': this.openPrompt('pid'); return 'render';
      case '/': this.openPrompt('comm'); return 'render';
      case 'C': this.openPrompt('container'); return 'render';
      case 'N': this.openPrompt('netns'); return 'render';
      case 'F': this.toggleFollow(); return 'render';
      case 'f': this.filter = { ...this.filter, families: nextFamilies(this.filter.families ?? null) }; return 'render';
      case 'escape': this.clearFilters(); return 'render';
      case 's': case '>': this.cycleSort(1); return 'render';
      case '<': this.cycleSort(-1); return 'render';
      case 'r': this.descending = !this.descending; return 'render';
      default: {
        const view = viewByKey(k);
        if (view) {
          this.showView(view);
          return 'render';
        }
        return this.commonKey(k);
      }
    }
  }

  /** Show a process's detail (Enter on a process, a tree row, or a connection's owner). */
  openDetail(pid: number | null): Effect {
    if (pid === null) return 'none';
    this.detailPid = pid;
    this.detailScroll = 0;
    this.mode = 'detail';
    return 'render';
  }

  /** Switch to `view`, keeping each view's own sort; a drill given narrows the connections view. */
  showView(view: ViewName, drill: Drill | null = null): void {
    this.drill = drill;
    if (view === this.view) return;
    this.sorts.set(this.view, { key: this.sortKey, descending: this.descending });
    const saved = this.sorts.get(view);
    const info = VIEWS[view];
    this.view = view;
    this.sortKey = saved?.key ?? info.defaultSort;
    this.descending = saved?.descending ?? !info.ascending.includes(this.sortKey);
    this.selectedKey = null;
    this.selectedIndex = 0;
    this.scroll = 0;
    this.mode = 'table';
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
      case '+': case '=': case ']': return this.replay ? 'speed-up' : 'none';
      case '-': case '[': return this.replay ? 'speed-down' : 'none';
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
    const text = kind === 'pid' ? (this.filter.pids?.text ?? '')
      : kind === 'container' ? (this.filter.container ?? '')
        : kind === 'netns' ? (this.filter.netns ? String(this.filter.netns) : '')
          : (this.filter.comm ?? '');
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
    } else if (p.kind === 'container') {
      this.filter = { ...this.filter, container: p.text.trim() || null };
    } else {
      try {
        if (p.kind === 'netns') this.filter = { ...this.filter, netns: parseNetns(p.text) };
        else this.filter = { ...this.filter, pids: parsePidFilter(p.text) };
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
    this.drill = null;
  }

  private cycleSort(step: number): void {
    const keys = VIEWS[this.view].sortKeys;
    const i = keys.indexOf(this.sortKey);
    this.setSort(keys[(i + step + keys.length) % keys.length]);
  }

  setSort(key: string): void {
    this.sortKey = key;
    this.descending = !VIEWS[this.view].ascending.includes(key);
  }

  /** One line for the header: the active filters, or '' when none. */
  filterText(): string {
    const text = describeFilter(this.filter);
    if (!this.drill) return text;
    return text ? `${text}, ${this.drill.label}` : this.drill.label;
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
