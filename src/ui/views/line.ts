/**
 * line.ts: builds one tagged line while counting its visible width, so parts can be right-aligned
 * and cut to the screen without counting characters inside tags.
 */
import { esc } from './theme';

export class Line {
  private text = '';
  length = 0;

  /** Plain text (escaped here), optionally wrapped by a tag function after escaping. */
  add(plain: string, style?: (escaped: string) => string): this {
    const e = esc(plain);
    this.text += style ? style(e) : e;
    this.length += plain.length;
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
