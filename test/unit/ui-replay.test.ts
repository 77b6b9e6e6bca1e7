/**
 * Replay keys in the UI state and the header's replay status (the TUI test in
 * test/tui/replay.test.ts drives the same keys in a terminal).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { UiState } from '../../src/ui/state';
import { progressBar } from '../../src/ui/views/header';
import { footerLine } from '../../src/ui/views/footer';
import { Theme } from '../../src/ui/views/theme';

const ch = (c: string) => ({ ch: c, name: c });
const key = (name: string) => ({ name });

test('replay: space drives the replay clock, g and G seek to start and end', () => {
  const r = new UiState({ replay: true });
  assert.equal(r.handleKey({ name: 'space', ch: ' ' }), 'toggle-pause');
  assert.equal(r.paused, false, 'the display itself is not frozen: the clock is held instead');
  assert.equal(r.handleKey(ch('g')), 'seek-start');
  assert.equal(r.handleKey(ch('G')), 'seek-end');
  assert.equal(r.handleKey(ch('+')), 'speed-up');
  assert.equal(r.handleKey(key('right')), 'seek-forward');
  // Home and End still move the selection; in the detail view too the replay keys work.
  r.setRows([1, 2, 3]);
  assert.equal(r.handleKey(key('end')), 'render');
  assert.equal(r.selectedPid, 3);
  assert.equal(r.handleKey(key('home')), 'render');
  assert.equal(r.selectedPid, 1);
  assert.equal(r.handleKey(key('enter')), 'render');
  assert.equal(r.mode, 'detail');
  assert.equal(r.handleKey({ name: 'space', ch: ' ' }), 'toggle-pause');
  assert.equal(r.handleKey(ch('G')), 'seek-end');
});

test('live: space freezes the display, g and G move the selection', () => {
  const s = new UiState();
  s.setRows([1, 2, 3]);
  assert.equal(s.handleKey(ch('G')), 'render');
  assert.equal(s.selectedPid, 3);
  assert.equal(s.handleKey(ch('g')), 'render');
  assert.equal(s.selectedPid, 1);
  assert.equal(s.handleKey({ name: 'space', ch: ' ' }), 'render');
  assert.equal(s.paused, true);
});

test('progress bar: width cells, the played fraction full, clamped', () => {
  assert.equal(progressBar(0, 10), '░░░░░░░░░░');
  assert.equal(progressBar(0.5, 10), '█████░░░░░');
  assert.equal(progressBar(1, 10), '██████████');
  assert.equal(progressBar(2, 4), '████');
  assert.equal(progressBar(-1, 4), '░░░░');
  assert.equal(progressBar(NaN, 4), '░░░░');
  assert.equal(progressBar(0.26, 30).length, 30);
});

test('footer: a replay lists its own keys first', () => {
  const line = footerLine(new UiState({ replay: true }), new Theme(false), 140);
  assert.match(line, /space.*play\/pause.*speed.*seek 10s.*start\/end/);
  assert.doesNotMatch(footerLine(new UiState(), new Theme(false), 140), /play\/pause/);
});
