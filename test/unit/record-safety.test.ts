/**
 * Issue 10, hostile input, writing side: a recording never follows a planted symbolic link or hard
 * link, never truncates, chmods or gives away another file, is created AS the invoking user (the
 * sudo user under sudo: nothing is chown()ed), and overwrites an existing file only with --force
 * (and then only a regular file with one link that the invoking user owns). src/record/safe-open.ts,
 * recording-file.ts (recordingStartOptions), writer.ts, commands.ts (recordCommand) and the CLI.
 *
 * The attacks need root to mean anything (a root-owned target, a sticky world-writable directory,
 * SUDO_UID=65534): those tests are skipped when not root. The CLI refusals run before any capture
 * starts, so they need neither BPF nor root.
 */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Worker } from 'node:worker_threads';
import { RECORD_SIZE } from '../../src/capture/layout';
import { SharedRing } from '../../src/capture/ring';
import type { CaptureSession, StartOptions } from '../../src/capture/session';
import { RecordingError } from '../../src/record/format';
import { openRecording } from '../../src/record/reader';
import { recordingStartOptions } from '../../src/record/recording-file';
import { recordCommand } from '../../src/record/commands';
import { invokingUser, openRecordingForWrite } from '../../src/record/safe-open';
import { RecordingWriter } from '../../src/record/writer';
import { tmpDir } from './fixtures/record-synth';

const ROOT = process.getuid?.() === 0;
const needsRoot = { skip: ROOT ? false : 'needs root (root-owned targets, other uids)' };
const NOBODY = 65534;
const SUDO_NOBODY = { ...process.env, SUDO_UID: String(NOBODY), SUDO_GID: String(NOBODY), SUDO_USER: '' };
const CLI = path.resolve(__dirname, '../../src/cli/main.js');
const FAKE = path.join(__dirname, 'fixtures', 'record-fake-capture.js');

const base = tmpDir('socktop-safety-');
fs.chmodSync(base, 0o755); // other users reach the sticky directories inside
after(() => fs.rmSync(base, { recursive: true, force: true }));

/** A fresh sticky world-writable directory (like /tmp): where other users plant links. */
function stickyDir(): string {
  const d = fs.mkdtempSync(path.join(base, 'sticky-'));
  fs.chmodSync(d, 0o1777);
  return d;
}

/** A file that must never change: root's (when root), mode 0640, known content. */
function precious(): string {
  const d = fs.mkdtempSync(path.join(base, 'precious-'));
  const f = path.join(d, 'shadow');
  fs.writeFileSync(f, 'root:secret-hash:19000::::::\n', { mode: 0o640 });
  fs.chmodSync(f, 0o640);
  return f;
}

interface Snapshot { content: string; mode: number; uid: number; gid: number; ino: number; ctimeNs: bigint; nlink: number }
function snapshot(f: string): Snapshot {
  const st = fs.statSync(f, { bigint: true });
  return {
    content: fs.readFileSync(f, 'utf8'), mode: Number(st.mode & 0o7777n), uid: Number(st.uid), gid: Number(st.gid),
    ino: Number(st.ino), ctimeNs: st.ctimeNs, nlink: Number(st.nlink),
  };
}

function expectRefusal(fn: () => unknown, code: string, re: RegExp): RecordingError {
  try {
    const r = fn() as { fd?: number; release?: () => void } | undefined;
    if (r && typeof r.release === 'function') r.release();
    else if (r && typeof r.fd === 'number') fs.closeSync(r.fd);
  } catch (e) {
    assert.ok(e instanceof RecordingError, `expected RecordingError, got ${String(e)}`);
    assert.equal(e.code, code, e.message);
    assert.match(e.message, re);
    assert.ok(!e.message.includes('\n'), 'one line');
    return e;
  }
  assert.fail(`expected a refusal ${code} ${re}`);
}

const identity = (): string => `${process.geteuid?.()}:${process.getegid?.()}:${process.getgroups?.().join(',')}`;

// ------------------------------------------------------------------------------------ links

