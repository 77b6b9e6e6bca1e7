/**
 * blessed-width.ts: make blessed count columns as src/model/text.ts (and the terminal) does.
 *
 * blessed lays a line out cell by cell: a character it thinks wide gets a filler cell after it,
 * one it thinks zero-width joins the cell before. Its tables are from Unicode 5 and miss the
 * emoji (astral ones take one cell, but the terminal draws them two columns wide, shifting the
 * rest of the row) and newer combining marks. The batch table and the TUI table are fitted by
 * displayWidth(); this gives blessed the same answer, so a CJK or emoji name keeps every column
 * of the TUI aligned too. It changes blessed's shared unicode tables, once, before the screen.
 *
 * One more fix: blessed cuts a line to the box width counting UTF-16 code units, so a line with
 * an astral character (an emoji: two units, one cell) lost its last cell per such character.
 * Lines are laid out with each astral character standing in as one private-use character.
 */
import { charWidth, isWide, WIDE } from '../model/text';

interface BlessedUnicode {
  charWidth(str: string | number, i?: number): number;
  codePointAt(str: string, i: number): number;
  chars: { all: RegExp };
  combining: Record<number, boolean>;
}

let aligned = false;

type Lines = string[] & { fake?: string[] };
interface ElementProto { _wrapContent(this: unknown, content: string, width: number): Lines }

const PAIR = /[\ud800-\udbff][\udc00-\udfff]/g;
const HAS_PAIR = /[\ud800-\udbff][\udc00-\udfff]/;

/** _wrapContent on text whose astral characters each stand in as one private-use character. */
function wrapCountingCells(wrap: ElementProto['_wrapContent']): ElementProto['_wrapContent'] {
  return function (this: unknown, content: string, width: number): Lines {
    if (!HAS_PAIR.test(content)) return wrap.call(this, content, width);
    const stand = new Map<string, string>();
    const back = new Map<string, string>();
    let next = 0xe000;
    const packed = content.replace(PAIR, (pair) => {
      let s = stand.get(pair);
      if (s === undefined) {
        while (content.includes(String.fromCharCode(next))) next++;
        s = String.fromCharCode(next++);
        stand.set(pair, s);
        back.set(s, pair);
      }
      return s;
    });
    const out = wrap.call(this, packed, width);
    const chars = new RegExp(`[${[...back.keys()].join('')}]`, 'g');
    const restore = (line: string) => line.replace(chars, (s) => back.get(s)!);
    for (let i = 0; i < out.length; i++) out[i] = restore(out[i]);
    if (out.fake) out.fake = out.fake.map(restore);
    return out;
  };
}

/** The character class of every wide code point, for a RegExp with the u flag. */
function wideClass(): string {
  const hex = (cp: number) => `\\u{${cp.toString(16)}}`;
  let s = '';
  for (let i = 0; i < WIDE.length; i += 2) s += `${hex(WIDE[i])}-${hex(WIDE[i + 1])}`;
  return `[${s}]`;
}

export function alignBlessedWidths(
  u: BlessedUnicode = require('blessed/lib/unicode') as BlessedUnicode,
  element: { prototype: ElementProto } = require('blessed/lib/widgets/element') as { prototype: ElementProto },
): void {
  if (aligned) return;
  aligned = true;
  element.prototype._wrapContent = wrapCountingCells(element.prototype._wrapContent);
  // Zero-width code points blessed's table lacks (its charWidth and layout both read the table).
  // (CJK, Yi, Hangul syllables, surrogates and private use hold none: skipped, it takes ~20 ms.)
  for (const [lo, hi] of [[0x300, 0x33ff], [0xa4d0, 0xabff], [0xf900, 0x16fff], [0x18b00, 0x1ffff], [0xe0000, 0xe0fff]]) {
    for (let cp = lo; cp <= hi; cp++) if (!isWide(cp) && charWidth(cp) === 0 && !u.combining[cp]) u.combining[cp] = true;
  }
  const original = u.charWidth;
  u.charWidth = function (str: string | number, i?: number): number {
    const cp = typeof str === 'number' ? str : u.codePointAt(str, i ?? 0);
    if (isWide(cp)) return 2;
    const w = original.call(this, str, i);
    return w === 2 ? 1 : w; // a few of blessed's wide ranges are narrow (Hangul jamo, half-width forms)
  };
  // parseContent puts the filler cell (\x03) after every match of chars.all.
  u.chars.all = new RegExp(`(${wideClass()})`, 'gu');
}
