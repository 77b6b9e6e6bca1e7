/**
 * help.ts: the `?` overlay: keys, columns, and where the figures come from.
 */
import * as blessed from 'blessed';
import { esc } from './theme';

export const HELP_TEXT = [
  'socktop: live per-process socket lifecycle events from eBPF',
  '',
  'KEYS',
  '  q            quit (in the detail view: back)       ?  h     this help',
  '  up/down j k  move            PgUp PgDn Home End    Enter    detail of the process',
  '  p            PID filter: 123,456  100-200  !123 excludes; empty clears',
  '  /            command name filter (substring, any case)',
  '  F            follow the selected process only (F again: all)',
  '  Esc          clear every filter (in the detail view: back)',
  '  s > <        next / previous sort column     r  reverse the sort',
  '  space        pause the display (capture goes on; counts catch up on resume)',
  '  + - left right   replay speed and seek (replay only)',
  '  mouse        click selects a row, the wheel scrolls',
  '',
  'COLUMNS',
  '  S        X = the process exited (kept for 60 s, then removed)',
  '  LISTEN   listening ports          OPEN  sockets open now (seen created and not closed)',
  '  CONN/s ACC/s CLOSE/s   per second over the last 5 s (connect results, accepts, closes)',
  '  ERR      failed connects (by errno), other failed calls, and resets    RETX  retransmits',
  '  TX/s RX/s   bytes per second each way     LAT-p50/p99  connect latency since start',
  '  AGE      time since the process\'s last socket event',
  '',
  'Press any key to close this help.',
];

export class HelpView {
  readonly box: blessed.Widgets.BoxElement;

  constructor(screen: blessed.Widgets.Screen) {
    this.box = blessed.box({
      parent: screen, top: 'center', left: 'center', width: 84, height: HELP_TEXT.length + 2,
      border: { type: 'line' }, label: ' help ', tags: true, hidden: true,
      content: HELP_TEXT.map(esc).join('\n'),
    });
  }
}