test('a planted symbolic link (to root\'s file, or dangling) is never followed: with or without --force, under sudo or not', needsRoot, () => {
  const dir = stickyDir();
  const target = precious();
  const before = snapshot(target);
  const link = path.join(dir, 'x.socktop');
  fs.symlinkSync(target, link);
  fs.lchownSync(link, NOBODY, NOBODY); // planted by another user
  const dangling = path.join(dir, 'y.socktop');
  const wouldCreate = path.join(path.dirname(target), 'created-through-link');
  fs.symlinkSync(wouldCreate, dangling);
  fs.lchownSync(dangling, NOBODY, NOBODY);
  const me = identity();
  for (const p of [link, dangling]) {
    for (const force of [false, true]) {
      for (const env of [process.env, SUDO_NOBODY]) {
        const re = new RegExp(`^${p.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: refusing to write through a symbolic link$`);
        expectRefusal(() => openRecordingForWrite(p, { force, env }), 'EUNSAFE', re);
        expectRefusal(() => recordingStartOptions(p, {}, { force, env }), 'EUNSAFE', re);
        assert.equal(identity(), me, 'identity restored after the open');
      }
    }
    // The writer's own path-based open (tests, bench) does not follow links either.
    expectRefusal(() => RecordingWriter.create(p, { backend: 'x' }, { timer: false }), 'EUNSAFE', /refusing to write through a symbolic link/);
  }
  assert.deepEqual(snapshot(target), before, 'target unchanged: content, mode, owner, inode, ctime (no chmod, no chown)');
  assert.ok(!fs.existsSync(wouldCreate), 'nothing created through the dangling link');
  assert.equal(fs.readlinkSync(link), target, 'the link itself is left alone');
});

test('a planted hard link to root\'s file is refused: "exists" without --force, "has 2 links" with it', needsRoot, () => {
  const dir = stickyDir();
  const target = precious();
  const link = path.join(dir, 'x.socktop');
  fs.linkSync(target, link);
  const before = snapshot(target);
  assert.equal(before.nlink, 2);
  const q = link.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  for (const env of [process.env, SUDO_NOBODY]) {
    expectRefusal(() => openRecordingForWrite(link, { env }), 'EEXIST', new RegExp(`^${q} exists: use --force to overwrite$`));
    expectRefusal(() => recordingStartOptions(link, {}, { force: false, env }), 'EEXIST', /exists: use --force to overwrite/);
  }
  // As root itself (no sudo): the fstat of the opened descriptor sees 2 links.
  expectRefusal(() => openRecordingForWrite(link, { force: true, env: {} }), 'EUNSAFE', new RegExp(`^${q} has 2 links: refusing to overwrite it$`));
  // Under sudo: not even opened for writing by root; the reason is still named.
  expectRefusal(() => openRecordingForWrite(link, { force: true, env: SUDO_NOBODY }), 'EUNSAFE', /has 2 links: refusing to overwrite it$/);
  expectRefusal(() => RecordingWriter.create(link, { backend: 'x' }, { timer: false }), 'EUNSAFE', /has 2 links/);
  assert.deepEqual(snapshot(target), before, 'target unchanged: content, mode, owner, inode, ctime');
});

// ------------------------------------------------------------------------------------ sudo

test('under sudo the file is created as SUDO_UID:SUDO_GID (0600), not chowned afterwards; identity restored', needsRoot, () => {
  const dir = stickyDir();
  const neighbour = precious();
  const before = snapshot(neighbour);
  const me = identity();
  const file = path.join(dir, 'mine.socktop');
  const o = openRecordingForWrite(file, { env: SUDO_NOBODY });
  try {
    assert.equal(identity(), me, 'root again after the open');
    assert.equal(o.created, true);
    const st = fs.fstatSync(o.fd);
    assert.deepEqual({ uid: st.uid, gid: st.gid, mode: st.mode & 0o7777 }, { uid: NOBODY, gid: NOBODY, mode: 0o600 });
    fs.writeSync(o.fd, 'data');
  } finally {
    fs.closeSync(o.fd);
  }
  assert.deepEqual(snapshot(neighbour), before);
  // The proof it is opened AS the user: where the user may not create, root does not do it for them
  // (a create-then-chown would succeed here).
  const rootOnly = fs.mkdtempSync(path.join(base, 'root-only-'));
  fs.chmodSync(rootOnly, 0o755);
  expectRefusal(() => openRecordingForWrite(path.join(rootOnly, 'x.socktop'), { env: SUDO_NOBODY }), 'EIO',
    /^cannot create recording .*x\.socktop: EACCES: permission denied \(the recording is created as uid 65534, who ran sudo\)$/);
  assert.deepEqual(fs.readdirSync(rootOnly), []);
  assert.equal(identity(), me);
  // --force under sudo: the user's own file is overwritten, root's is not.
  const o2 = openRecordingForWrite(file, { env: SUDO_NOBODY, force: true });
  assert.equal(o2.created, false);
  assert.equal(fs.fstatSync(o2.fd).size, 0);
  fs.closeSync(o2.fd);
  const roots = path.join(dir, 'roots.socktop');
  fs.writeFileSync(roots, 'root was here');
  expectRefusal(() => openRecordingForWrite(roots, { env: SUDO_NOBODY, force: true }), 'EUNSAFE',
    /roots\.socktop is owned by uid 0, not by you: refusing to overwrite it$/);
  assert.equal(fs.readFileSync(roots, 'utf8'), 'root was here');
  assert.equal(identity(), me);
});

