/**
 * Ctrl-C while `socktop replay` opens a big recording: the open scans the whole file (reader.ts).
 * For the TUI and -b the scan runs in the replay worker, so SIGINT is heard at once, the worker is
 * terminated and the CLI exits 130 with nothing but, at most, one line on stderr; --json scans on
 * the main thread in slices (openRecordingAsync), the event loop turning between them. The files:
 * an intact recording followed by 384 MiB of random bytes, which the salvaging scan searches byte
 * by byte for a frame, and an intact one of 256 MiB in one-record frames; both take seconds to
 * scan (measured below, so the signal surely lands inside the scan).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { openRecording } from '../../src/record/reader';
import { makeRecords, tmpDir, writeLargeRecording, writeRecording } from './fixtures/record-synth';

const MAIN = path.resolve(__dirname, '../../src/cli/main.js');

function damagedBigRecording(file: string, garbageBytes: number): void {
  writeRecording(file, makeRecords(2048), { batch: 2048 });
  const block = crypto.randomBytes(16 << 20);
  const fd = fs.openSync(file, 'a');
  try {
    for (let n = 0; n < garbageBytes; n += block.length) fs.writeSync(fd, block);
  } finally {
    fs.closeSync(fd);
  }
}

interface Ended { code: number | null; signal: string | null; stderr: string; stdoutBytes: number; afterSignalMs: number }

/** Run the CLI, send SIGINT `afterMs` later, report how it ended and how long after the signal. */
function interruptAfter(args: string[], afterMs: number): Promise<Ended> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [MAIN, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    let stdoutBytes = 0;
    child.stderr.on('data', (d) => (stderr += String(d)));
    child.stdout.on('data', (d: Buffer) => (stdoutBytes += d.length));
    let sentAt = 0;
    const t = setTimeout(() => {
      sentAt = Date.now();
      child.kill('SIGINT');
    }, afterMs);
    child.on('close', (code, signal) => {
      clearTimeout(t);
      resolve({ code, signal, stderr, stdoutBytes, afterSignalMs: sentAt ? Date.now() - sentAt : -1 });
    });
  });
}

test('SIGINT during the scan of a big recording: replay -b ends at once, exit 130, no stack trace', { timeout: 60000 }, async () => {
  const dir = tmpDir();
  const file = path.join(dir, 'big.socktop');
  try {
    damagedBigRecording(file, 384 << 20);
    // How long the whole open takes without a signal: the interrupted run must end far sooner.
    const t0 = Date.now();
    const full = await interruptAfter(['replay', file, '-b', '-n', '1', '-d', '0.1'], 1e9);
    const fullMs = Date.now() - t0;
    assert.equal(full.code, 1, `a damaged recording replays with exit 1: ${full.stderr}`);
    assert.ok(fullMs > 900, `the scan takes long enough to be interrupted (${fullMs} ms)`);
    const r = await interruptAfter(['replay', file, '-b'], Math.max(450, fullMs / 2));
    // 130 from socktop's own handler; dying of SIGINT itself (the default action, should the
    // machine be so slow that the signal comes before the handlers are installed) is as good.
    assert.ok(r.code === 130 || r.signal === 'SIGINT', `exit ${r.code} ${r.signal}: ${r.stderr}`);
    assert.ok(r.afterSignalMs >= 0 && r.afterSignalMs < 1000, `ended ${r.afterSignalMs} ms after SIGINT (the full open takes ${fullMs} ms)`);
    assert.doesNotMatch(r.stderr, /^\s+at /m, 'no stack trace');
    assert.ok(r.stderr.trim().split('\n').filter(Boolean).length <= 1, r.stderr);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('SIGINT during the scan of a big recording: replay --json ends at once, exit 130, nothing printed', { timeout: 60000 }, async () => {
  const dir = tmpDir();
  const file = path.join(dir, 'big.socktop');
  try {
    // Big enough that its scan takes over a second on this machine (machines differ: doubled
    // until it does, up to 1 GiB).
    let scanMs = 0;
    for (let mib = 256; mib <= 1024 && scanMs <= 1200; mib *= 2) {
      writeLargeRecording(file, mib << 20, 1);
      const t0 = Date.now();
      openRecording(file, { salvage: true }).close();
      scanMs = Date.now() - t0;
    }
    assert.ok(scanMs > 1000, `the scan takes long enough to be interrupted (${scanMs} ms)`);
    const r = await interruptAfter(['replay', file, '--json'], Math.max(600, scanMs / 3));
    assert.ok(r.code === 130 || r.signal === 'SIGINT', `exit ${r.code} ${r.signal}: ${r.stderr}`);
    assert.ok(r.afterSignalMs >= 0 && r.afterSignalMs < 1000, `ended ${r.afterSignalMs} ms after SIGINT (the scan takes ${scanMs} ms)`);
    assert.equal(r.stdoutBytes, 0, 'interrupted during the scan: not one line printed');
    assert.equal(r.stderr, '', 'no stack trace, no message');
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
