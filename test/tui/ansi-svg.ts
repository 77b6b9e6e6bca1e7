/**
 * ansi-svg.ts: render a terminal screen captured with escape sequences (`tmux capture-pane -e -p`)
 * as an SVG image, for the screenshots in screenshots/ (test/tui/screenshots.ts).
 *
 * Understood: SGR 0 (reset), 1 bold, 2 dim, 3 italic, 4 underline, 7 inverse, 9 strike and their
 * resets (21/22 23 24 27 29), colours 30-37 / 90-97 / 40-47 / 100-107, 38;5;N and 48;5;N (the
 * 256-colour palette), 38;2;R;G;B and 48;2;R;G;B, 39 and 49. Other escape sequences are skipped.
 * tmux carries attributes over from one line to the next, so the state does too.
 *
 * Every character sits on a fixed cell grid (its x position is given explicitly, so the font's
 * advance width does not matter), and the characters that a terminal draws itself rather than
 * from the font are drawn as shapes, so they join up and look the same in every SVG renderer:
 * light box drawing (─│┌┐└┘├┤┬┴┼ and the rounded corners), block elements (█, ░▒▓, ▁..▇) and
 * braille patterns (U+2800-28FF, the charts' dots).
 */

export interface Style {
  /** Colour index 0-255, an '#rrggbb' string, or null for the default. */
  fg: number | string | null;
  bg: number | string | null;
  bold: boolean;
  dim: boolean;
  italic: boolean;
  underline: boolean;
  inverse: boolean;
  strike: boolean;
}

export interface Cell {
  ch: string;
  style: Style;
}

export interface Theme {
  background: string;
  foreground: string;
  /** The 16 ANSI colours: black red green yellow blue magenta cyan white, then the bright ones. */
  ansi: readonly string[];
  fontFamily: string;
  fontSize: number;
  /** Cell size in px. */
  cellWidth: number;
  cellHeight: number;
  padding: number;
}

/** A dark theme close to common terminal defaults (the VS Code terminal's palette). */
export const DARK: Theme = {
  background: '#1e1e1e',
  foreground: '#d4d4d4',
  ansi: [
    '#000000', '#cd3131', '#0dbc79', '#e5e510', '#2472c8', '#bc3fbc', '#11a8cd', '#e5e5e5',
    '#666666', '#f14c4c', '#23d18b', '#f5f543', '#3b8eea', '#d670d6', '#29b8db', '#ffffff',
  ],
  fontFamily: "'DejaVu Sans Mono', 'Menlo', 'Consolas', 'Liberation Mono', monospace",
  fontSize: 14,
  cellWidth: 8.4,
  cellHeight: 18,
  padding: 12,
};

export function defaultStyle(): Style {
  return { fg: null, bg: null, bold: false, dim: false, italic: false, underline: false, inverse: false, strike: false };
}

// ------------------------------------------------------------------------------------- parsing

/** Apply one SGR parameter list (the numbers between ESC[ and m) to `s`. */
export function applySgr(s: Style, params: number[]): void {
  if (params.length === 0) params = [0];
  for (let i = 0; i < params.length; i++) {
    const p = params[i];
    if (p === 0) Object.assign(s, defaultStyle());
    else if (p === 1) s.bold = true;
    else if (p === 2) s.dim = true;
    else if (p === 3) s.italic = true;
    else if (p === 4) s.underline = true;
    else if (p === 7) s.inverse = true;
    else if (p === 9) s.strike = true;
    else if (p === 21 || p === 22) s.bold = s.dim = false;
    else if (p === 23) s.italic = false;
    else if (p === 24) s.underline = false;
    else if (p === 27) s.inverse = false;
    else if (p === 29) s.strike = false;
    else if (p >= 30 && p <= 37) s.fg = p - 30;
    else if (p >= 90 && p <= 97) s.fg = p - 90 + 8;
    else if (p >= 40 && p <= 47) s.bg = p - 40;
    else if (p >= 100 && p <= 107) s.bg = p - 100 + 8;
    else if (p === 39) s.fg = null;
    else if (p === 49) s.bg = null;
    else if (p === 38 || p === 48) {
      let color: number | string | null = null;
      if (params[i + 1] === 5 && i + 2 < params.length) {
        color = params[i + 2] & 255;
        i += 2;
      } else if (params[i + 1] === 2 && i + 4 < params.length) {
        color = '#' + params.slice(i + 2, i + 5).map((v) => (v & 255).toString(16).padStart(2, '0')).join('');
        i += 4;
      } else {
        break; // malformed: ignore the rest
      }
      if (p === 38) s.fg = color;
      else s.bg = color;
    }
  }
}

