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
import { filterSort } from '../model/query';
import { readProcDetails, ProcessDetails } from '../capture/procfs';
import { DRAIN_INTERVAL_MS, dropsPerStage, Pump } from './pump';
import type { DataSource, SourceStats } from '../source';
import { Effect, KeyInput, UiState } from './state';
import { ChartView, CHART_SECONDS, Geometry } from './views/chart';
import { detailLines, DetailView } from './views/detail';
import { FooterView } from './views/footer';
import { Cost, Frame } from './views/frame';
import { HEADER_HEIGHT, HeaderView } from './views/header';
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
  private frozenDetail: string[] | null = null;
  private lastDetails = new Map<number, ProcessDetails>();
  private costSample = { wall: process.hrtime.bigint(), cpu: process.cpuUsage(), bpfNs: 0, bpfRuns: 0 };
  private cost: Cost = { cpuPct: 0, bpfNsPerEvent: NaN, bpfCpuPct: 0 };

  constructor(private readonly source: DataSource, private readonly opts: AppOptions) {
    this.theme = opts.theme ?? Theme.fromEnv();
    this.state = opts.state;
    this.model = new SocketModel({ ...UI_MODEL_OPTIONS, ...opts.model });
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
    this.header = new HeaderView(this.screen);
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

  /** Start drawing; resolves when the user quits (q, Ctrl-C). */
  run(): Promise<void> {
    const drainMs = this.opts.drainIntervalMs ?? DRAIN_INTERVAL_MS;
    this.timers.push(setInterval(() => this.pump.drain(), drainMs));
    this.timers.push(setInterval(() => this.timedFrame(), Math.max(50, this.opts.delaySec * 1000)));
    this.pump.drain();
    this.frame();
    return this.done;
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
      default:
        this.source.control?.(effect);
    }
    this.frame();
  }

  private onPauseToggled(): void {
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
    this.model = new SocketModel({ ...UI_MODEL_OPTIONS, ...this.opts.model });
    this.pump.setModel(this.model);
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
    const f: Frame = {
      model: this.model, state: this.state, theme: this.theme, info: this.source.describe(), stats,
      drops: dropsPerStage(this.model, stats, this.source.ring.drops()),
      uptimeMs: Date.now() - this.started, cost: this.cost, width,
    };
    this.header.render(f);
    const detail = this.state.baseMode === 'detail';
    if (detail) this.drawDetail(width);
    else this.drawTable(width);
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
    const userName = (uid: number) => this.model.userName(uid);
    const rows = this.frozen
      ? filterSort(this.frozen, s.filter, s.sortKey, s.descending, this.model.now, userName)
      : this.model.query(s.filter, s.sortKey, s.descending);
    s.pageSize = this.table.pageSize;
    s.setRows(rows.map((r) => r.pid));
    const total = this.model.stats().processes;
    this.table.render({
      rows, state: s, theme: this.theme, width, ctx: { nowNs: this.model.now, userName },
      emptyText: total === 0 ? 'no socket activity seen yet' : `no process matches the filter (${s.filterText()}); Esc clears it`,
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
    const chartH = Math.max(8, Math.min(14, Math.floor((h - HEADER_HEIGHT - 1) * 0.3)));
    const mainH = h - HEADER_HEIGHT - 1 - chartH;
    setGeometry(this.table.box, { top: HEADER_HEIGHT, left: 0, width: w, height: mainH });
    setGeometry(this.detail.box, { top: HEADER_HEIGHT, left: 0, width: w, height: h - HEADER_HEIGHT - 1 });
    this.chart.place({ top: HEADER_HEIGHT + mainH, left: 0, width: w, height: chartH });
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

function setGeometry(el: blessed.Widgets.BoxElement, g: Geometry): void {
  el.top = g.top;
  el.left = g.left;
  el.width = g.width;
  el.height = g.height;
}
