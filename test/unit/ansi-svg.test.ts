/**
 * The ANSI screen to SVG renderer of the screenshots (test/tui/ansi-svg.ts).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  ansiToSvg, applySgr, cellColors, DARK, defaultStyle, glyphShape, paletteColor, parseScreen,
} from '../../test/tui/ansi-svg';

test('SGR: reset, bold, inverse, 16 / 256 / RGB colours and their resets', () => {
  const s = defaultStyle();
  applySgr(s, [1, 7, 31, 42]);
  assert.deepEqual([s.bold, s.inverse, s.fg, s.bg], [true, true, 1, 2]);
  applySgr(s, [22, 27, 39, 49]);
  assert.deepEqual([s.bold, s.inverse, s.fg, s.bg], [false, false, null, null]);
  applySgr(s, [90, 107]);
  assert.deepEqual([s.fg, s.bg], [8, 15]);
  applySgr(s, [38, 5, 196, 48, 2, 1, 2, 255]);
  assert.deepEqual([s.fg, s.bg], [196, '#0102ff']);
  applySgr(s, [4, 3, 2]);
  applySgr(s, []); // ESC[m is a reset
  assert.deepEqual(s, defaultStyle());
});

test('256-colour palette: the theme\'s 16, the 6x6x6 cube, the grey ramp', () => {
  assert.equal(paletteColor(1, DARK), DARK.ansi[1]);
  assert.equal(paletteColor(16, DARK), '#000000');
  assert.equal(paletteColor(196, DARK), '#ff0000');
  assert.equal(paletteColor(21, DARK), '#0000ff');
  assert.equal(paletteColor(231, DARK), '#ffffff');
  assert.equal(paletteColor(232, DARK), '#080808');
  assert.equal(paletteColor(255, DARK), '#eeeeee');
});

test('inverse swaps the colours, the default ones included', () => {
  const s = { ...defaultStyle(), inverse: true };
  assert.deepEqual(cellColors(s, DARK), { fg: DARK.background, bg: DARK.foreground });
  s.fg = 6;
  assert.deepEqual(cellColors(s, DARK), { fg: DARK.background, bg: DARK.ansi[6] });
  assert.deepEqual(cellColors(defaultStyle(), DARK), { fg: DARK.foreground, bg: null });
});

test('parseScreen: attributes carry over lines (as tmux writes them), short lines are padded, wide chars take two cells', () => {
  const grid = parseScreen('\x1b[1;31mab\ncd\x1b[0m e\n世x', 4, 4);
  assert.equal(grid.length, 4);
  assert.ok(grid.every((row) => row.length === 4));
  assert.equal(grid[0][0].ch, 'a');
  assert.equal(grid[0][0].style.fg, 1);
  assert.equal(grid[1][0].style.fg, 1, 'still red on the next line');
  assert.equal(grid[1][0].style.bold, true);
  assert.equal(grid[1][3].ch, 'e');
  assert.equal(grid[1][3].style.fg, null);
  assert.equal(grid[2][0].ch, '世');
  assert.equal(grid[2][1].ch, '');
  assert.equal(grid[2][2].ch, 'x');
  assert.equal(grid[3][0].ch, ' ');
});

test('box drawing, blocks and braille are drawn as shapes; letters are left to the font', () => {
  assert.match(glyphShape('┌', 0, 0, '#fff', DARK)!, /^<path d="M4\.2 9V18M4\.2 9H8\.4"/);
  assert.match(glyphShape('─', 0, 0, '#fff', DARK)!, /M0 9H4\.2M4\.2 9H8\.4/);
  assert.match(glyphShape('█', 0, 0, '#fff', DARK)!, /<rect .*height="18"/);
  assert.match(glyphShape('▄', 0, 0, '#fff', DARK)!, /y="9" .*height="9"/);
  assert.match(glyphShape('░', 0, 0, '#fff', DARK)!, /fill-opacity="0.25"/);
  assert.equal(glyphShape('⠀', 0, 0, '#fff', DARK), '', 'the empty braille pattern draws nothing');
  assert.equal((glyphShape('⣿', 0, 0, '#fff', DARK)!.match(/<circle/g) ?? []).length, 8);
  assert.equal((glyphShape('⢀', 0, 0, '#fff', DARK)!.match(/<circle/g) ?? []).length, 1);
  assert.equal(glyphShape('A', 0, 0, '#fff', DARK), null);
  assert.equal(glyphShape('↓', 0, 0, '#fff', DARK), null);
});

test('ansiToSvg: a well-formed document, every character on its cell, escaped text, backgrounds for inverse runs', () => {
  const svg = ansiToSvg('\x1b[7m PID \x1b[0m <a&b>\n\x1b[32mok\x1b[0m', 20, 2, { title: 'demo & test' });
  assert.match(svg, /^<svg xmlns="http:\/\/www\.w3\.org\/2000\/svg" width="192" height="60" viewBox="0 0 192 60">/);
  assert.match(svg, /<title>demo &amp; test<\/title>/);
  assert.match(svg, /<\/svg>\n$/);
  // The inverse run: a background rect of 5 cells at x = padding, in the foreground colour.
  assert.match(svg, new RegExp(`<rect x="12" y="12" width="42" height="18" fill="${DARK.foreground}"/>`));
  // Its text in the background colour, each letter at its cell (padding 12, cell 8.4).
  assert.match(svg, new RegExp(`<text x="20.4 28.8 37.2" y="25.5" fill="${DARK.background}">PID</text>`));
  assert.match(svg, /<text x="62.4 70.8 79.2 87.6 96" y="25.5">&lt;a&amp;b&gt;<\/text>/);
  assert.match(svg, new RegExp(`<text x="12 20.4" y="43.5" fill="${DARK.ansi[2]}">ok</text>`));
  // Words are separate <text> elements: no run of spaces is left to the renderer.
  assert.doesNotMatch(svg, /<text[^>]*>[^<]* [^<]*<\/text>/);
});
