/**
 * Where tracefs is not mounted (as on a fresh boot of the target machines), kernel.ts reports the
 * tracepoints as unknown rather than missing, and open() mounts tracefs itself. Runs in a private
 * mount namespace (unshare -m) so the host's tracefs, used by other tests, is never touched.
 */
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'child_process';
import * as path from 'path';
import { fixtureObject, fixtureTestOptions } from './native-fixture';

const SCRIPT = path.join(__dirname, 'capture-scripts/tracefs-check.js');

function options(): { skip?: string; timeout?: number } {
  const base = fixtureTestOptions();
  if (base.skip) return base;
  if (spawnSync('unshare', ['--version'], { stdio: 'ignore' }).status !== 0) return { skip: 'unshare(1) not available' };
  return base;
}

test('without tracefs: tracepoints are unknown, and open() mounts it', options(), () => {
  const shell = 'umount /sys/kernel/tracing 2>/dev/null; umount /sys/kernel/debug 2>/dev/null; exec "$0" "$@"';
  const out = execFileSync('unshare', ['-m', '--propagation', 'private', 'sh', '-c', shell,
    process.execPath, SCRIPT, fixtureObject()], { encoding: 'utf8' });
  const r = JSON.parse(out.trim());
  assert.equal(r.tracefsBefore, null);
  assert.deepEqual(r.presentBefore, ['unknown']);
  assert.match(r.reason, /tracefs is not mounted/);
  assert.equal(r.mountedTracefs, true);
  assert.equal(r.tracefsAfter, '/sys/kernel/tracing');
  assert.deepEqual(r.missingAfter, []);
});
