import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { parsePidFilter, PidFilterError, UiState, KeyInput } from '../../src/ui/state';

const ch = (c: string): KeyInput => ({ ch: c, name: c.toLowerCase() });
const key = (name: string): KeyInput => ({ name });

function typeText(s: UiState, text: string): void {
  for (const c of text) s.handleKey({ ch: c, name: c === ' ' ? 'space' : c });
}

test('PID list: singles, ranges, exclusions', () => {
  const f = parsePidFilter('123, 456,100-200,!150')!;
  assert.equal(f.matches(123), true);
  assert.equal(f.matches(456), true);
  assert.equal(f.matches(100), true);
  assert.equal(f.matches(200), true);
  assert.equal(f.matches(150), false);
  assert.equal(f.matches(99), false);
  assert.equal(f.text, '123,456,100-200,!150');
  const only = parsePidFilter('!1')!;
  assert.equal(only.matches(1), false);
  assert.equal(only.matches(2), true);
  assert.equal(parsePidFilter('  '), null);
  assert.equal(parsePidFilter(''), null);
});

test('PID list: errors name the bad item', () => {
  for (const [text, re] of [
    ['12x', /bad PID '12x'/], ['1,,a', /bad PID 'a'/], ['200-100', /backwards/], ['0', /out of range/],
    ['99999999', /out of range/], ['-5', /bad PID/], ['!', /bad PID '!'/], ['1-2-3', /bad PID/],
  ] as const) {
    assert.throws(() => parsePidFilter(text), (e: unknown) => e instanceof PidFilterError && re.test(e.message), text);
  }
});

test('PID list parser never throws anything but PidFilterError', () => {
  fc.assert(fc.property(fc.string(), (text) => {
    try {
      parsePidFilter(text);
    } catch (e) {
      return e instanceof PidFilterError;
    }
    return true;
  }));
});

test('selection moves, clamps and follows its pid across re-sorts', () => {
  const s = new UiState();
  s.pageSize = 3;
  s.setRows([10, 20, 30, 40, 50]);
  assert.equal(s.selectedPid, 10);
  s.handleKey(key('down'));
  s.handleKey(ch('j'));
  assert.equal(s.selectedIndex, 2);
  assert.equal(s.selectedPid, 30);
  s.handleKey(key('down'));
  assert.deepEqual(s.visibleRange(), [1, 4]);
  // Re-sorted: pid 40 is now first; the selection goes with it.
  s.setRows([40, 10, 20, 30, 50]);
  assert.equal(s.selectedIndex, 0);
  assert.deepEqual(s.visibleRange(), [0, 3]);
  s.handleKey(key('end'));
  assert.equal(s.selectedPid, 50);
  assert.deepEqual(s.visibleRange(), [2, 5]);
  // The selected row vanished: stay at the same index (clamped).
  s.setRows([40, 10]);
  assert.equal(s.selectedPid, 10);
  s.handleKey(key('pageup'));
  assert.equal(s.selectedPid, 40);
  s.setRows([]);
  assert.equal(s.handleKey(key('enter')), 'none');
});

test('enter opens the detail of the selected process; esc and q go back', () => {
  const s = new UiState();
  s.setRows([7, 8]);
  s.handleKey(key('down'));
  assert.equal(s.handleKey(key('enter')), 'render');
  assert.equal(s.mode, 'detail');
  assert.equal(s.detailPid, 8);
  s.handleKey(key('escape'));
  assert.equal(s.mode, 'table');
  s.handleKey(key('enter'));
  assert.equal(s.handleKey(ch('q')), 'render');
  assert.equal(s.mode, 'table');
  assert.equal(s.handleKey(ch('q')), 'quit');
});

test('p prompt: valid list applies, bad list stays open with a message, esc cancels', () => {
  const s = new UiState();
  s.handleKey(ch('p'));
  assert.equal(s.mode, 'prompt');
  typeText(s, '12x');
  s.handleKey(key('enter'));
  assert.equal(s.mode, 'prompt');
  assert.match(s.prompt!.error!, /bad PID '12x'/);
  s.handleKey(key('backspace'));
  s.handleKey(key('backspace'));
  assert.equal(s.prompt!.error, null, 'editing clears the message');
  typeText(s, ',100-200,!150');
  s.handleKey(key('enter'));
  assert.equal(s.mode, 'table');
  assert.equal(s.filter.pids!.text, '1,100-200,!150');
  assert.equal(s.filterText(), 'pid 1,100-200,!150');
  // Reopening shows the current list; an empty entry clears it.
  s.handleKey(ch('p'));
  assert.equal(s.prompt!.text, '1,100-200,!150');
  s.handleKey({ name: 'C-u' });
  s.handleKey(key('enter'));
  assert.equal(s.filter.pids, null);
  // Esc leaves the filter as it was.
  s.handleKey(ch('p'));
  typeText(s, '5');
  s.handleKey(key('escape'));
  assert.equal(s.filter.pids, null);
  assert.equal(s.mode, 'table');
});