test('root that may not switch its uid (no CAP_SETUID): creates the file as itself, still safely, never a crash', needsRoot, () => {
  const dir = stickyDir();
  const file = path.join(dir, 'nocap.socktop');
  const link = path.join(dir, 'link.socktop');
  fs.symlinkSync(precious(), link);
  const script = `
    const { recordingStartOptions } = require(${JSON.stringify(path.resolve(__dirname, '../../src/record/recording-file.js'))});
    const out = {};
    try { process.seteuid(65534); out.switched = true; } catch (e) { out.switched = false; }
    const r = recordingStartOptions(${JSON.stringify(file)}, {}, {});
    out.user = r.file.user; r.release.call(null); out.ids = [process.geteuid(), process.getegid()];
    const keep = recordingStartOptions(${JSON.stringify(file)}, {}, {}); require('fs').closeSync(keep.file.fd);
    try { recordingStartOptions(${JSON.stringify(link)}, {}, { force: true }); } catch (e) { out.link = e.message; }
    console.log(JSON.stringify(out));`;
  const r = spawnSync('setpriv', ['--bounding-set=-setuid,-setgid', '--', process.execPath, '-e', script], { encoding: 'utf8', env: SUDO_NOBODY });
  if (r.error) return; // no setpriv here
  assert.equal(r.status, 0, r.stderr);
  const out = JSON.parse(r.stdout);
  assert.equal(out.switched, false, 'the bounding set took CAP_SETUID away');
  assert.deepEqual(out.user, { uid: 0, gid: 0, switchIdentity: false });
  assert.deepEqual(out.ids, [0, 0]);
  assert.match(out.link, /refusing to write through a symbolic link$/);
  const st = fs.statSync(file);
  assert.deepEqual({ uid: st.uid, mode: st.mode & 0o777 }, { uid: 0, mode: 0o600 });
});

test('invokingUser: SUDO_UID counts for root only; SUDO_GID missing: the passwd gid', () => {
  const self = invokingUser({});
  assert.deepEqual({ uid: self.uid, gid: self.gid, sw: self.switchIdentity }, { uid: process.getuid!(), gid: process.getgid!(), sw: false });
  const sudo = invokingUser({ SUDO_UID: '65534', SUDO_GID: '65534' });
  if (ROOT) assert.deepEqual({ uid: sudo.uid, gid: sudo.gid, sw: sudo.switchIdentity }, { uid: NOBODY, gid: NOBODY, sw: true });
  else assert.equal(sudo.uid, process.getuid!(), 'not root: it cannot act as another user, so it is itself');
  if (ROOT) assert.equal(invokingUser({ SUDO_UID: '65534' }).gid, NOBODY, 'nobody\'s gid from /etc/passwd');
  if (ROOT) assert.equal(invokingUser({ SUDO_UID: 'x' }).switchIdentity, false);
});

// ------------------------------------------------------------------------------------ existing files

test('an existing regular file is refused without --force and overwritten with it (same inode, 0600)', () => {
  const dir = fs.mkdtempSync(path.join(base, 'existing-'));
  const file = path.join(dir, 'old.socktop');
  fs.writeFileSync(file, 'previous recording', { mode: 0o644 });
  const ino = fs.statSync(file).ino;
  expectRefusal(() => recordingStartOptions(file, {}, { force: false, env: {} }), 'EEXIST', /old\.socktop exists: use --force to overwrite$/);
  assert.equal(fs.readFileSync(file, 'utf8'), 'previous recording', 'untouched when refused');
  const rec = recordingStartOptions(file, {}, { force: true, env: {} });
  try {
    const st = fs.fstatSync(rec.file.fd);
    assert.equal(st.ino, ino);
    assert.equal(st.size, 0);
    assert.equal(st.mode & 0o777, 0o600);
    assert.equal(rec.file.created, false);
  } finally {
    rec.release();
  }
  assert.ok(fs.existsSync(file), 'release() removes only a file it created');
});

