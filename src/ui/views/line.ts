/**
 * line.ts: builds one tagged line while counting its visible width, so parts can be right-aligned
 * and cut to the screen without counting characters inside tags. Text goes through showText()
 * (a name, a host, a path may hold controls) and counts by display width.
 */
import { displayWidth, showText } from '../../model/text';
import { esc } from './theme';

export class Line {
  private text = '';
  length = 0;

  /** Plain text (escaped here), optionally wrapped by a tag function after escaping. */
  add(plain: string, style?: (escaped: string) => string): this {
    const shown = showText(plain);
    const e = esc(shown);
    this.text += style ? style(e) : e;
    this.length += displayWidth(shown);
    return this;
  }

  /** The line padded so `right` ends at `width` (at least one space between). */
  withRight(right: Line, width: number): string {
    const gap = Math.max(1, width - this.length - right.length);
    return this.text + ' '.repeat(gap) + right.text;
  }

  toString(): string {
    return this.text;
  }
}
