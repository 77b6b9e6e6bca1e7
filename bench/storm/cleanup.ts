/**
 * bench/storm/cleanup.ts: the children and temporary files of runs in progress, so that an
 * interrupted bench (SIGINT, SIGTERM) kills and removes them. The storm's one module-level state:
 * a signal handler has nothing else to reach them through.
 */
import type { ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';

const children = new Set<ChildProcess>();
const tempFiles = new Set<string>();

/** A child to kill if the bench is interrupted (until it exits). */
export function trackChild(child: ChildProcess): void {
  children.add(child);
  child.once('exit', () => children.delete(child));
}

/** A file to remove if the bench is interrupted (until untrackTempFile). */
export function trackTempFile(file: string): void {
  tempFiles.add(file);
}
export function untrackTempFile(file: string): void {
  tempFiles.delete(file);
}

/** Interrupted: SIGTERM to every child still running, every temporary file removed. */
export function cleanUpAll(): void {
  for (const c of children) c.kill('SIGTERM');
  for (const f of tempFiles) fs.rmSync(f, { force: true });
}
