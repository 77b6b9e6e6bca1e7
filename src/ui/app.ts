/**
 * app.ts: the TUI. One blessed screen, one key map (state.ts decides, this file acts), one render
 * timer (every --delay seconds, or at once after a key), and a drain timer that keeps moving records
 * from the ring into the model every 100 ms even while the display is paused, so nothing is lost.
 *
 * The terminal is restored in exactly one place: restoreTerminal(), which the CLI's single
 * shutdown path calls (src/cli/shutdown.ts); run() only resolves when the user quits.
 */
import * as blessed from 'blessed';
import { SocketModel, ModelOptions } from '../model/model';
import type { ProcessRow } from '../model/processes';
import { readParentPid, readProcComm, readProcDetails, ProcessDetails } from '../capture/procfs';
import { queryView, rowKeys, ViewResult } from '../model/views';
import { peersOf } from '../model/views/connections';
import { VIEW_SPECS } from './view-columns';
import { drillInto } from './drill';
import { DRAIN_INTERVAL_MS, dropsPerStage, Pump } from './pump';
import type { DataSource, SourceStats } from '../source';
import { Effect, KeyInput, UiState } from './state';
import { ChartView, CHART_SECONDS, Geometry } from './views/chart';
import { detailLines, DetailView } from './views/detail';
import { FooterView } from './views/footer';
import { Cost, Frame } from './views/frame';
import { headerHeight, HeaderView } from './views/header';
import { AlertEvaluator } from '../model/alerts/evaluator';
import type { AlertRule } from '../model/alerts/grammar';
import { HelpView } from './views/help';
import { TableView } from './views/table';
import { esc, Theme } from './views/theme';
import { alignBlessedWidths } from './blessed-width';

export const MIN_WIDTH = 80;

/**
 * The model as the TUI uses it: no global event log (nothing here shows it, and copying each
 * record into it as well as into its process's log cost a sixth of the drain rate).
 */
export const UI_MODEL_OPTIONS: Partial<ModelOptions> = { globalLogSize: 0 };
export const MIN_HEIGHT = 24;


export interface AppOptions {
  /** Seconds between frames (-d). */
  delaySec: number;
  state: UiState;
  theme?: Theme;
  model?: Partial<ModelOptions>;
  drainIntervalMs?: number;
  /** Quit by itself after this many timed frames (-n). */
  maxFrames?: number;
  /** --alert conditions: evaluated at every frame (not while paused), shown in the header. */
  alerts?: readonly AlertRule[];
  /** For tests: blessed input/output streams. */
  input?: NodeJS.ReadableStream;
  output?: NodeJS.WritableStream;
}

export class App {
  private readonly screen: blessed.Widgets.Screen;
  private readonly theme: Theme;
  private readonly state: UiState;
  private model: SocketModel;
  private readonly pump: Pump;
  private readonly header: HeaderView;
  private readonly alerts: AlertEvaluator | null;
  private readonly table: TableView;
  private readonly chart: ChartView;
  private readonly detail: DetailView;
  private readonly help: HelpView;
  private readonly footer: FooterView;
  private readonly small: blessed.Widgets.BoxElement;
  private readonly started = Date.now();
  private timers: NodeJS.Timeout[] = [];
  private restored = false;
  private quit!: () => void;
  private readonly done: Promise<void>;

  /** While paused: copies of the rows as they were, and the detail lines last shown. */
  private frozen: ProcessRow[] | null = null;
  /** The rows last drawn (Enter drills into the selected one; a pause keeps showing them). */
  private shown: ViewResult | null = null;
  /** The connections shown while paused are copies (the model reuses the entries of aged-out sockets). */
  private shownCopied = false;
  private frozenDetail: string[] | null = null;
  private lastDetails = new Map<number, ProcessDetails>();
  private costSample = { wall: process.hrtime.bigint(), cpu: process.cpuUsage(), bpfNs: 0, bpfRuns: 0 };
  private cost: Cost = { cpuPct: 0, bpfNsPerEvent: NaN, bpfCpuPct: 0 };

