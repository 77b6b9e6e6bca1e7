/** Run the real socktop CLI as a child process, for live tests. */
import { ChildProcess, spawn } from 'child_process';
import * as path from 'path';

export const CLI = path.resolve(__dirname, '../../src/cli/main.js');

export interface Running {
  child: ChildProcess;
  stdout: () => string;
  stderr: () => string;
  /** Send a signal and wait for the exit code. */
  stop(signal?: NodeJS.Signals): Promise<number | null>;
}

/** Start `socktop args...` and resolve once it says it is attached (stderr "attached"). */
export function startSocktop(args: string[], timeoutMs = 15000, env: NodeJS.ProcessEnv = {}): Promise<Running> {
  const child = spawn(process.execPath, [CLI, ...args], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...env } });
  let out = '';
  let err = '';
  child.stdout!.setEncoding('utf8').on('data', (d) => (out += d));
  child.stderr!.setEncoding('utf8').on('data', (d) => (err += d));
  const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
  const running: Running = {
    child,
    stdout: () => out,
    stderr: () => err,
    async stop(signal = 'SIGINT') {
      if (child.exitCode === null) child.kill(signal);
      return exited;
    },
  };
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => { child.kill('SIGKILL'); reject(new Error(`socktop did not attach in ${timeoutMs} ms: ${err}`)); }, timeoutMs);
    const check = () => {
      if (/attached/.test(err)) { clearTimeout(timer); resolve(running); }
    };
    child.stderr!.on('data', check);
    child.on('exit', (code) => { clearTimeout(timer); reject(new Error(`socktop exited (${code}) before attaching: ${err.trim()}`)); });
  });
}

/** Run a node script to completion; resolve with its stdout. */
export function runNode(script: string, args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [script, ...args], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.setEncoding('utf8').on('data', (d) => (out += d));
    child.on('exit', (code) => (code === 0 ? resolve(out) : reject(new Error(`${script} exited ${code}`))));
  });
}

export function parseJsonLines(text: string): Array<Record<string, any>> {
  return text.split('\n').filter((l) => l.trim()).map((l) => JSON.parse(l));
}

/** A TCP port on 127.0.0.1 with nothing listening (found by binding and closing, in this process). */
export async function closedPort(): Promise<number> {
  const net = await import('net');
  const s = net.createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', () => r()));
  const port = (s.address() as import('net').AddressInfo).port;
  await new Promise((r) => s.close(r));
  return port;
}
