/**
 * Process names as text (src/model/text.ts): comm bytes decoded as UTF-8, controls shown as
 * visible escapes, display width for CJK and emoji, and blessed made to count as we do.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { PassThrough } from 'node:stream';
import fc from 'fast-check';
import * as blessed from 'blessed';
import { decodeEvent, readComm } from '../../src/capture/decode';
import { SnapshotAttribution } from '../../src/capture/attribution';
import { readExistingSockets } from '../../src/capture/snapshot';
import { COMM_LEN, EventKind as K } from '../../src/capture/layout';
import { cutToWidth, decodeUtf8, displayWidth, fitWidth, showText } from '../../src/model/text';
import { alignBlessedWidths } from '../../src/ui/blessed-width';
import { makeRecord } from './helpers/records';

const utf8 = (s: string) => new TextEncoder().encode(s);
const view = (b: Uint8Array) => new DataView(b.buffer, b.byteOffset, b.byteLength);
/** A comm field of 16 bytes holding `bytes` (NUL padded), decoded as a record's comm is. */
const comm = (bytes: Uint8Array | number[]) => {
  const field = new Uint8Array(COMM_LEN);
  field.set(bytes);
  return decodeUtf8(view(field), 0, COMM_LEN, COMM_LEN - 1);
};

test('comm: UTF-8, not Latin-1', () => {
  assert.equal(comm(utf8('héllo→✓')), 'héllo→✓');
  assert.equal(comm(utf8('中文')), '中文');
  assert.equal(comm(utf8('😀x')), '😀x');
  assert.equal(comm(utf8('nginx')), 'nginx');
  assert.equal(comm([]), '');
  // Through a record, as --json, the TUI and batch read it.
  assert.equal(decodeEvent(view(makeRecord({ kind: K.Connect, comm: 'héllo→✓' })), 0).comm, 'héllo→✓');
  assert.equal(readComm(view(makeRecord({ kind: K.Connect, comm: 'héllo→✓' })), 0), 'héllo→✓');
});

test('comm: invalid bytes become U+FFFD, one per maximal invalid subpart (as TextDecoder)', () => {
  assert.equal(comm([0x61, 0xff, 0x62]), 'a\ufffdb');
  assert.equal(comm([0xe9, 0x74, 0xe9]), '\ufffdt\ufffd'); // Latin-1 'été': not UTF-8
  assert.equal(comm([0xc0, 0x80]), '\ufffd\ufffd'); // overlong NUL
  assert.equal(comm([0xed, 0xa0, 0x80]), '\ufffd\ufffd\ufffd'); // an encoded surrogate
  assert.equal(comm([0xf4, 0x90, 0x80, 0x80]), '\ufffd\ufffd\ufffd\ufffd'); // above U+10FFFF
  assert.equal(comm([0xe2, 0x9c, 0x41]), '\ufffdA'); // a sequence broken by an ASCII byte
  // Names shorter than 15 bytes: the same text as the WHATWG decoder, on any bytes.
  fc.assert(fc.property(fc.uint8Array({ minLength: 0, maxLength: 14 }).map((a) => a.filter((b) => b !== 0)), (bytes) => {
    assert.equal(comm(bytes), new TextDecoder().decode(bytes));
  }), { numRuns: 3000 });
});

test('comm: a character the kernel cut at 15 bytes is dropped; a short name ending mid-character shows U+FFFD', () => {
  // prctl(PR_SET_NAME, "abcdefghijklm✓") keeps 15 bytes: the check mark loses its last byte.
  const cut = utf8('abcdefghijklm✓').subarray(0, 15);
  assert.equal(comm(cut), 'abcdefghijklm');
  assert.equal(comm(utf8('héllo→✓ wörld').subarray(0, 15)), 'héllo→✓ w'); // 14 bytes, then half an 'ö'
  assert.equal(comm(utf8('0123456789abc😀').subarray(0, 15)), '0123456789abc');
  assert.equal(comm([0x61, 0x62, 0xe2, 0x9c]), 'ab\ufffd');
  // Full names: what a streaming decoder says before the rest of the character would arrive.
  fc.assert(fc.property(fc.uint8Array({ minLength: 15, maxLength: 15 }).map((a) => a.map((b) => b || 1)), (bytes) => {
    assert.equal(comm(bytes), new TextDecoder().decode(bytes, { stream: true }));
  }), { numRuns: 3000 });
});

test('showText: C0, DEL, C1 and bidi controls become visible escapes; the rest is kept', () => {
  const hostile = '\x1b]0;pwn\x07\x1b[2J';
  assert.equal(showText(hostile), '\\x1b]0;pwn\\x07\\x1b[2J');
  assert.equal(showText('a\r\nb\tc'), 'a\\r\\nb\\tc');
  assert.equal(showText('x\x00\x7fy'), 'x\\x00\\x7fy');
  assert.equal(showText('c1\u0085\u009b'), 'c1\\x85\\x9b');
  assert.equal(showText('abc\u202edcb'), 'abc\\u202edcb');
  assert.equal(showText('héllo→✓ 中文 😀 e\u0301'), 'héllo→✓ 中文 😀 e\u0301');
  fc.assert(fc.property(fc.string({ unit: 'binary' }), (s) => {
    const shown = showText(s);
    assert.doesNotMatch(shown, /[\x00-\x1f\x7f-\x9f\u061c\u200e\u200f\u2028-\u202e\u2066-\u2069]/);
    assert.equal(showText(shown), shown, 'idempotent');
  }), { numRuns: 2000 });
});

