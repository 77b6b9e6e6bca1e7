/**
 * Issue 10 on real BPF, through the real CLI: --force overwrites an existing recording (`record -w`
 * and `--record`), only the invoking user's own regular file, and under sudo the new file is born
 * the sudo user's while a planted link next to it is left alone. (The refusals themselves happen
 * before any capture starts: test/unit/record-safety.test.ts.)
 */
import { after, test } from 'node:test';
import * as assert from 'node:assert/strict';
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { openRecording } from '../../src/record/reader';
import { liveTestOptions } from './bpf-available';
import { CLI, startSocktop } from './socktop-run';

const NOBODY = 65534;
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'socktop-rec-safety-'));
fs.chmodSync(dir, 0o1777); // like /tmp: anyone may create, nobody may replace another's file
after(() => fs.rmSync(dir, { recursive: true, force: true }));

function record(args: string[], env: NodeJS.ProcessEnv = process.env): { status: number | null; stderr: string } {
  const r = spawnSync(process.execPath, [CLI, 'record', ...args], {
    encoding: 'utf8', env, cwd: dir, timeout: 60000, killSignal: 'SIGKILL', stdio: ['ignore', 'ignore', 'pipe'],
  });
  return { status: r.status, stderr: r.stderr };
}

function replays(file: string): number {
  const rec = openRecording(file);
  try {
    assert.deepEqual(rec.warnings, []);
    assert.ok(rec.end, 'END frame');
    return rec.records;
  } finally {
    rec.close();
  }
}

test('record -w EXISTING: refused without --force; with --force the same file becomes the recording', { ...liveTestOptions(), timeout: 120000 }, () => {
  const file = path.join(dir, 'again.socktop');
  fs.writeFileSync(file, 'an old recording', { mode: 0o644 });
  const ino = fs.statSync(file).ino;
  const refused = record(['-w', file, '--duration', '1s']);
  assert.equal(refused.status, 2, refused.stderr);
  assert.match(refused.stderr.trim(), /^socktop: .*again\.socktop exists: use --force to overwrite$/);
  assert.equal(fs.readFileSync(file, 'utf8'), 'an old recording');
  const forced = record(['-w', file, '--duration', '1s', '--force']);
  assert.equal(forced.status, 0, forced.stderr);
  const st = fs.statSync(file);
  assert.equal(st.ino, ino);
  assert.equal(st.mode & 0o777, 0o600);
  replays(file);
});

test('socktop --json --record EXISTING --force: overwritten, stopped by SIGINT, a whole recording', { ...liveTestOptions(), timeout: 120000 }, async () => {
  const file = path.join(dir, 'live.socktop');
  fs.writeFileSync(file, 'x'.repeat(100000));
  const socktop = await startSocktop(['--json', '--record', file, '--force']);
  await new Promise((r) => setTimeout(r, 1000));
  assert.equal(await socktop.stop('SIGINT'), 0, socktop.stderr());
  replays(file);
  assert.ok(!fs.readFileSync(file).includes(Buffer.from('x'.repeat(64))), 'the old bytes are gone');
});

test('under sudo: a new recording is the sudo user\'s, --force takes only their own file, a planted link stays untouched', {
  ...liveTestOptions(), timeout: 120000,
}, () => {
  const env = { ...process.env, SUDO_UID: String(NOBODY), SUDO_GID: String(NOBODY) };
  const secret = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'socktop-secret-')), 'shadow');
  fs.writeFileSync(secret, 'root only', { mode: 0o600 });
  const before = fs.statSync(secret, { bigint: true });
  const link = path.join(dir, 'planted.socktop');
  fs.symlinkSync(secret, link);
  fs.lchownSync(link, NOBODY, NOBODY);
  const viaLink = record(['-w', link, '--duration', '1s', '--force'], env);
  assert.equal(viaLink.status, 2, viaLink.stderr);
  assert.match(viaLink.stderr.trim(), /^socktop: .*planted\.socktop: refusing to write through a symbolic link$/);

  const mine = path.join(dir, 'sudo.socktop');
  const made = record(['-w', mine, '--duration', '1s'], env);
  assert.equal(made.status, 0, made.stderr);
  let st = fs.statSync(mine);
  assert.deepEqual({ uid: st.uid, gid: st.gid, mode: st.mode & 0o777 }, { uid: NOBODY, gid: NOBODY, mode: 0o600 });
  replays(mine);
  const again = record(['-w', mine, '--duration', '1s', '--force'], env);
  assert.equal(again.status, 0, again.stderr);
  st = fs.statSync(mine);
  assert.equal(st.uid, NOBODY);
  replays(mine);

  const roots = path.join(dir, 'roots.socktop');
  fs.writeFileSync(roots, 'root\'s');
  const theirs = record(['-w', roots, '--duration', '1s', '--force'], env);
  assert.equal(theirs.status, 2, theirs.stderr);
  assert.match(theirs.stderr.trim(), /roots\.socktop is owned by uid 0, not by you: refusing to overwrite it$/);
  assert.equal(fs.readFileSync(roots, 'utf8'), 'root\'s');

  const after = fs.statSync(secret, { bigint: true });
  assert.deepEqual([after.ino, after.mode, after.uid, after.gid, after.size, after.ctimeNs], [before.ino, before.mode, before.uid, before.gid, before.size, before.ctimeNs]);
  assert.equal(fs.readFileSync(secret, 'utf8'), 'root only');
  fs.rmSync(path.dirname(secret), { recursive: true, force: true });
});
