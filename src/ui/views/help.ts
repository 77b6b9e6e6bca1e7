/**
 * help.ts: the `?` overlay: keys, columns, and where the figures come from.
 */
import * as blessed from 'blessed';
import { esc } from './theme';

export const HELP_TEXT = [
  'socktop: live per-process socket lifecycle events from eBPF',
  'KEYS',
  ' q  quit (detail: back)      ? h  this help        Enter  process detail',
  ' up down j k PgUp PgDn Home End  move         mouse: click selects, wheel',
  ' p  PID filter: 123,456  100-200  !123 excludes; empty clears',
  ' /  command name filter (substring, any case)  F  follow the selected one',
  ' u  socket families: all -> inet -> unix -> all (from now on)',
  ' Esc  clear every filter (detail: back)    s > <  sort column  r  reverse',
  ' space  pause the display (capture goes on; counts catch up on resume)',
  ' replay: space pause/play  + - speed  left right seek 10 s  g G start/end',
  'COLUMNS',
  ' S       X: the process exited (kept for 60 s, then removed)',
  ' LISTEN  listening ports     OPEN  sockets seen created and not closed yet',
  ' CONN/s ACC/s CLOSE/s  per second over the last 5 s (connect results,',
  '         accepts, closes)    TX/s RX/s  bytes per second each way',
  ' ERR     failed connects, other failed calls, resets    RETX  retransmits',
  ' LAT-p50/p99  connect latency since start   AGE  since the last event',
  'Press any key to close this help.',
];

export class HelpView {
  readonly box: blessed.Widgets.BoxElement;

  constructor(screen: blessed.Widgets.Screen) {
    this.box = blessed.box({
      parent: screen, top: 'center', left: 'center', width: 80, height: HELP_TEXT.length + 2,
      border: { type: 'line' }, label: ' help ', tags: true, hidden: true,
      content: HELP_TEXT.map(esc).join('\n'),
    });
  }
}
