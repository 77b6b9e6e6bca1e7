/**
 * text.ts: process names and other text from outside (the kernel's comm bytes, /proc, a
 * recording's metadata) made safe to show. Pure functions, shared by the TUI, batch mode and the
 * JSON encoders:
 *
 * - decodeUtf8(): bytes to text as UTF-8. An invalid byte becomes U+FFFD (one per maximal invalid
 *   subpart, as TextDecoder does). An incomplete sequence at the very end of a name that fills the
 *   kernel's 15 bytes (TASK_COMM_LEN - 1) is the kernel's cut of a longer name: it is dropped. Any
 *   other incomplete sequence is invalid: U+FFFD.
 * - showText(): every character a terminal would act on instead of drawing becomes a visible
 *   escape: C0 controls and DEL as \xHH (\t, \n, \r as such), C1 controls (U+0080-U+009F) as \xHH
 *   too, and the bidi and line-separator controls (U+061C, U+200E, U+200F, U+2028-U+202E,
 *   U+2066-U+2069) as \uHHHH. Backslashes are left alone: this is for reading, not a reversible
 *   encoding (JSON carries the exact name).
 * - displayWidth() / fitWidth(): columns a terminal gives the text (wcwidth rules: East Asian Wide
 *   and Fullwidth, which include the emoji drawn as pictures, take 2; combining marks and format
 *   characters 0), so CJK and emoji names keep a table aligned.
 */

const REPLACEMENT = 0xfffd;

/**
 * Decode `len` bytes at `at` as UTF-8, stopping at the first NUL. `cutAt`: a name this many bytes
 * long (or longer) was cut by the kernel, so an incomplete sequence at its end is dropped.
 */
export function decodeUtf8(view: DataView, at: number, len: number, cutAt = Infinity): string {
  let n = 0;
  while (n < len && view.getUint8(at + n) !== 0) n++;
  let s = '';
  let i = 0;
  while (i < n) {
    const b0 = view.getUint8(at + i);
    if (b0 < 0x80) {
      s += String.fromCharCode(b0);
      i++;
      continue;
    }
    let need: number;
    let lo = 0x80;
    let hi = 0xbf;
    let cp: number;
    if (b0 >= 0xc2 && b0 <= 0xdf) { need = 1; cp = b0 & 0x1f; }
    else if (b0 >= 0xe0 && b0 <= 0xef) {
      need = 2; cp = b0 & 0x0f;
      if (b0 === 0xe0) lo = 0xa0; // no overlong forms
      else if (b0 === 0xed) hi = 0x9f; // no surrogates
    } else if (b0 >= 0xf0 && b0 <= 0xf4) {
      need = 3; cp = b0 & 0x07;
      if (b0 === 0xf0) lo = 0x90; // no overlong forms
      else if (b0 === 0xf4) hi = 0x8f; // nothing above U+10FFFF
    } else {
      s += '\ufffd';
      i++;
      continue;
    }
    let k = 1;
    for (; k <= need; k++) {
      if (i + k >= n) break;
      const b = view.getUint8(at + i + k);
      if (b < lo || b > hi) break;
      cp = (cp << 6) | (b & 0x3f);
      lo = 0x80;
      hi = 0xbf;
    }
    if (k > need) {
      s += String.fromCodePoint(cp);
      i += k;
    } else if (i + k >= n && n >= cutAt) {
      break; // the kernel cut a character in two: drop its first bytes
    } else {
      s += String.fromCharCode(REPLACEMENT); // the maximal invalid subpart, then go on from the byte that broke it
      i += k;
    }
  }
  return s;
}

/** Characters showText() replaces (C0, DEL, C1, bidi and line-separator controls). */
const UNSAFE = /[\x00-\x1f\x7f-\x9f\u061c\u200e\u200f\u2028-\u202e\u2066-\u2069]/g;
const UNSAFE_TEST = /[\x00-\x1f\x7f-\x9f\u061c\u200e\u200f\u2028-\u202e\u2066-\u2069]/;
const SHORT: Record<string, string> = { '\t': '\\t', '\n': '\\n', '\r': '\\r' };

function escapeOne(c: string): string {
  const short = SHORT[c];
  if (short) return short;
  const code = c.charCodeAt(0);
  return code < 0x100 ? `\\x${code.toString(16).padStart(2, '0')}` : `\\u${code.toString(16).padStart(4, '0')}`;
}

/** `text` with every control a terminal would act on shown as a visible escape (see the top). */
export function showText(text: string): string {
  return UNSAFE_TEST.test(text) ? text.replace(UNSAFE, escapeOne) : text;
}

/**
 * East Asian Wide and Fullwidth code points (Unicode 14 EastAsianWidth, plus the unassigned code
 * points between two wide ranges of one block, so emoji added later are wide too): pairs of
 * first, last.
 */