test('someone else\'s file is refused even with --force; FIFOs and directories never block the open', { ...needsRoot, timeout: 10000 }, () => {
  const dir = stickyDir();
  const theirs = path.join(dir, 'theirs.socktop');
  fs.writeFileSync(theirs, 'their data');
  fs.chownSync(theirs, NOBODY, NOBODY);
  expectRefusal(() => openRecordingForWrite(theirs, { force: true, env: {} }), 'EUNSAFE', /theirs\.socktop is owned by uid 65534, not by you: refusing to overwrite it$/);
  assert.equal(fs.readFileSync(theirs, 'utf8'), 'their data');
  const fifo = path.join(dir, 'fifo.socktop');
  assert.equal(spawnSync('mkfifo', [fifo]).status, 0);
  const t0 = Date.now();
  expectRefusal(() => openRecordingForWrite(fifo, { env: {} }), 'EUNSAFE', /fifo\.socktop is not a regular file \(a FIFO\)$/);
  expectRefusal(() => openRecordingForWrite(fifo, { force: true, env: {} }), 'EUNSAFE', /fifo\.socktop is not a regular file \(a FIFO\)$/);
  expectRefusal(() => openRecordingForWrite(dir, { force: true, env: {} }), 'EUNSAFE', /is not a regular file \(a directory\)$/);
  assert.ok(Date.now() - t0 < 2000, 'no wait for a reader');
});

// ------------------------------------------------------------------------------------ the descriptor

test('recordingStartOptions: release() closes and removes a file nobody wrote, unless the capture worker took it', () => {
  const dir = fs.mkdtempSync(path.join(base, 'release-'));
  const file = path.join(dir, 'r.socktop');
  const rec = recordingStartOptions(file, {}, { env: {} });
  assert.equal(typeof rec.pipeline.recording.fd, 'number');
  rec.release();
  assert.throws(() => fs.fstatSync(rec.file.fd), /EBADF/);
  assert.ok(!fs.existsSync(file));
  rec.release(); // idempotent
  const taken = recordingStartOptions(file, {}, { env: {} });
  Atomics.store(new Int32Array(taken.pipeline.recording.fdClaim!), 0, 1); // as the worker does
  taken.release();
  fs.fstatSync(taken.file.fd); // still open: the worker's to close
  fs.closeSync(taken.file.fd);
  assert.ok(fs.existsSync(file));
});

/** A startLive that runs the stand-in capture worker with the recorder's hook modules (as record-commands.test). */
function fakeStartLive() {
  return (extra: Pick<StartOptions, 'pipeline'>): Promise<CaptureSession> => {
    const ring = SharedRing.create(1024, RECORD_SIZE);
    const worker = new Worker(FAKE, {
      workerData: { ringSab: ring.sab, backend: 'tracepoint', pipeline: extra.pipeline, perBatch: 25 },
    });
    const exited = new Promise<void>((r) => worker.once('exit', () => r()));
    return new Promise((resolve, reject) => {
      worker.on('message', (m: { type: string; message?: string }) => {
        if (m.type === 'error') reject(new RecordingError('EIO', m.message ?? ''));
        if (m.type === 'ready') {
          resolve({
            ring,
            info: { backend: 'tracepoint', attachMs: 1, programs: [] } as unknown as CaptureSession['info'],
            latestStats: () => null as unknown as ReturnType<CaptureSession['latestStats']>,
            stop: async () => {
              worker.postMessage({ type: 'stop' });
              await exited;
            },
          });
        }
      });
      worker.on('error', reject);
    });
  };
}