  constructor(private readonly source: DataSource, private readonly opts: AppOptions) {
    this.theme = opts.theme ?? Theme.fromEnv();
    this.state = opts.state;
    this.model = new SocketModel(this.modelOptions());
    this.pump = new Pump(source, this.model);
    this.done = new Promise((resolve) => (this.quit = resolve));
    // Braille charts already need a UTF-8 terminal: draw borders in Unicode too, not with the ACS
    // alternate charset, which tmux and some terminals mangle (the ncurses convention for this).
    process.env.NCURSES_NO_UTF8_ACS ??= '1';
    alignBlessedWidths(); // wide and zero-width characters as displayWidth() counts them
    this.screen = blessed.screen({
      smartCSR: true, title: 'socktop', warnings: false, fullUnicode: true, autoPadding: false,
      input: opts.input, output: opts.output,
    } as blessed.Widgets.IScreenOptions);
    this.alerts = opts.alerts?.length ? new AlertEvaluator(opts.alerts, this.model.options.rateWindowSec) : null;
    this.header = new HeaderView(this.screen, headerHeight(this.alerts !== null));
    this.table = new TableView(this.screen, (i) => this.act(this.state.clickRow(i)), (n) => this.act(this.state.wheel(n)));
    this.chart = new ChartView(this.screen, this.theme);
    this.detail = new DetailView(this.screen);
    this.footer = new FooterView(this.screen);
    this.help = new HelpView(this.screen);
    this.small = blessed.box({ parent: this.screen, top: 0, left: 0, width: '100%', height: '100%', tags: true, hidden: true });
    this.screen.on('keypress', (ch: string | undefined, key: { full?: string; name?: string } | undefined) => {
      this.onKey({ name: key?.full ?? key?.name, ch });
    });
    this.screen.on('resize', () => this.frame());
    source.onReset?.(() => this.resetModel());
  }

  /**
   * The tree view needs each process's parent: from the recording in a replay, else from /proc
   * at first sight (a short-lived process is gone by the next frame).
   */
  private modelOptions(): Partial<ModelOptions> {
    const source = this.source;
    const live = source.describe().mode === 'live';
    const parentOf = (pid: number) => source.processInfo?.(pid)?.ppid ?? (live ? readParentPid(pid) ?? null : undefined);
    return { ...UI_MODEL_OPTIONS, parentOf, ...this.opts.model };
  }

  /** Start drawing; resolves when the user quits (q, Ctrl-C). */
  run(): Promise<void> {
    const drainMs = this.opts.drainIntervalMs ?? DRAIN_INTERVAL_MS;
    this.timers.push(setInterval(() => this.pump.drain(), drainMs));
    this.timers.push(setInterval(() => this.timedFrame(), Math.max(50, this.opts.delaySec * 1000)));
    this.pump.drain();
    this.frame();
    return this.done;
  }

  /** Process rows + socket entries the model holds (src/heap-trim.ts collects when it shrinks). */
  get modelSize(): number {
    const st = this.model.stats();
    return st.processes + st.sockets;
  }

  /** The one place the terminal is given back. Idempotent; safe before run() or after an error. */
  restoreTerminal(): void {
    if (this.restored) return;
    this.restored = true;
    for (const t of this.timers) clearInterval(t);
    this.timers = [];
    try {
      this.screen.destroy();
    } catch {
      // A half-torn-down screen must not hide the error that brought us here.
    }
  }

  // ------------------------------------------------------------------ input

  private onKey(key: KeyInput): void {
    const wasPaused = this.state.paused;
    const effect = this.state.handleKey(key);
    if (this.state.paused !== wasPaused) this.onPauseToggled();
    this.act(effect);
  }

  private act(effect: Effect): void {
    switch (effect) {
      case 'quit':
        this.quit();
        return;
      case 'none':
        return;
      case 'render':
        break;
      case 'drill':
        if (this.shown) drillInto(this.shown, this.state);
        break;
      default:
        this.source.control?.(effect);
    }
    this.frame();
  }

  private onPauseToggled(): void {
    this.shownCopied = false;
    if (this.state.paused) {
      this.pump.drain();
      this.model.refresh(this.source.clockNs?.());
      this.frozen = this.model.frozenRows();
    } else {
      this.frozen = null;
      this.frozenDetail = null;
    }
  }

