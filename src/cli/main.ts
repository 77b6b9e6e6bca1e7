#!/usr/bin/env node
/** socktop's executable (package.json "bin": dist/src/cli/main.js). */
import { main } from './index';

void main(process.argv.slice(2));
