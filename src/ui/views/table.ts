/**
 * table.ts: the process table. Only the rows on screen get display strings, so 10k processes
 * cost a sort and a slice, not 10k formatted lines.
 */
import * as blessed from 'blessed';
import type { ProcessRow } from '../../model/processes';
import { CellContext, headerLine, layoutColumns, PlacedColumn, rowCells } from '../columns';
import type { UiState } from '../state';
import { esc, Theme } from './theme';
import { displayWidth } from '../../model/text';

export interface TableInput {
  rows: readonly ProcessRow[];
  state: UiState;
  theme: Theme;
  ctx: CellContext;
  width: number;
  /** Why the table is empty, when it is. */
  emptyText: string;
}

/** Header line plus one line per visible row, tagged for blessed. */
export function tableLines(t: TableInput): string[] {
  const placed = layoutColumns(t.width);
  const head = headerLine(placed, t.state.sortKey, t.state.descending);
  const lines = [t.theme.inverse(t.theme.bold(esc(head.padEnd(t.width))))];
  if (t.rows.length === 0) {
    lines.push(esc(t.emptyText));
    return lines;
  }
  const [start, end] = t.state.visibleRange();
  for (let i = start; i < end; i++) {
    lines.push(rowLine(t.rows[i], placed, t, i === t.state.selectedIndex));
  }
  return lines;
}

function rowLine(row: ProcessRow, placed: PlacedColumn[], t: TableInput, selected: boolean): string {
  const th = t.theme;
  const cells = rowCells(row, placed, t.ctx);
  const parts = cells.map((text, i) => {
    const id = placed[i].col.id;
    const e = esc(text);
    if (id === 'err' && row.errors > 0) return th.fg('red', e);
    if (id === 'fail' && row.failTotal > 0) return th.fg('red', e);
    if ((id === 'queue' || id === 'ovfl') && row.queueAlarm) return th.bold(th.fg('red', e));
    if (id === 'listen' && row.listen?.size) return th.fg('cyan', e);
    if (id === 's' && row.exited) return th.bold(e);
    return e;
  });
  let line = parts.join(' ');
  const plainLen = cells.reduce((n, c) => n + displayWidth(c) + 1, -1);
  if (plainLen < t.width) line += ' '.repeat(t.width - plainLen);
  if (row.exited) line = th.fg('gray', line);
  // A server not keeping up (queue full, overflowing, or nobody accepting): the whole row lights up.
  else if (row.queueAlarm && !selected) line = th.bold(th.fg('red', line));
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

  render(input: TableInput): void {
    this.box.setContent(tableLines(input).join('\n'));
  }
}
