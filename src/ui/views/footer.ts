/**
 * footer.ts: the bottom line: the main keys, or the filter prompt being typed (with its inline
 * error message after a bad entry).
 */
import * as blessed from 'blessed';
import type { PromptKind, UiState } from '../state';
import { Line } from './line';
import { Theme } from './theme';
import type { ViewName } from '../../model/views/registry';
import { nextGrouping } from '../../model/views/commands';

const KEYS: [string, string][] = [
  ['q', 'quit'], ['?', 'help'], ['1-6/Tab', 'view'], ['Enter', 'detail'], ['p', 'pid'], ['/', 'comm'], ['F', 'follow'],
  ['Esc', 'clear'], ['s<>', 'sort'], ['r', 'reverse'], ['space', 'pause'],
];

/** In a replay the replay's own keys come first (g/G there seek, Home/End still move). */
const REPLAY_KEYS: [string, string][] = [
  ['q', 'quit'], ['?', 'help'], ['space', 'play/pause'], ['+-', 'speed'], ['←→', 'seek 10s'], ['gG', 'start/end'],
  ['1-6/Tab', 'view'], ['Enter', 'detail'], ['p', 'pid'], ['/', 'comm'], ['s<>', 'sort'], ['Esc', 'clear'],
];

const PROMPT_TITLES: Record<PromptKind, string> = {
  pid: 'PID filter (123,456 100-200 !123; empty clears): ',
  comm: 'command filter: ',
  container: 'container filter (id or pod UID prefix, or a name such as nginx.service; empty clears): ',
  netns: 'network namespace filter (inode, as lsns -t net shows; empty clears): ',
};

/** What Enter does in each view. */
const ENTER: Record<ViewName, string> = {
  processes: 'detail', tree: 'detail', connections: 'owner', commands: 'processes', remotes: 'connections', listeners: 'connections',
};

/** The keys of the view shown: Enter's meaning, and the view's own keys first. */
function viewKeys(state: UiState, base: [string, string][]): [string, string][] {
  let keys = base.map(([k, what]): [string, string] => [k, k === 'Enter' ? ENTER[state.view] : what]);
  if (state.view === 'tree') {
    keys = keys.filter(([k]) => k !== '+-');
    keys.splice(2, 0, ['+-', 'fold'], ...(state.replay ? [['[]', 'speed'] as [string, string]] : []));
  }
  if (state.view === 'commands') keys.splice(2, 0, ['u', `by ${nextGrouping(state.groupBy)}`]);
  return keys;
}

export function footerLine(state: UiState, theme: Theme, width: number): string {
  const p = state.prompt;
  if (state.mode === 'prompt' && p) {
    const title = PROMPT_TITLES[p.kind];
    const line = new Line().add(title, (s) => theme.bold(s)).add(p.text).add('_', (s) => theme.inverse(s));
    if (p.error) line.add(`  ${p.error}`, (s) => theme.bold(theme.fg('red', s)));
    return line.toString();
  }
  const line = new Line();
  const keys = state.mode === 'detail' ? [['Esc/q', 'back'], ['up/down', 'scroll'], ['space', 'pause'], ['?', 'help']]
    : viewKeys(state, state.replay ? REPLAY_KEYS : KEYS);
  for (const [k, what] of keys) {
    if (line.length + k.length + what.length + 3 > width) break;
    line.add(k, (s) => theme.inverse(theme.bold(s))).add(` ${what}  `);
  }
  return line.toString();
}

export class FooterView {
  readonly box: blessed.Widgets.BoxElement;

  constructor(screen: blessed.Widgets.Screen) {
    this.box = blessed.box({ parent: screen, bottom: 0, left: 0, height: 1, width: '100%', tags: true });
  }

  render(state: UiState, theme: Theme, width: number): void {
    this.box.setContent(footerLine(state, theme, width));
  }
}
