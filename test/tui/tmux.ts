/**
 * Drive a real terminal program through tmux: start it in a detached session of a given size, send
 * keys, read the screen back (capture-pane). Each Tmux uses its own server socket (-L), so it never
 * touches anyone's tmux sessions, and kill() ends only that server.
 */
import { execFileSync, spawnSync } from 'child_process';

export function tmuxAvailable(): boolean {
  return spawnSync('tmux', ['-V']).status === 0;
}

export class Tmux {
  private readonly socket = `socktop-test-${process.pid}-${Math.random().toString(36).slice(2, 8)}`;

  constructor(readonly session = 'tui') {}

  private tmux(args: string[]): string {
    return execFileSync('tmux', ['-L', this.socket, ...args], { encoding: 'utf8' });
  }

  /** Start `command` (a shell command line) in a detached session of width x height. */
  start(command: string, width = 120, height = 40, env: Record<string, string> = {}): void {
    const envArgs = Object.entries(env).flatMap(([k, v]) => ['-e', `${k}=${v}`]);
    this.tmux(['new-session', '-d', '-s', this.session, '-x', String(width), '-y', String(height), ...envArgs, command]);
  }

  /** The screen as text, one string per row. */
  screen(): string[] {
    return this.tmux(['capture-pane', '-p', '-t', this.session]).split('\n');
  }

  /** The screen with its escape sequences (colours, inverse), one string per row. */
  screenWithEscapes(): string[] {
    return this.tmux(['capture-pane', '-p', '-e', '-t', this.session]).split('\n');
  }

  /** A mouse click (button 1, SGR encoding) at 0-based column x, row y. */
  click(x: number, y: number): void {
    // Two writes: blessed decodes one mouse report per read.
    this.type(`\x1b[<0;${x + 1};${y + 1}M`);
    this.type(`\x1b[<0;${x + 1};${y + 1}m`);
  }

  /** One notch of the mouse wheel at 0-based column x, row y (up: -1, down: +1). */
  wheel(x: number, y: number, direction: -1 | 1): void {
    this.type(`\x1b[<${direction < 0 ? 64 : 65};${x + 1};${y + 1}M`);
  }

  /** Keys by tmux name (Enter, Escape, Space, Up, C-c) or literal characters. */
  keys(...keys: string[]): void {
    this.tmux(['send-keys', '-t', this.session, ...keys]);
  }

  type(text: string): void {
    this.tmux(['send-keys', '-t', this.session, '-l', text]);
  }

  resize(width: number, height: number): void {
    this.tmux(['resize-window', '-t', this.session, '-x', String(width), '-y', String(height)]);
  }

  /** Poll the screen until `check` returns a value (not undefined/false), or fail with the screen. */
  async waitFor<T>(what: string, check: (screen: string[]) => T | undefined | false, timeoutMs = 10000): Promise<T> {
    const until = Date.now() + timeoutMs;
    let last: string[] = [];
    while (Date.now() < until) {
      last = this.screen();
      const v = check(last);
      if (v !== undefined && v !== false) return v;
      await new Promise((r) => setTimeout(r, 100));
    }
    throw new Error(`timed out waiting for ${what}; screen:\n${last.join('\n')}`);
  }

  kill(): void {
    spawnSync('tmux', ['-L', this.socket, 'kill-server']);
  }
}
