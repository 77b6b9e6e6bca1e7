/**
 * Unix sockets with a real server: redis-server listening on a unix path (`unixsocket`, its own
 * instance with a temporary config, never the system service) and `redis-cli -s PATH PING`. Ground
 * truth: the two pids, the path, and the bytes of the RESP exchange (PING as a RESP array, 14
 * bytes; +PONG, 7 bytes). Checked: redis-cli's connect names redis-server's pid, redis-server's
 * accept names redis-cli's pid, the listener with redis-server's name, both closes with the exact
 * bytes each way.
 */
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { spawn, spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { liveTestOptions } from './bpf-available';
import { parseJsonLines, startSocktop } from './socktop-run';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const haveRedis = spawnSync('redis-server', ['--version']).status === 0 && spawnSync('redis-cli', ['--version']).status === 0;
const PING = '*1\r\n$4\r\nPING\r\n'.length;
const PONG = '+PONG\r\n'.length;

async function waitFor(file: string, ms: number): Promise<void> {
  for (let t = 0; t < ms; t += 50) {
    if (fs.existsSync(file)) return;
    await sleep(50);
  }
  throw new Error(`${file} did not appear in ${ms} ms`);
}

for (const probe of ['cgroup', 'tracepoint']) {
  test(`unix sockets (${probe}): redis-cli -s to redis-server on a unix path: pids both ways, exact bytes`, {
    ...liveTestOptions(), skip: !haveRedis && 'redis-server and redis-cli are not installed (apt-get install redis-server)',
  }, async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'socktop-redis-'));
    const sock = path.join(dir, 'redis.sock');
    const conf = path.join(dir, 'redis.conf');
    fs.writeFileSync(conf, [`port 0`, `unixsocket ${sock}`, 'unixsocketperm 700', `dir ${dir}`, 'save ""', 'appendonly no', 'daemonize no', 'loglevel warning'].join('\n'));
    const socktop = await startSocktop(['--json', '--probe', probe, '--family', 'unix']);
    const redis = spawn('redis-server', [conf], { stdio: 'ignore' });
    let cli: ReturnType<typeof spawnSync>;
    try {
      await waitFor(sock, 10000);
      cli = spawnSync('redis-cli', ['-s', sock, 'PING'], { encoding: 'utf8' });
      assert.equal(String(cli.stdout).trim(), 'PONG');
      await sleep(2500); // the walk that finds redis-cli's socket gone
    } finally {
      redis.kill('SIGTERM');
      await new Promise((r) => redis.once('exit', r));
      await socktop.stop();
      fs.rmSync(dir, { recursive: true, force: true });
    }
    const events = parseJsonLines(socktop.stdout());
    const pieces = new Map<string, string[]>();
    for (const e of events.filter((x) => x.kind === 'unix_path')) {
      const parts = pieces.get(e.path_id) ?? [];
      parts[e.offset / 32] = e.text;
      pieces.set(e.path_id, parts);
    }
    const texts = new Map([...pieces].map(([id, parts]) => [id, parts.join('')]));
    const ids = [...texts].filter(([, text]) => text === sock).map(([id]) => id);
    assert.equal(ids.length, 1, `the socket's path in the path table: ${JSON.stringify([...texts])}`);
    const mine = events.filter((e) => e.family === 'unix' && e.path_id === ids[0]);
    const connect = mine.find((e) => e.kind === 'connect' && e.pid === cli.pid);
    assert.ok(connect, `redis-cli's connect: ${JSON.stringify(mine)}`);
    assert.deepEqual([connect.comm, connect.peer_pid, connect.type], ['redis-cli', redis.pid, 'stream']);
    const accept = mine.find((e) => e.kind === 'accept' && e.pid === redis.pid);
    assert.ok(accept, "redis-server's accept");
    assert.deepEqual([accept.comm, accept.peer_pid], ['redis-server', cli.pid]);
    const listen = mine.find((e) => e.kind === 'listen');
    assert.ok(listen, 'the listener');
    assert.deepEqual([listen.pid, listen.comm], [redis.pid, 'redis-server']);
    const clientClose = mine.find((e) => e.kind === 'close' && e.sock === connect.sock);
    assert.ok(clientClose, "redis-cli's close");
    assert.deepEqual([clientClose.bytes_sent, clientClose.bytes_received, clientClose.peer_pid], [PING, PONG, redis.pid]);
    const serverClose = mine.find((e) => e.kind === 'close' && e.sock === accept.sock);
    assert.ok(serverClose, "redis-server's side's close");
    assert.deepEqual([serverClose.bytes_sent, serverClose.bytes_received, serverClose.peer_pid], [PONG, PING, cli.pid]);
  });
}
