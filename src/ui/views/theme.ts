/**
 * theme.ts: blessed tag helpers that honour NO_COLOR (https://no-color.org): without colour, the
 * same screens use only bold / inverse / underline, which NO_COLOR allows.
 */

export type Color = 'red' | 'green' | 'yellow' | 'blue' | 'magenta' | 'cyan' | 'white' | 'gray';

export class Theme {
  constructor(readonly color: boolean) {}

  static fromEnv(env: NodeJS.ProcessEnv = process.env): Theme {
    return new Theme(!env.NO_COLOR);
  }

  fg(color: Color, text: string): string {
    return this.color && text ? `{${color}-fg}${text}{/${color}-fg}` : text;
  }

  bold(text: string): string {
    return text ? `{bold}${text}{/bold}` : text;
  }

  inverse(text: string): string {
    return `{inverse}${text}{/inverse}`;
  }

  underline(text: string): string {
    return `{underline}${text}{/underline}`;
  }
}

/** Escape text for a tags:true box: braces in a comm or an address must not become tags. */
export function esc(text: string): string {
  return text.replace(/[{}]/g, (c) => (c === '{' ? '{open}' : '{close}'));
}