test('q and other letters are text inside the prompt', () => {
  const s = new UiState();
  s.handleKey(ch('/'));
  assert.equal(s.handleKey(ch('q')), 'render');
  typeText(s, 'uic d');
  s.handleKey(key('enter'));
  assert.equal(s.filter.comm, 'quic d');
});

test('F follows the selected pid; F again or Esc clears; Esc clears every filter', () => {
  const s = new UiState({ pids: parsePidFilter('1-100'), comm: 'nginx' });
  s.setRows([3, 4]);
  s.handleKey(key('down'));
  s.handleKey({ ch: 'F', name: 'f' });
  assert.equal(s.filter.follow, 4);
  assert.equal(s.filterText(), 'follow 4, pid 1-100, comm ~ nginx');
  s.handleKey({ ch: 'F', name: 'f' });
  assert.equal(s.filter.follow, null);
  s.handleKey({ ch: 'F', name: 'f' });
  s.handleKey(key('escape'));
  assert.deepEqual(s.filter, { pids: null, comm: null, follow: null });
  assert.equal(s.filterText(), '');
});

test('sort: s and > go right, < goes left, r reverses, each column has a natural direction', () => {
  const s = new UiState();
  assert.equal(s.sortKey, 'conn');
  assert.equal(s.descending, true);
  s.handleKey(ch('>'));
  assert.equal(s.sortKey, 'acc');
  s.handleKey(ch('s'));
  assert.equal(s.sortKey, 'close');
  s.handleKey(ch('<'));
  s.handleKey(ch('<'));
  s.handleKey(ch('<'));
  assert.equal(s.sortKey, 'open');
  s.handleKey(ch('r'));
  assert.equal(s.descending, false);
  for (let i = 0; i < 4; i++) s.handleKey(ch('<'));
  assert.equal(s.sortKey, 'pid');
  assert.equal(s.descending, false);
  s.handleKey(ch('<'));
  assert.equal(s.sortKey, 'age', 'wraps around');
});

test('space pauses and resumes; help opens over the current mode and closes back to it', () => {
  const s = new UiState();
  s.handleKey({ name: 'space', ch: ' ' });
  assert.equal(s.paused, true);
  s.setRows([1]);
  s.handleKey(key('enter'));
  s.handleKey(ch('?'));
  assert.equal(s.mode, 'help');
  s.handleKey(key('escape'));
  assert.equal(s.mode, 'detail');
  s.handleKey({ name: 'space', ch: ' ' });
  assert.equal(s.paused, false);
});

test('ctrl-c quits from any mode', () => {
  const s = new UiState();
  s.handleKey(ch('p'));
  assert.equal(s.handleKey({ name: 'C-c' }), 'quit');
});

test('mouse: click selects a visible row, wheel moves', () => {
  const s = new UiState();
  s.pageSize = 2;
  s.setRows([1, 2, 3, 4]);
  s.handleKey(key('end'));
  assert.deepEqual(s.visibleRange(), [2, 4]);
  assert.equal(s.clickRow(0), 'render');
  assert.equal(s.selectedPid, 3);
  assert.equal(s.clickRow(5), 'none');
  s.wheel(-2);
  assert.equal(s.selectedPid, 1);
});

test('replay keys only in replay', () => {
  assert.equal(new UiState().handleKey(ch('+')), 'none');
  const r = new UiState({ replay: true });
  assert.equal(r.handleKey(ch('+')), 'speed-up');
  assert.equal(r.handleKey(ch('-')), 'speed-down');
  assert.equal(r.handleKey(key('left')), 'seek-back');
  assert.equal(r.handleKey(key('right')), 'seek-forward');
});

test('C and N: container and netns prompts; a bad inode keeps the prompt open with the reason; Esc clears both', () => {
  const s = new UiState({ container: 'nginx' });
  assert.equal(s.filter.container, 'nginx');
  s.handleKey(ch('C'));
  assert.equal(s.prompt?.kind, 'container');
  assert.equal(s.prompt?.text, 'nginx', 'the prompt starts from the filter in force');
  s.handleKey(key('C-u'));
  typeText(s, '3f4e5d');
  s.handleKey(key('enter'));
  assert.equal(s.filter.container, '3f4e5d');
  s.handleKey(ch('N'));
  typeText(s, 'x12');
  s.handleKey(key('enter'));
  assert.equal(s.mode, 'prompt');
  assert.match(s.prompt?.error ?? '', /bad network namespace 'x12'/);
  s.handleKey(key('C-u'));
  typeText(s, '4026531840');
  s.handleKey(key('enter'));
  assert.equal(s.filter.netns, 4026531840);
  assert.equal(s.filterText(), 'container 3f4e5d, netns 4026531840');
  s.handleKey(key('escape'));
  assert.equal(s.filter.container ?? null, null);
  assert.equal(s.filter.netns ?? null, null);
});