  private resetModel(): void {
    this.model = new SocketModel(this.modelOptions());
    this.pump.setModel(this.model);
    this.alerts?.reset();
    this.shown = null;
    this.frozen = this.state.paused ? [] : null;
  }

  // ------------------------------------------------------------------ drawing

  private timedFrames = 0;

  private timedFrame(): void {
    this.frame();
    if (this.opts.maxFrames !== undefined && ++this.timedFrames >= this.opts.maxFrames) this.quit();
  }

  private frame(): void {
    if (this.restored) return;
    this.model.setFamilies(this.state.filter.families ?? null); // --family, the u key: from now on
    this.pump.drain();
    const ok = this.layout();
    if (ok) this.draw();
    this.screen.render();
  }

  private draw(): void {
    const paused = this.state.paused;
    if (!paused) this.model.refresh(this.source.clockNs?.());
    const stats = this.source.stats();
    this.sampleCost(stats);
    const width = this.screen.width as number;
    const drops = dropsPerStage(this.model, stats, this.source.ring.drops());
    if (!paused) this.alerts?.evaluate(this.model, { drops });
    const f: Frame = {
      model: this.model, state: this.state, theme: this.theme, info: this.source.describe(), stats, drops,
      uptimeMs: Date.now() - this.started, cost: this.cost, width, alerts: this.alerts?.statuses,
    };
    const detail = this.state.baseMode === 'detail';
    if (detail) this.drawDetail(width);
    else this.drawTable(width);
    f.foldedExited = this.shown?.foldedExited;
    this.header.render(f);
    // While paused the model's "now" stands still, so the chart stays as it was (and a chart
    // rebuilt by a resize during the pause is drawn again).
    if (!detail) this.chart.render(this.model.history(CHART_SECONDS));
    if (this.state.mode === 'help') {
      this.help.box.show();
      this.help.box.setFront();
    } else {
      this.help.box.hide();
    }
    this.footer.render(this.state, this.theme, width);
  }

  private drawTable(width: number): void {
    this.detail.box.hide();
    this.table.box.show();
    this.chart.setVisible(true);
    const s = this.state;
    const model = this.model;
    const userName = (uid: number) => model.userName(uid);
    // Paused: the processes view sorts its frozen copies; the other views show their last rows.
    const keep = this.state.paused && this.shown?.view === s.view && s.view !== 'processes';
    let result = keep ? this.shown! : queryView(model, {
      view: s.view, filter: s.filter, sortKey: s.sortKey, descending: s.descending, foldExitedSec: s.foldExitedSec,
      groupBy: s.groupBy, folded: s.folded, drill: s.drill, frozen: this.frozen, nameOf: (pid) => this.nameOf(pid),
      // In order down to a page below the screen (the selection may move a page before the next frame).
      limit: Math.max(s.scroll, s.selectedIndex) + 3 * Math.max(1, this.table.pageSize),
    });
    if (keep && result.view === 'connections' && !this.shownCopied) {
      result = { ...result, rows: result.rows.map((e) => e.frozenCopy()) };
      this.shownCopied = true;
    }
    this.shown = result;
    s.pageSize = this.table.pageSize;
    s.setRows(rowKeys(result));
    const [start, end] = s.visibleRange();
    const peers = result.view === 'connections' ? peersOf(model, result.rows.slice(start, end)) : undefined;
    this.table.render({
      rows: result.rows, spec: VIEW_SPECS[result.view], state: s, theme: this.theme, width,
      ctx: { nowNs: model.now, userName, processOf: (pid) => model.process(pid), peers },
      emptyText: emptyText(result, model.stats().processes, s),
    });
  }

  private drawDetail(width: number): void {
    this.table.box.hide();
    this.chart.setVisible(false);
    this.detail.box.show();
    const pid = this.state.detailPid!;
    if (!this.frozenDetail || !this.state.paused) {
      const lines = detailLines({
        model: this.model, pid, info: this.processDetails(pid), theme: this.theme, width, nowNs: this.model.now,
      });
      this.frozenDetail = this.state.paused ? lines : null;
      this.state.detailScroll = this.detail.render(lines, this.state.detailScroll);
    } else {
      this.state.detailScroll = this.detail.render(this.frozenDetail, this.state.detailScroll);
    }
  }

