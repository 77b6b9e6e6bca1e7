/**
 * help.ts: the `?` overlay: keys, columns, and where the figures come from.
 */
import * as blessed from 'blessed';
import { esc } from './theme';

export const HELP_TEXT = [
  'socktop: live per-process socket lifecycle events from eBPF',
  'KEYS',
  ' q  quit (detail: back)      ? h  this help        Enter  drill into the row',
  ' 1 processes 2 commands 3 tree 4 connections 5 remotes 6 listening; Tab S-Tab',
  '   commands: u by command/user   tree: + - unfold/fold (replay speed: [ ])',
  ' up down j k PgUp PgDn Home End  move         mouse: click selects, wheel',
  ' p  PID filter: 123,456  100-200  !123 excludes; empty clears',
  ' /  command name filter (substring, any case)  F  follow the selected one',
  ' C  container filter: id / pod UID prefix or name   N  netns filter: inode',
  ' f  socket families: all -> inet -> unix -> all (from now on)',
  ' Esc  clear every filter (detail: back)    s > <  sort column  r  reverse',
  ' space  pause the display (capture goes on; counts catch up on resume)',
  ' replay: space pause/play  + - speed  left right seek 10 s  g G start/end',
  'COLUMNS',
  ' S       X: the process exited (kept for 60 s, then removed)',
  ' LISTEN  listening ports     OPEN  sockets seen created and not closed yet',
  ' CONN/s ACC/s CLOSE/s  per second over the last 5 s (connect results,',
  '         accepts, closes)    TX/s RX/s  bytes per second each way',
  ' ERR     failed connects, other failed calls, resets    RETX  retransmits',
  ' FAIL    failed connects (Enter: by reason) and resets after establishment',
  ' QUEUE   accept queue len/backlog   OVFL  connections dropped: queue full',
  ' ACCW-p99  wait in the accept queue   red row: a server not keeping up',
  ' LAT-p50/p99  connect latency since start   AGE  since the last event',
  ' CONTAINER  container id (12 digits) or systemd unit of its cgroup; empty:',
  '         the root cgroup    NETNS  network namespace inode (lsns -t net)',
  ' POD     Kubernetes pod UID (from the cgroup path)',
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
