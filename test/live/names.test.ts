/**
 * Process names end to end on real BPF: a process renames itself with prctl(PR_SET_NAME) to UTF-8
 * text, to a name the kernel cuts inside a character, to C1 controls and to an escape sequence
 * that would retitle and clear a terminal, opening a listening socket under each name.
 * `socktop --json` must carry each name as its UTF-8 text (cut to the kernel's 15 bytes, the
 * partial character dropped) with no raw control byte in the output; `socktop -b -n 1` must show
 * the hostile name escaped, and write no ESC or C1 byte at all.
 */
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { spawn } from 'child_process';
import { liveTestOptions } from './bpf-available';
import { parseJsonLines, Running, startSocktop } from './socktop-run';

const HOSTILE = '\x1b]0;pwn\x07\x1b[2J';
/** In this order: the last one is the name the process has when batch mode takes its snapshot. */
const NAMES = ['héllo→✓', 'abcdefghijklm✓', 'c1\u0085\u009b2J', HOSTILE];

/** Rename (argv: hex of each name), listen on a socket under each name, hold them, exit. */
const RENAMER = `
import ctypes, socket, sys, time
libc = ctypes.CDLL(None)
held = []
for name in sys.argv[2:]:
    libc.prctl(15, ctypes.c_char_p(bytes.fromhex(name)), 0, 0, 0)
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    s.listen()
    held.append(s)
    time.sleep(0.05)
print(flush=True)
time.sleep(float(sys.argv[1]))
`;

function runRenamer(holdSec: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const hex = NAMES.map((n) => Buffer.from(n, 'utf8').toString('hex'));
    const child = spawn('python3', ['-c', RENAMER, String(holdSec), ...hex], { stdio: ['ignore', 'ignore', 'inherit'] });
    child.on('error', reject);
    child.on('exit', (code) => (code === 0 ? resolve(child.pid!) : reject(new Error(`python3 exited ${code}`))));
  });
}

function exited(r: Running, timeoutMs: number): Promise<number | null> {
  if (r.child.exitCode !== null) return Promise.resolve(r.child.exitCode);
  return new Promise((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`socktop -b did not finish: ${r.stderr()}`)), timeoutMs);
    r.child.on('exit', (code) => { clearTimeout(t); resolve(code); });
  });
}

/** Bytes a terminal would act on: C0 but the newline, DEL, and C1 as UTF-8 (C2 80-9F) or raw. */
function controlBytes(text: string): string[] {
  return [...text.matchAll(/[\x00-\x09\x0b-\x1f\x7f-\x9f]/g)].map((m) => JSON.stringify(text.slice(Math.max(0, m.index! - 20), m.index! + 20)));
}

test('names: UTF-8 in --json, cut where the kernel cuts; escaped in -b; no raw control byte anywhere', liveTestOptions(), async () => {
  const json = await startSocktop(['--json']);
  let batch: Running | undefined;
  let pid: number;
  try {
    batch = await startSocktop(['-b', '-n', '1', '-d', '3']);
    pid = await runRenamer(4); // the batch snapshot comes while the sockets are held
    assert.equal(await exited(batch, 15000), 0, batch.stderr());
  } finally {
    await batch?.stop('SIGINT');
    assert.equal(await json.stop('SIGINT'), 0, json.stderr());
  }

  const out = json.stdout();
  assert.deepEqual(controlBytes(out), [], 'no raw control in the JSON output');
  assert.doesNotMatch(out, /\\u00c3|Ã/, 'no Latin-1 mojibake');
  const listens = parseJsonLines(out).filter((e) => e.pid === pid && e.kind === 'listen');
  assert.deepEqual(listens.map((e) => e.comm), ['héllo→✓', 'abcdefghijklm', 'c1\u0085\u009b2J', HOSTILE],
    'each name as its UTF-8 text; the check mark cut at byte 15 is dropped');
  assert.match(out, /"comm":"c1\\u0085\\u009b2J"/, 'C1 controls escaped as \\u00XX in JSON');
  assert.match(out, /"comm":"\\u001b]0;pwn\\u0007\\u001b\[2J"/);

  const text = batch!.stdout();
  assert.deepEqual(controlBytes(text), [], 'no raw control in the batch output');
  const row = text.split('\n').find((l) => new RegExp(`^\\s*${pid}\\s`).test(l));
  assert.ok(row, `a row for pid ${pid}:\n${text}`);
  assert.match(row!, /\\x1b]0;pwn\\x07/, row);
});
