/**
 * The habits a terminal tool is expected to have: --version (the package's), `socktop help
 * <topic>`, shell completion from yargs. (NO_COLOR: ui-views.test.ts and the TUI test.)
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { parseCli } from '../../src/cli/index';
import { HELP_TOPICS, helpTopic } from '../../src/cli/help-topics';
import { KIND_NAMES, STAGE_NAMES } from '../../src/capture/layout';

const MAIN = path.resolve(__dirname, '../../src/cli/main.js');
const PACKAGE = path.resolve(__dirname, '../../../package.json');

function socktop(args: string[]) {
  return spawnSync(process.execPath, [MAIN, ...args], { encoding: 'utf8', timeout: 20000 });
}

test('--version and -V print the package version', () => {
  const version = JSON.parse(fs.readFileSync(PACKAGE, 'utf8')).version;
  for (const flag of ['--version', '-V']) {
    const r = socktop([flag]);
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stdout, `${version}\n`);
  }
});

test('help <topic>: every topic prints, an unknown one is a usage error', async () => {
  assert.deepEqual(HELP_TOPICS, ['keys', 'privileges', 'json', 'recording', 'alerts', 'backends', 'views']);
  for (const topic of HELP_TOPICS) {
    assert.equal((await parseCli(['help', topic]))?.command, 'help');
    const r = socktop(['help', topic]);
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stdout, helpTopic(topic));
    assert.ok(r.stdout.split('\n').length > 4, topic);
  }
  const json = helpTopic('json');
  for (const kind of KIND_NAMES.slice(1).filter(Boolean)) assert.match(json, new RegExp(`\\b${kind}\\b`));
  for (const stage of Object.values(STAGE_NAMES)) assert.match(json, new RegExp(`\\b${stage}\\b`));
  const bad = socktop(['help', 'nope']);
  assert.equal(bad.status, 2);
  assert.equal(bad.stderr.trim().split('\n').length, 1);
  assert.match(bad.stderr, /'nope' is not one of keys, privileges/);
});

test('completion: the script, and the words it offers', () => {
  const script = socktop(['completion']);
  assert.equal(script.status, 0, script.stderr);
  assert.match(script.stdout, /complete -o bashdefault -o default -F _socktop_yargs_completions socktop/);
  assert.equal(script.stderr, '');
  const commands = socktop(['--get-yargs-completions', 'socktop', '']);
  assert.equal(commands.status, 0);
  assert.deepEqual(commands.stdout.trim().split('\n').filter((w) => !w.startsWith('-')),
    ['check', 'record', 'replay', 'exporter', 'help', 'completion']);
  const options = socktop(['--get-yargs-completions', 'socktop', '--']);
  assert.ok(options.stdout.split('\n').includes('--probe'), options.stdout);
});
