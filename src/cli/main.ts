#!/usr/bin/env -S node --max-semi-space-size=1 --v8-pool-size=2
/**
 * socktop's executable (package.json "bin": dist/src/cli/main.js).
 *
 * --max-semi-space-size=1 (MiB): V8's young generation grows its semi-spaces up to 16 MiB each on
 * a busy thread and keeps them resident; socktop's hot paths allocate nothing per event (the model
 * and the capture worker update preallocated rows), so a 1 MiB nursery costs no measurable time
 * and takes about 10 MB off the resident size of the main thread and of every worker isolate (V8
 * flags are per process).
 *
 * --v8-pool-size=2: V8's background threads (concurrent marking, sweeping, compiling) are 4 by
 * Node's default, whatever the host. Each keeps its own malloc arena and stack resident: the idle
 * TUI (160x50 tmux pane, NO_COLOR, as bench/memory.ts runs it) measured 103.5 MB median with 4
 * and 98.5 with 2 (4-6 samples each, 2-core VM). Two is what a 2-core host runs at once anyway.
 *
 * Only set when socktop is started as an executable (the shebang);
 * `node dist/src/cli/main.js` runs with Node's defaults. Measured by bench/memory.ts.
 */
import { main } from './index';

void main(process.argv.slice(2));