/**
 * Parse captured screen text into rows of cells, `cols` wide and `rows` high (blank cells in the
 * default style where the capture stops short).
 */
export function parseScreen(text: string, cols: number, rows: number): Cell[][] {
  const style = defaultStyle();
  const grid: Cell[][] = [];
  const lines = text.replace(/\r/g, '').split('\n');
  for (let y = 0; y < rows; y++) {
    const row: Cell[] = [];
    const line = lines[y] ?? '';
    for (let i = 0; i < line.length;) {
      const c = line[i];
      if (c === '\x1b') {
        const m = /^\x1b\[([0-9;:]*)([A-Za-z])/.exec(line.slice(i, i + 64));
        if (m) {
          if (m[2] === 'm') applySgr(style, m[1] === '' ? [] : m[1].split(/[;:]/).map((v) => (v === '' ? 0 : Number(v))));
          i += m[0].length;
          continue;
        }
        const osc = /^\x1b\][^\x07\x1b]*(\x07|\x1b\\)/.exec(line.slice(i));
        i += osc ? osc[0].length : 2;
        continue;
      }
      const cp = line.codePointAt(i)!;
      const ch = String.fromCodePoint(cp);
      i += ch.length;
      if (cp < 0x20) continue;
      if (row.length < cols) row.push({ ch, style: { ...style } });
      // A double-width character takes the next cell too.
      if (isWide(cp) && row.length < cols) row.push({ ch: '', style: { ...style } });
    }
    while (row.length < cols) row.push({ ch: ' ', style: defaultStyle() });
    grid.push(row);
  }
  return grid;
}

/** East Asian wide and emoji ranges (enough for what a terminal UI shows). */
export function isWide(cp: number): boolean {
  return (cp >= 0x1100 && cp <= 0x115f) || (cp >= 0x2e80 && cp <= 0xa4cf && cp !== 0x303f)
    || (cp >= 0xac00 && cp <= 0xd7a3) || (cp >= 0xf900 && cp <= 0xfaff) || (cp >= 0xfe30 && cp <= 0xfe4f)
    || (cp >= 0xff00 && cp <= 0xff60) || (cp >= 0xffe0 && cp <= 0xffe6) || (cp >= 0x1f300 && cp <= 0x1f64f)
    || (cp >= 0x1f900 && cp <= 0x1f9ff) || (cp >= 0x20000 && cp <= 0x3fffd);
}

// ------------------------------------------------------------------------------------- colours

/** xterm's 256-colour palette: 16 theme colours, the 6x6x6 cube, 24 greys. */
export function paletteColor(n: number, theme: Theme): string {
  if (n < 16) return theme.ansi[n];
  if (n < 232) {
    const i = n - 16;
    const level = (v: number) => (v === 0 ? 0 : 55 + v * 40);
    return rgb(level(Math.floor(i / 36)), level(Math.floor(i / 6) % 6), level(i % 6));
  }
  const g = 8 + (n - 232) * 10;
  return rgb(g, g, g);
}

function rgb(r: number, g: number, b: number): string {
  return '#' + [r, g, b].map((v) => v.toString(16).padStart(2, '0')).join('');
}

function resolve(c: number | string | null, fallback: string, theme: Theme): string {
  if (c === null) return fallback;
  return typeof c === 'string' ? c : paletteColor(c, theme);
}

/** The colours a cell is drawn in: inverse swaps them. */
export function cellColors(s: Style, theme: Theme): { fg: string; bg: string | null } {
  let fg = resolve(s.fg, theme.foreground, theme);
  let bg: string | null = s.bg === null ? null : resolve(s.bg, theme.background, theme);
  if (s.inverse) {
    const newBg = fg;
    fg = bg ?? theme.background;
    bg = newBg;
  }
  return { fg, bg };
}

// ------------------------------------------------------------------------------------- drawing

function esc(text: string): string {
  return text.replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' }[c]!));
}

function num(n: number): string {
  return String(Math.round(n * 100) / 100);
}