// prettier-ignore
export const WIDE: readonly number[] = [
  0x1100, 0x115f, 0x231a, 0x231b, 0x2329, 0x232a, 0x23e9, 0x23ec, 0x23f0, 0x23f0, 0x23f3, 0x23f3,
  0x25fd, 0x25fe, 0x2614, 0x2615, 0x2648, 0x2653, 0x267f, 0x267f, 0x2693, 0x2693, 0x26a1, 0x26a1,
  0x26aa, 0x26ab, 0x26bd, 0x26be, 0x26c4, 0x26c5, 0x26ce, 0x26ce, 0x26d4, 0x26d4, 0x26ea, 0x26ea,
  0x26f2, 0x26f3, 0x26f5, 0x26f5, 0x26fa, 0x26fa, 0x26fd, 0x26fd, 0x2705, 0x2705, 0x270a, 0x270b,
  0x2728, 0x2728, 0x274c, 0x274c, 0x274e, 0x274e, 0x2753, 0x2755, 0x2757, 0x2757, 0x2795, 0x2797,
  0x27b0, 0x27b0, 0x27bf, 0x27bf, 0x2b1b, 0x2b1c, 0x2b50, 0x2b50, 0x2b55, 0x2b55, 0x2e80, 0x303e,
  0x3041, 0x3247, 0x3250, 0x4dbf, 0x4e00, 0xa4c6, 0xa960, 0xa97c, 0xac00, 0xd7a3, 0xf900, 0xfad9,
  0xfe10, 0xfe19, 0xfe30, 0xfe6b, 0xff01, 0xff60, 0xffe0, 0xffe6, 0x16fe0, 0x18d08,
  0x1aff0, 0x1b2fb, 0x1f004, 0x1f004, 0x1f0cf, 0x1f0cf, 0x1f18e, 0x1f18e, 0x1f191, 0x1f19a,
  0x1f200, 0x1f320, 0x1f32d, 0x1f335, 0x1f337, 0x1f37c, 0x1f37e, 0x1f393, 0x1f3a0, 0x1f3ca,
  0x1f3cf, 0x1f3d3, 0x1f3e0, 0x1f3f0, 0x1f3f4, 0x1f3f4, 0x1f3f8, 0x1f43e, 0x1f440, 0x1f440,
  0x1f442, 0x1f4fc, 0x1f4ff, 0x1f53d, 0x1f54b, 0x1f54e, 0x1f550, 0x1f567, 0x1f57a, 0x1f57a,
  0x1f595, 0x1f596, 0x1f5a4, 0x1f5a4, 0x1f5fb, 0x1f64f, 0x1f680, 0x1f6c5, 0x1f6cc, 0x1f6cc,
  0x1f6d0, 0x1f6d2, 0x1f6d5, 0x1f6df, 0x1f6eb, 0x1f6ec, 0x1f6f4, 0x1f6fc, 0x1f7e0, 0x1f7f0,
  0x1f90c, 0x1f93a, 0x1f93c, 0x1f945, 0x1f947, 0x1f9ff, 0x1fa70, 0x1faf6, 0x20000, 0x3fffd,
];

/** True for a code point a terminal draws two columns wide. */
export function isWide(cp: number): boolean {
  if (cp < 0x1100) return false;
  let lo = 0;
  let hi = WIDE.length / 2 - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    if (cp < WIDE[mid * 2]) hi = mid - 1;
    else if (cp > WIDE[mid * 2 + 1]) lo = mid + 1;
    else return true;
  }
  return false;
}

/** Combining marks, format characters (ZWJ, variation selectors...), Hangul medial and final jamo. */
const ZERO_WIDTH = /^[\p{Mn}\p{Me}\p{Cf}\u1160-\u11ff]$/u;

/** Columns one code point takes: 0, 1 or 2 (controls 0: escape them with showText first). */
export function charWidth(cp: number): number {
  if (cp < 0x20 || (cp >= 0x7f && cp < 0xa0)) return 0;
  if (cp < 0x300) return 1; // U+00AD (soft hyphen) too, as wcwidth says
  if (isWide(cp)) return 2;
  return ZERO_WIDTH.test(String.fromCodePoint(cp)) ? 0 : 1;
}

/** Columns `text` takes on a terminal. */
export function displayWidth(text: string): number {
  let w = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c >= 0x20 && c < 0x7f) { w++; continue; }
    const cp = text.codePointAt(i)!;
    if (cp > 0xffff) i++;
    w += charWidth(cp);
  }
  return w;
}

/**
 * The longest start of `text` that fits `width` columns (whole characters only; the zero-width
 * marks after the last one kept stay with it), and its width.
 */
export function cutToWidth(text: string, width: number): { text: string; width: number } {
  let w = 0;
  let i = 0;
  while (i < text.length) {
    const cp = text.codePointAt(i)!;
    const cw = charWidth(cp);
    if (w + cw > width) break;
    w += cw;
    i += cp > 0xffff ? 2 : 1;
  }
  return { text: text.slice(0, i), width: w };
}

/**
 * Pad or cut `text` to exactly `width` columns. A cut text ends in `~` in the last column (a wide
 * character that would straddle the edge is left out, and a space fills its place).
 */
export function fitWidth(text: string, width: number, align: 'left' | 'right'): string {
  const w = displayWidth(text);
  if (w > width) {
    if (width <= 1) {
      const cut = cutToWidth(text, Math.max(0, width));
      return cut.text + ' '.repeat(Math.max(0, width) - cut.width);
    }
    const cut = cutToWidth(text, width - 1);
    return `${cut.text}${' '.repeat(width - 1 - cut.width)}~`;
  }
  const pad = ' '.repeat(width - w);
  return align === 'left' ? text + pad : pad + text;
}