test('display width: CJK and emoji take 2 columns, combining marks and ZWJ none', () => {
  assert.equal(displayWidth('nginx'), 5);
  assert.equal(displayWidth('héllo→✓'), 7);
  assert.equal(displayWidth('中文'), 4);
  assert.equal(displayWidth('한국'), 4);
  assert.equal(displayWidth('ｱｲ'), 2); // half-width katakana
  assert.equal(displayWidth('Ｗ'), 2); // full-width Latin
  assert.equal(displayWidth('😀'), 2);
  assert.equal(displayWidth('🎉x'), 3);
  assert.equal(displayWidth('⌚'), 2);
  assert.equal(displayWidth('e\u0301'), 1);
  assert.equal(displayWidth('a\u200db'), 2);
  assert.equal(displayWidth('\u{20000}'), 2);
});

test('fitWidth: exactly the width asked for, cut with ~ at the edge, never half a wide character', () => {
  assert.equal(fitWidth('中文字', 5, 'left'), '中文~');
  assert.equal(fitWidth('中文字', 4, 'left'), '中 ~');
  assert.equal(fitWidth('中文', 6, 'right'), '  中文');
  assert.equal(fitWidth('😀😀', 3, 'left'), '😀~');
  assert.equal(fitWidth('abcdef', 4, 'left'), 'abc~');
  assert.equal(fitWidth('e\u0301e\u0301', 2, 'left'), 'e\u0301e\u0301');
  assert.equal(cutToWidth('a中b', 2).text, 'a');
  const text = fc.array(fc.constantFrom('a', 'é', '中', '😀', 'e\u0301', 'ｱ', ' ', '~', '\u200d'), { maxLength: 12 }).map((a) => a.join(''));
  fc.assert(fc.property(text, fc.integer({ min: 0, max: 20 }), fc.boolean(), (s, w, left) => {
    const out = fitWidth(s, w, left ? 'left' : 'right');
    assert.equal(displayWidth(out), w);
    if (displayWidth(s) <= w) assert.ok(out.includes(s));
  }), { numRuns: 3000 });
});

test('pre-existing sockets: a UTF-8 comm from /proc/PID/comm reaches the record intact', () => {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'socktop-proc-'));
  try {
    fs.mkdirSync(path.join(root, 'net'));
    fs.mkdirSync(path.join(root, '4242/fd'), { recursive: true });
    // 'voilà' ends in the bytes C3 A0: trim() on its Latin-1 reading would eat the A0 (NBSP).
    fs.writeFileSync(path.join(root, '4242/comm'), Buffer.from('voilà 中\n', 'utf8'));
    fs.symlinkSync('socket:[777]', path.join(root, '4242/fd/3'));
    fs.writeFileSync(path.join(root, 'net/tcp'), '  sl  local_address rem_address   st\n'
      + '   0: 0100007F:1F90 00000000:0000 0A 00000000:00000000 00:00000000 00000000    33        0 777 1 0000000000000000 100 0 0 10 0\n');
    const socks = readExistingSockets(root);
    const { bytes } = new SnapshotAttribution(socks).initialRecords(1n);
    assert.equal(decodeEvent(view(bytes), 0).comm, 'voilà 中');
  } finally {
    fs.rmSync(root, { recursive: true });
  }
});

test('blessed, aligned: every character after a wide one lands at its display column', () => {
  alignBlessedWidths();
  const input = new PassThrough();
  const output = Object.assign(new PassThrough(), { columns: 40, rows: 8, isTTY: true });
  output.resume();
  const screen = blessed.screen({ input, output, fullUnicode: true, warnings: false, terminal: 'xterm-256color' } as blessed.Widgets.IScreenOptions);
  try {
    const box = blessed.box({ parent: screen, top: 0, left: 0, width: '100%', height: '100%', tags: true, wrap: false });
    // The last two fill the 40 columns exactly: nothing of them may be cut.
    const rows = ['a中b😀c|', 'e\u0301x|', '⌚🎉ｱ|', '12345|', `😀😀😀${'x'.repeat(33)}|`, `中😀${'y'.repeat(35)}|`];
    box.setContent(rows.join('\n'));
    screen.render();
    const lines = (screen as unknown as { lines: Array<Array<[number, string]>> }).lines;
    rows.forEach((row, y) => {
      const col = displayWidth(row.slice(0, -1));
      assert.equal(lines[y][col][1], '|', `row ${y}: '|' at column ${col}: ${JSON.stringify(lines[y].slice(0, 10).map((c) => c[1]))}`);
    });
  } finally {
    screen.destroy();
  }
});
