#!/usr/bin/env node
/**
 * samples/make-sample.js: how samples/demo.socktop was made (root, live BPF capture).
 *
 *   npm run build:ts && node samples/make-sample.js [OUT]      (default samples/demo.socktop)
 *
 * Records the whole machine for about 14 s while a small loopback workload runs:
 *   - python3 http.server on 127.0.0.1:8080 and on [::1]:8081 (listen, accept, bytes, close)
 *   - curl clients every ~200 ms against both (connect, latency, bytes; each curl exits)
 *   - curl to 127.0.0.1:9 where nothing listens (ECONNREFUSED)
 *   - "chatd", a node TCP server on 127.0.0.1:7000 with three long-lived "chatc" clients that send
 *     a message every 100-300 ms (SEND/RECV bytes on lasting sockets)
 *   - the 8080 server is killed 2 s before the end (exit, its sockets closed)
 * then keeps only the events of the workload's processes (and of their sockets), so the sample is
 * small and does not show whatever else the machine was doing. The header records that filter.
 */
'use strict';
const { spawn } = require('child_process');
const fs = require('fs');
const os = require('os');
const path = require('path');

const root = path.resolve(__dirname, '..');
const { recordCommand } = require(path.join(root, 'dist/src/record/commands.js'));
const { openRecording } = require(path.join(root, 'dist/src/record/reader.js'));
const { RecordingWriter } = require(path.join(root, 'dist/src/record/writer.js'));
const { Offset, RECORD_SIZE } = require(path.join(root, 'dist/src/capture/layout.js'));

const OUT = path.resolve(process.argv[2] || path.join(__dirname, 'demo.socktop'));
const RAW = path.join(os.tmpdir(), `socktop-sample-raw-${process.pid}.socktop`);
const PY = fs.existsSync('/usr/bin/python3') ? '/usr/bin/python3' : 'python3';
const pids = new Set();
const children = [];
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

function run(cmd, args, opts = {}) {
  const c = spawn(cmd, args, { stdio: 'ignore', ...opts });
  if (c.pid) pids.add(c.pid);
  children.push(c);
  return c;
}

const CHATD = `
process.title = 'chatd';
const net = require('net');
const peers = new Set();
net.createServer((s) => {
  peers.add(s);
  s.on('data', (d) => { for (const p of peers) if (p !== s) p.write(d); s.write('ok\\n'); });
  s.on('close', () => peers.delete(s));
  s.on('error', () => {});
}).listen(7000, '127.0.0.1');
`;
const CHATC = `
process.title = 'chatc';
const net = require('net');
const name = process.argv[1];
const c = net.connect(7000, '127.0.0.1', () => {
  const tick = () => { c.write(name + ' says hello ' + 'x'.repeat(Math.floor(Math.random() * 200)) + '\\n'); setTimeout(tick, 100 + Math.random() * 200); };
  tick();
});
c.on('data', () => {});
c.on('error', () => {});
`;

async function workload() {
  await sleep(500);
  const www = run(PY, ['-m', 'http.server', '8080', '--bind', '127.0.0.1'], { cwd: __dirname });
  run(PY, ['-m', 'http.server', '8081', '--bind', '::1'], { cwd: __dirname });
  run(process.execPath, ['-e', CHATD]);
  await sleep(700);
  for (const n of ['ann', 'bob', 'cyd']) {
    run(process.execPath, ['-e', CHATC, n]);
    await sleep(150);
  }
  const deadline = Date.now() + 9000;
  let i = 0;
  while (Date.now() < deadline) {
    const url = i % 3 === 2 ? 'http://[::1]:8081/' : 'http://127.0.0.1:8080/';
    const c = run('curl', ['-s', '-o', '/dev/null', url]);
    if (i % 15 === 7) run('curl', ['-s', '-o', '/dev/null', '--max-time', '1', 'http://127.0.0.1:9/']);
    i++;
    await new Promise((r) => { c.on('exit', r); setTimeout(r, 1000); });
    await sleep(150 + Math.random() * 100);
  }
  www.kill('SIGTERM');
  await sleep(2000);
}

function filter(raw, out) {
  const rec = openRecording(raw);
  const keepSock = new Set();
  const keep = [];
  const wanted = (v, at) => pids.has(v.getUint32(at + Offset.pid, true));
  // Two passes: learn the sockets of the workload, then keep their events and the workload's own.
  for (const b of rec.batches()) {
    for (let k = 0; k < b.count; k++) {
      if (wanted(b.view, k * RECORD_SIZE)) keepSock.add(b.view.getBigUint64(k * RECORD_SIZE + Offset.sock, true));
    }
  }
  keepSock.delete(0n);
  for (const b of rec.batches()) {
    for (let k = 0; k < b.count; k++) {
      const at = k * RECORD_SIZE;
      const kind = b.bytes[at + Offset.kind];
      if (wanted(b.view, at) || keepSock.has(b.view.getBigUint64(at + Offset.sock, true)) || kind === 14) {
        keep.push(Buffer.from(b.bytes.subarray(at, at + RECORD_SIZE)));
      }
    }
  }
  const h = rec.header;
  const w = RecordingWriter.create(out, {
    backend: h.backend, host: h.host, kernel: h.kernel, startWallMs: h.startWallMs, startMonoNs: h.startMonoNs,
    socktopVersion: h.socktopVersion,
    extra: { sample: 'samples/make-sample.js: loopback demo workload; events of other processes removed' },
  }, { timer: false, chownToSudoUser: false });
  // Process infos first (they precede the records of their pids in the raw file too).
  for (const p of rec.processes) if (pids.has(p.info.pid)) w.appendProcessInfo(p.info);
  const all = Buffer.concat(keep);
  w.appendRecords(all, keep.length);
  const st = w.close();
  rec.close();
  return { kept: keep.length, of: rec.records, bytes: st.bytes };
}

async function main() {
  if (process.getuid && process.getuid() !== 0) throw new Error('run as root (live capture)');
  let stop;
  const stopSignal = new Promise((r) => (stop = r));
  const recording = recordCommand({ write: RAW, quiet: true }, { stopSignal });
  await sleep(800); // capture attached
  try {
    await workload();
  } finally {
    for (const c of children) if (c.exitCode === null) c.kill('SIGTERM');
    await sleep(500);
    stop();
  }
  await recording;
  const r = filter(RAW, OUT);
  fs.rmSync(RAW, { force: true });
  fs.chmodSync(OUT, 0o644); // shipped in the repository: readable by everyone
  console.log(`${OUT}: ${r.kept} of ${r.of} events, ${r.bytes} bytes, ${pids.size} workload processes`);
}

main().catch((e) => {
  console.error(`make-sample: ${e.message}`);
  for (const c of children) if (c.exitCode === null) c.kill('SIGKILL');
  process.exit(1);
});
