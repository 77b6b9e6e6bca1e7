/**
 * table.ts: the table of any view (processes, commands, tree, connections...), drawn from the
 * view's ViewSpec (view-columns.ts). Only the rows on screen get display strings, so 10k processes
 * or 100k sockets cost a sort and a slice, not 100k formatted lines.
 */
import * as blessed from 'blessed';
import { CellContext, headerLine, layoutColumns, PlacedColumn, rowCells } from '../columns';
import type { UiState } from '../state';
import { esc, Theme } from './theme';
import { displayWidth } from '../../model/text';
import { PROCESS_SPEC, ViewSpec } from '../view-columns';

export interface TableInput<R = unknown> {
  rows: readonly R[];
  /** The view's columns and looks (default: the processes view). */
  spec?: ViewSpec<R>;
  state: UiState;
  theme: Theme;
  ctx: CellContext;
  width: number;
  /** Why the table is empty, when it is. */
  emptyText: string;
}

/** Header line plus one line per visible row, tagged for blessed. */
export function tableLines<R>(t: TableInput<R>): string[] {
  const spec = t.spec ?? (PROCESS_SPEC as unknown as ViewSpec<R>);
  const placed = layoutColumns(t.width, spec.columns, spec.commWidth);
  const head = headerLine(placed, t.state.sortKey, t.state.descending);
  const lines = [t.theme.inverse(t.theme.bold(esc(head.padEnd(t.width))))];
  if (t.rows.length === 0) {
    lines.push(esc(t.emptyText));
    return lines;
  }
  const [start, end] = t.state.visibleRange();
  for (let i = start; i < end; i++) {
    lines.push(rowLine(t.rows[i], placed, spec, t, i === t.state.selectedIndex));
  }
  return lines;
}

function rowLine<R>(row: R, placed: PlacedColumn<R>[], spec: ViewSpec<R>, t: TableInput<R>, selected: boolean): string {
  const th = t.theme;
  const cells = rowCells(row, placed, t.ctx);
  const dim = spec.dim(row);
  const parts = cells.map((text, i) => {
    const id = placed[i].col.id;
    const e = esc(text);
    const color = spec.color?.(id, row);
    if (color) return th.fg(color, e);
    if (id === 's' && dim) return th.bold(e);
    return e;
  });
  let line = parts.join(' ');
  const plainLen = cells.reduce((n, c) => n + displayWidth(c) + 1, -1);
  if (plainLen < t.width) line += ' '.repeat(t.width - plainLen);
  if (dim) line = th.fg('gray', line);
  // A server not keeping up (queue full, overflowing, or nobody accepting): the whole row lights up.
  else if (!selected && spec.alarm?.(row)) line = th.bold(th.fg('red', line));
  return selected ? th.inverse(line) : line;
}

export class TableView {
  readonly box: blessed.Widgets.BoxElement;

  /** onClick gets the index among visible rows; onWheel +1 / -1 lines. */
  constructor(screen: blessed.Widgets.Screen, onClick: (visibleRow: number) => void, onWheel: (lines: number) => void) {
    this.box = blessed.box({ parent: screen, tags: true, wrap: false, clickable: true } as blessed.Widgets.BoxOptions);
    this.box.on('click', (data: { y: number }) => onClick(data.y - (this.box.atop as number) - 1));
    this.box.on('wheeldown', () => onWheel(3));
    this.box.on('wheelup', () => onWheel(-3));
  }

  /** Rows that fit below the column header. */
  get pageSize(): number {
    return Math.max(1, (this.box.height as number) - 1);
  }

  render<R>(input: TableInput<R>): void {
    this.box.setContent(tableLines(input).join('\n'));
  }
}