/** Light box-drawing characters as [up, right, down, left] arms; rounded corners alike. */
const BOX: Record<string, [number, number, number, number]> = {
  '─': [0, 1, 0, 1], '│': [1, 0, 1, 0], '┌': [0, 1, 1, 0], '┐': [0, 0, 1, 1], '└': [1, 1, 0, 0], '┘': [1, 0, 0, 1],
  '├': [1, 1, 1, 0], '┤': [1, 0, 1, 1], '┬': [0, 1, 1, 1], '┴': [1, 1, 0, 1], '┼': [1, 1, 1, 1],
  '╭': [0, 1, 1, 0], '╮': [0, 0, 1, 1], '╰': [1, 1, 0, 0], '╯': [1, 0, 0, 1], '╴': [0, 0, 0, 1], '╶': [0, 1, 0, 0],
  '╵': [1, 0, 0, 0], '╷': [0, 0, 1, 0],
};

const SHADES: Record<string, number> = { '░': 0.25, '▒': 0.5, '▓': 0.75 };

/** SVG elements drawing `ch` at cell (x, y) px in colour `fg`, or null when the font should. */
export function glyphShape(ch: string, x: number, y: number, fg: string, theme: Theme): string | null {
  const w = theme.cellWidth;
  const h = theme.cellHeight;
  const cp = ch.codePointAt(0) ?? 0;
  const arms = BOX[ch];
  if (arms) {
    const cx = x + w / 2;
    const cy = y + h / 2;
    const parts: string[] = [];
    const sw = 1.2;
    if (arms[0]) parts.push(`M${num(cx)} ${num(y)}V${num(cy)}`);
    if (arms[2]) parts.push(`M${num(cx)} ${num(cy)}V${num(y + h)}`);
    if (arms[3]) parts.push(`M${num(x)} ${num(cy)}H${num(cx)}`);
    if (arms[1]) parts.push(`M${num(cx)} ${num(cy)}H${num(x + w)}`);
    return `<path d="${parts.join('')}" stroke="${fg}" stroke-width="${sw}" stroke-linecap="square" fill="none"/>`;
  }
  if (ch === '█') return `<rect x="${num(x)}" y="${num(y)}" width="${num(w)}" height="${num(h)}" fill="${fg}"/>`;
  if (SHADES[ch] !== undefined) {
    return `<rect x="${num(x)}" y="${num(y)}" width="${num(w)}" height="${num(h)}" fill="${fg}" fill-opacity="${SHADES[ch]}"/>`;
  }
  if (cp >= 0x2581 && cp <= 0x2587) { // lower one eighth .. seven eighths
    const frac = (cp - 0x2580) / 8;
    return `<rect x="${num(x)}" y="${num(y + h * (1 - frac))}" width="${num(w)}" height="${num(h * frac)}" fill="${fg}"/>`;
  }
  if (cp >= 0x2800 && cp <= 0x28ff) {
    const bits = cp - 0x2800;
    if (bits === 0) return '';
    // Dot n at (column, row): 1 (0,0) 2 (0,1) 3 (0,2) 4 (1,0) 5 (1,1) 6 (1,2) 7 (0,3) 8 (1,3).
    const dots: [number, number][] = [[0, 0], [0, 1], [0, 2], [1, 0], [1, 1], [1, 2], [0, 3], [1, 3]];
    const r = Math.min(w / 4, h / 8) * 0.75;
    const out: string[] = [];
    for (let b = 0; b < 8; b++) {
      if (!(bits & (1 << b))) continue;
      const [col, row] = dots[b];
      out.push(`<circle cx="${num(x + (w / 4) * (1 + 2 * col))}" cy="${num(y + (h / 8) * (1 + 2 * row))}" r="${num(r)}"/>`);
    }
    return `<g fill="${fg}">${out.join('')}</g>`;
  }
  return null;
}

export interface SvgOptions {
  theme?: Theme;
  /** <title> of the image (for accessibility). */
  title?: string;
}