  /** A process's name (a tree's parent that used no socket): from the recording, or /proc live. */
  private nameOf(pid: number): string | undefined {
    return this.source.processInfo?.(pid)?.comm ?? (this.source.describe().mode === 'live' ? readProcComm(pid) : undefined);
  }

  /** From the source (a replay's recorded metadata) or /proc (live); the last known once it is gone. */
  private processDetails(pid: number): ProcessDetails | undefined {
    const fresh = this.source.processInfo?.(pid)
      ?? (this.source.describe().mode === 'live' ? readProcDetails(pid) : undefined);
    if (fresh) this.lastDetails.set(pid, fresh);
    return fresh ?? this.lastDetails.get(pid);
  }

  /** Place the widgets for the current size; false (and a message) when the terminal is too small. */
  private layout(): boolean {
    const w = this.screen.width as number;
    const h = this.screen.height as number;
    const tooSmall = w < MIN_WIDTH || h < MIN_HEIGHT;
    for (const el of [this.header.box, this.table.box, this.footer.box]) el.hidden = tooSmall;
    if (tooSmall) {
      this.detail.box.hide();
      this.help.box.hide();
      this.chart.place(undefined);
      this.small.setContent(esc(`socktop needs a terminal of at least ${MIN_WIDTH}x${MIN_HEIGHT} (this one is ${w}x${h}).\n`
        + 'Make the window larger, or press q to quit.'));
      this.small.show();
      this.small.setFront();
      return false;
    }
    this.small.hide();
    const top = this.header.height;
    const chartH = Math.max(8, Math.min(14, Math.floor((h - top - 1) * 0.3)));
    const mainH = h - top - 1 - chartH;
    setGeometry(this.table.box, { top, left: 0, width: w, height: mainH });
    setGeometry(this.detail.box, { top, left: 0, width: w, height: h - top - 1 });
    this.chart.place({ top: top + mainH, left: 0, width: w, height: chartH });
    return true;
  }

  private sampleCost(stats: SourceStats | undefined): void {
    const wall = process.hrtime.bigint();
    const wallNs = Number(wall - this.costSample.wall);
    if (wallNs < 2e8) return; // a key-driven frame right after a timed one: keep the last figures
    const cpu = process.cpuUsage(this.costSample.cpu);
    let bpfNs = 0;
    let bpfRuns = 0;
    for (const p of stats?.programs ?? []) {
      bpfNs += p.runTimeNs;
      bpfRuns += p.runCount;
    }
    const dNs = bpfNs - this.costSample.bpfNs;
    const dRuns = bpfRuns - this.costSample.bpfRuns;
    this.cost = {
      cpuPct: ((cpu.user + cpu.system) * 1000 / wallNs) * 100,
      bpfNsPerEvent: bpfRuns > 0 ? (dRuns > 0 ? dNs / dRuns : this.cost.bpfNsPerEvent || 0) : NaN,
      bpfCpuPct: bpfRuns > 0 ? (dNs / wallNs) * 100 : 0,
    };
    this.costSample = { wall, cpu: process.cpuUsage(), bpfNs, bpfRuns };
  }
}

function emptyText(result: ViewResult, processes: number, s: UiState): string {
  const filter = s.filterText();
  if (filter) return `nothing matches the filter (${filter}); Esc clears it`;
  if (result.foldedExited > 0 && (result.view === 'processes' || result.view === 'tree')) {
    return `every process seen has exited: folded into its command (2: commands view; --fold-exited ${s.foldExitedSec} s)`;
  }
  if (processes === 0 && result.view !== 'commands') return 'no socket activity seen yet';
  switch (result.view) {
    case 'remotes': return 'no outgoing connection seen yet';
    case 'listeners': return 'no listening port seen yet';
    case 'connections': return 'no socket held (closed ones go after 10 s)';
    default: return 'no socket activity seen yet';
  }
}

function setGeometry(el: blessed.Widgets.BoxElement, g: Geometry): void {
  el.top = g.top;
  el.left = g.left;
  el.width = g.width;
  el.height = g.height;
}
