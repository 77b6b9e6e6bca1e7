/**
 * chart.ts: connects, accepts, closes and errors per second over the last minute, for all
 * processes. In colour: a blessed-contrib line chart. Under NO_COLOR four same-coloured lines could
 * not be told apart, so it draws labelled text sparklines instead.
 */
import * as blessed from 'blessed';
import type * as contrib from 'blessed-contrib';
import type { ChartHistory } from '../../model/model';
import { fmtRate } from '../format';
import { esc, Theme } from './theme';

export const CHART_SECONDS = 60;

/**
 * contrib's line chart alone, loaded on first use: blessed-contrib's index loads every widget
 * (maps, markdown with esprima and cardinal, pictures, tables: ~150 modules), which cost the main
 * thread about 5 MB of heap for one chart, and nothing at all is needed under NO_COLOR.
 */
function contribLine(): typeof contrib.line {
  return require('blessed-contrib/lib/widget/charts/line') as typeof contrib.line;
}

const SERIES: { key: keyof ChartHistory; title: string; color: string }[] = [
  { key: 'connects', title: 'connects', color: 'yellow' },
  { key: 'accepts', title: 'accepts', color: 'green' },
  { key: 'closes', title: 'closes', color: 'cyan' },
  { key: 'errors', title: 'errors', color: 'red' },
];

export interface Geometry {
  top: number;
  left: number;
  width: number;
  height: number;
}

const BARS = '▁▂▃▄▅▆▇█';

/** One text sparkline: the series scaled to its own maximum, newest on the right. */
export function sparkline(values: readonly number[], width: number): string {
  const v = values.slice(-width);
  const max = Math.max(0, ...v);
  return v.map((x) => (max === 0 || x === 0 ? ' ' : BARS[Math.min(7, Math.floor((x / max) * 7.999))])).join('');
}

export function sparklineLines(h: ChartHistory, width: number): string[] {
  const labelW = 18;
  return SERIES.map(({ key, title }) => {
    const values = h[key];
    const now = values.length ? values[values.length - 1] : 0;
    const label = `${title} ${fmtRate(now)}/s`.padEnd(labelW);
    return esc(label) + esc(sparkline(values, Math.max(1, width - labelW - 2)));
  });
}

export class ChartView {
  private widget: contrib.Widgets.LineElement | blessed.Widgets.BoxElement | undefined;
  private geometry: Geometry | undefined;

  constructor(private readonly screen: blessed.Widgets.Screen, private readonly theme: Theme) {}

  /** (Re)build for a new size: contrib's canvas is sized once, when it is attached. */
  place(g: Geometry | undefined): void {
    const same = g && this.geometry && g.top === this.geometry.top && g.width === this.geometry.width
      && g.height === this.geometry.height && g.left === this.geometry.left;
    if (same && this.widget) return;
    this.widget?.destroy();
    this.widget = undefined;
    this.geometry = g;
    if (!g) return;
    const label = ` per second, all processes, last ${CHART_SECONDS} s `;
    if (this.theme.color) {
      // The legend rides in the label: contrib's legend box would cover the newest seconds.
      const legend = SERIES.map((s) => `{${s.color}-fg}${s.title}{/${s.color}-fg}`).join(' ');
      this.widget = contribLine()({
        ...g, label: `${label}${legend} `, tags: true, showLegend: false, wholeNumbersOnly: true,
        style: { line: 'yellow', text: 'white', baseline: 'white' }, xLabelPadding: 3, xPadding: 5,
        border: { type: 'line' },
      } as contrib.Widgets.LineOptions);
      this.screen.append(this.widget);
    } else {
      this.widget = blessed.box({ parent: this.screen, ...g, label, tags: true, border: { type: 'line' } });
    }
  }

  render(h: ChartHistory): void {
    const w = this.widget;
    if (!w || !this.geometry) return;
    if (!this.theme.color) {
      (w as blessed.Widgets.BoxElement).setContent(sparklineLines(h, this.geometry.width - 2).join('\n'));
      return;
    }
    const line = w as contrib.Widgets.LineElement;
    const max = Math.max(0, ...SERIES.flatMap((s) => h[s.key]));
    // contrib divides by the largest value: give an all-zero minute a scale of 0..1.
    line.options.maxY = max > 0 ? undefined : 1;
    const x = h.connects.map((_, i) => String(i - h.connects.length));
    line.setData(SERIES.map((s) => ({ title: s.title, x, y: h[s.key], style: { line: s.color } })));
  }

  setVisible(visible: boolean): void {
    if (!this.widget) return;
    if (visible) this.widget.show();
    else this.widget.hide();
  }
}