/** The SVG document for a parsed screen. */
export function screenToSvg(grid: Cell[][], opts: SvgOptions = {}): string {
  const t = opts.theme ?? DARK;
  const rows = grid.length;
  const cols = rows ? grid[0].length : 0;
  const W = cols * t.cellWidth + 2 * t.padding;
  const H = rows * t.cellHeight + 2 * t.padding;
  const out: string[] = [];
  out.push(`<svg xmlns="http://www.w3.org/2000/svg" width="${num(W)}" height="${num(H)}" viewBox="0 0 ${num(W)} ${num(H)}">`);
  if (opts.title) out.push(`<title>${esc(opts.title)}</title>`);
  out.push(`<rect width="100%" height="100%" rx="8" fill="${t.background}"/>`);
  const baseline = t.cellHeight * 0.75;
  const shapes: string[] = [];
  const texts: string[] = [];
  for (let y = 0; y < rows; y++) {
    const py = t.padding + y * t.cellHeight;
    // Backgrounds: one rect per run of cells with the same non-default background.
    let runStart = -1;
    let runBg: string | null = null;
    const flushBg = (end: number) => {
      if (runBg !== null && runStart >= 0) {
        out.push(`<rect x="${num(t.padding + runStart * t.cellWidth)}" y="${num(py)}" width="${num((end - runStart) * t.cellWidth)}" `
          + `height="${num(t.cellHeight)}" fill="${runBg}"/>`);
      }
    };
    for (let x = 0; x <= cols; x++) {
      const bg = x < cols ? cellColors(grid[y][x].style, t).bg : null;
      if (bg !== runBg) {
        flushBg(x);
        runStart = x;
        runBg = bg;
      }
    }
    // Text: runs of cells in the same style, each character at its own cell.
    let x = 0;
    while (x < cols) {
      const cell = grid[y][x];
      const { fg } = cellColors(cell.style, t);
      const px = t.padding + x * t.cellWidth;
      const shape = cell.ch ? glyphShape(cell.ch, px, py, fg, t) : '';
      if (shape !== null) {
        if (shape) shapes.push(shape);
        if (cell.style.underline) shapes.push(underline(px, py, 1, fg, t));
        x++;
        continue;
      }
      if (cell.ch === ' ' && !cell.style.underline && !cell.style.strike) {
        x++;
        continue;
      }
      const key = styleKey(cell.style);
      let end = x;
      const chars: string[] = [];
      const xs: string[] = [];
      while (end < cols) {
        const c = grid[y][end];
        if (styleKey(c.style) !== key || (c.ch && glyphShape(c.ch, 0, 0, fg, t) !== null)) break;
        if (c.ch) {
          chars.push(c.ch);
          xs.push(num(t.padding + end * t.cellWidth));
        }
        end++;
      }
      // One <text> per word: spaces carry nothing (their background is drawn above), and some
      // renderers do not give whitespace its own x position.
      const attrs: string[] = [];
      if (fg !== t.foreground) attrs.push(`fill="${fg}"`);
      if (cell.style.bold) attrs.push('font-weight="bold"');
      if (cell.style.italic) attrs.push('font-style="italic"');
      if (cell.style.dim) attrs.push('fill-opacity="0.6"');
      for (let i = 0; i < chars.length;) {
        if (chars[i] === ' ') {
          i++;
          continue;
        }
        let j = i;
        while (j < chars.length && chars[j] !== ' ') j++;
        texts.push(`<text x="${xs.slice(i, j).join(' ')}" y="${num(py + baseline)}"${attrs.length ? ' ' + attrs.join(' ') : ''}>`
          + `${esc(chars.slice(i, j).join(''))}</text>`);
        i = j;
      }
      if (cell.style.underline) shapes.push(underline(px, py, end - x, fg, t));
      if (cell.style.strike) {
        shapes.push(`<rect x="${num(px)}" y="${num(py + t.cellHeight * 0.5)}" width="${num((end - x) * t.cellWidth)}" height="1" fill="${fg}"/>`);
      }
      x = end;
    }
  }
  out.push(...shapes);
  out.push(`<g font-family="${esc(t.fontFamily)}" font-size="${t.fontSize}" fill="${t.foreground}">`);
  out.push(...texts);
  out.push('</g>', '</svg>');
  return out.join('\n') + '\n';
}

function underline(px: number, py: number, cells: number, fg: string, t: Theme): string {
  return `<rect x="${num(px)}" y="${num(py + t.cellHeight - 2)}" width="${num(cells * t.cellWidth)}" height="1" fill="${fg}"/>`;
}

function styleKey(s: Style): string {
  return `${s.fg}|${s.bg}|${+s.bold}${+s.dim}${+s.italic}${+s.underline}${+s.inverse}${+s.strike}`;
}

/** Captured text to SVG in one call. */
export function ansiToSvg(text: string, cols: number, rows: number, opts: SvgOptions = {}): string {
  return screenToSvg(parseScreen(text, cols, rows), opts);
}
