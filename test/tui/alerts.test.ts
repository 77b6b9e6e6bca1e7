/**
 * --alert in the real TUI: `socktop replay samples/demo.socktop --speed 0 --alert ...` in a terminal
 * (tmux), its screen read back: the header's last line (under the view bar) lists the alerts, firing first, and the
 * table starts below it. No root, no BPF.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Tmux, tmuxAvailable } from './tmux';

const ROOT = path.resolve(__dirname, '../../..');
const CLI = path.join(ROOT, 'dist/src/cli/main.js');
const SAMPLE = path.join(ROOT, 'samples/demo.socktop');

function options(): { skip?: string } {
  if (!tmuxAvailable()) return { skip: 'tmux is not installed' };
  if (!fs.existsSync(SAMPLE)) return { skip: `${SAMPLE} is missing` };
  return {};
}

test('TUI: the alert line under the header, firing first; red with colour, bold only under NO_COLOR', options(), async () => {
  for (const noColor of [false, true]) {
    const tmux = new Tmux();
    try {
      tmux.start(`node ${CLI} replay ${SAMPLE} --speed 0 -d 0.2 --alert 'accept_p99>100ms' --alert 'connects>0' --alert 'lost>0'; sleep 60`,
        120, 40, noColor ? { NO_COLOR: '1' } : {});
      const screen = await tmux.waitFor('the firing alert', (s) => (/^alerts \(1 firing\):/.test(s[4] ?? '') ? s : undefined), 15000);
      assert.match(screen[4], /^alerts \(1 firing\):  connects>0 FIRING \d+ events  accept_p99>100ms no data  lost>0 ok\s*$/);
      assert.ok(/^\s+PID\s/.test(screen[5]), `the table starts under the alert line: ${screen[5]}`);
      const raw = tmux.screenWithEscapes()[4];
      const red = /\x1b\[[0-9;]*31[;m]/.test(raw);
      assert.equal(red, !noColor, `colour ${noColor ? 'off' : 'on'}: ${JSON.stringify(raw)}`);
      tmux.type('q');
    } finally {
      tmux.kill();
    }
  }
});