test('record: the main thread opens (as the sudo user), the capture worker writes through the descriptor', needsRoot, async () => {
  const dir = stickyDir();
  const file = path.join(dir, 'sudo.socktop');
  const saved = { uid: process.env.SUDO_UID, gid: process.env.SUDO_GID, user: process.env.SUDO_USER };
  process.env.SUDO_UID = String(NOBODY);
  process.env.SUDO_GID = String(NOBODY);
  delete process.env.SUDO_USER;
  try {
    const code = await recordCommand({ write: file, duration: '400ms', quiet: true }, { startLive: fakeStartLive() });
    assert.equal(code, 0);
  } finally {
    for (const [k, v] of [['SUDO_UID', saved.uid], ['SUDO_GID', saved.gid], ['SUDO_USER', saved.user]] as const) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
  }
  const st = fs.statSync(file);
  assert.deepEqual({ uid: st.uid, gid: st.gid, mode: st.mode & 0o777 }, { uid: NOBODY, gid: NOBODY, mode: 0o600 });
  const rec = openRecording(file);
  try {
    assert.ok(rec.records > 0, 'records written by the worker');
    assert.deepEqual(rec.warnings, []);
  } finally {
    rec.close();
  }
});

test('record: an existing file is refused before the capture starts, replaced with force; a failed start leaves no file', async () => {
  const dir = fs.mkdtempSync(path.join(base, 'record-'));
  const file = path.join(dir, 'existing.socktop');
  fs.writeFileSync(file, 'keep me');
  let started = 0;
  const counting = (extra: Pick<StartOptions, 'pipeline'>): Promise<CaptureSession> => {
    started++;
    return fakeStartLive()(extra);
  };
  await assert.rejects(recordCommand({ write: file, duration: '300ms', quiet: true, force: false }, { startLive: counting }),
    (e: unknown) => e instanceof RecordingError && e.code === 'EEXIST' && /existing\.socktop exists: use --force to overwrite$/.test(e.message));
  assert.equal(started, 0, 'no capture started');
  assert.equal(fs.readFileSync(file, 'utf8'), 'keep me');
  assert.equal(await recordCommand({ write: file, duration: '300ms', quiet: true, force: true }, { startLive: counting }), 0);
  const rec = openRecording(file);
  assert.ok(rec.records > 0);
  rec.close();
  // The capture cannot start (no privileges, no BPF...): the file this run created goes away.
  const fresh = path.join(dir, 'fresh.socktop');
  await assert.rejects(recordCommand({ write: fresh, quiet: true }, { startLive: () => Promise.reject(new Error('no BPF here')) }), /no BPF here/);
  assert.ok(!fs.existsSync(fresh), 'an unwritten file is removed when the capture fails to start');
});

// ------------------------------------------------------------------------------------ the CLI

function cli(args: string[], env: NodeJS.ProcessEnv = process.env): { status: number | null; stderr: string } {
  const r = spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', env, timeout: 30000, killSignal: 'SIGKILL', stdio: ['ignore', 'pipe', 'pipe'] });
  return { status: r.status, stderr: r.stderr };
}

test('CLI: record -w / --record through a planted link, or over an existing file, is one line and exit 2, before any capture', () => {
  const dir = ROOT ? stickyDir() : fs.mkdtempSync(path.join(base, 'cli-'));
  const target = precious();
  const link = path.join(dir, 'x.socktop');
  fs.symlinkSync(target, link);
  const hard = path.join(dir, 'h.socktop');
  fs.linkSync(target, hard);
  const before = snapshot(target);
  const cases: Array<[string[], RegExp]> = [
    [['record', '-w', link, '--duration', '1s'], /x\.socktop: refusing to write through a symbolic link$/],
    [['record', '-w', link, '--duration', '1s', '--force'], /x\.socktop: refusing to write through a symbolic link$/],
    [['--json', '--record', link], /x\.socktop: refusing to write through a symbolic link$/],
    [['record', '-w', hard, '--duration', '1s'], /h\.socktop exists: use --force to overwrite$/],
    [['record', '-w', hard, '--duration', '1s', '--force'], /h\.socktop has 2 links: refusing to overwrite it$/],
    [['-b', '-n', '1', '--record', hard, '--force'], /h\.socktop has 2 links: refusing to overwrite it$/],
  ];
  for (const env of ROOT ? [process.env, SUDO_NOBODY] : [process.env]) {
    for (const [args, re] of cases) {
      const r = cli(args, env);
      const lines = r.stderr.trim().split('\n');
      assert.equal(r.status, 2, `${args.join(' ')}: ${r.stderr}`);
      assert.equal(lines.length, 1, r.stderr);
      assert.match(lines[0], /^socktop: /);
      assert.match(lines[0], re);
    }
  }
  assert.deepEqual(snapshot(target), before, 'target unchanged');
});
