/**
 * Without privileges a capture must fail with code EPERM and a message that says what is needed.
 * Runs the attempt as user nobody (setpriv), so it needs root to start; skips otherwise.
 */
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { execFileSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { bpfObjectPath, nativeAddonPath } from '../../src/capture/addon';
import { fixtureObject } from './native-fixture';

const SCRIPT = path.join(__dirname, 'capture-scripts/open-capture.js');

function skipReason(): string | null {
  if (process.getuid?.() !== 0) return 'needs root to switch to user nobody';
  if (!fs.existsSync(nativeAddonPath())) return 'native addon not built';
  return null;
}

/** The real object when built, else the fixture: the privilege check comes before loading. */
function objectPath(): string {
  return fs.existsSync(bpfObjectPath()) ? bpfObjectPath() : fixtureObject();
}

const reason = skipReason();

test('as user nobody, startCapture() fails with EPERM and names the privileges needed', { skip: reason ?? false, timeout: 30000 }, () => {
  const out = execFileSync('setpriv', ['--reuid=nobody', '--regid=nogroup', '--clear-groups', '--',
    process.execPath, SCRIPT, 'tracepoint', objectPath()], { encoding: 'utf8' });
  const result = JSON.parse(out.trim());
  assert.equal(result.code, 'EPERM', out);
  assert.match(result.message, /needs root or CAP_BPF\+CAP_PERFMON/);
  assert.ok(!result.message.includes('\n'), 'one line');
});
