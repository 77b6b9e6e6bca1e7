/**
 * Child process for the live capture test: a TCP server and client on 127.0.0.1 exchange a few
 * bytes, close, and the script prints {pid, comm, port} as one JSON line.
 */
import * as fs from 'fs';
import * as net from 'net';

async function main(): Promise<void> {
  const server = net.createServer((sock) => sock.end('pong'));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as net.AddressInfo).port;
  for (let i = 0; i < 3; i++) {
    await new Promise<void>((resolve, reject) => {
      const c = net.connect(port, '127.0.0.1', () => c.write('ping'));
      c.on('data', () => c.end());
      c.on('close', () => resolve());
      c.on('error', reject);
    });
  }
  server.close(); // the process ends once the server's side of the last connection is closed
  const comm = fs.readFileSync('/proc/self/comm', 'utf8').trim();
  process.stdout.write(`${JSON.stringify({ pid: process.pid, comm, port })}\n`);
}

main().catch((e) => {
  process.stderr.write(`${(e as Error).message}\n`);
  process.exit(1);
});
