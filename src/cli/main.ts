#!/usr/bin/env -S node --max-semi-space-size=1
/**
 * socktop's executable (package.json "bin": dist/src/cli/main.js).
 *
 * --max-semi-space-size=1 (MiB): V8's young generation grows its semi-spaces up to 16 MiB each on
 * a busy thread and keeps them resident; socktop's hot paths allocate nothing per event (the model
 * and the capture worker update preallocated rows), so a 1 MiB nursery costs no measurable time
 * and takes about 10 MB off the resident size of the main thread and of every worker isolate (V8
 * flags are per process). Only set when socktop is started as an executable (the shebang);
 * `node dist/src/cli/main.js` runs with Node's defaults. Measured by bench/memory.ts.
 */
import { main } from './index';

void main(process.argv.slice(2));
