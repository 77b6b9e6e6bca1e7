#!/usr/bin/env bash
# The smoke run on older Node versions: `bash scripts/smoke.sh 20 22`. For each major, installs
# Node from the npm registry (the package `node@MAJOR`, into .tools/nodeMAJOR; nodejs.org is not
# needed) and runs, on that Node, the package test (pack, install without a compiler, `socktop
# check`, a live --json capture with exact counts, replay of the shipped sample) and the lifecycle
# test (the checkout's live capture, every backend). Needs a built checkout (scripts/setup.sh) and
# root. The full suite runs on Node 24 (`npm test`).
set -euo pipefail
cd "$(dirname "$0")/.."
[ $# -gt 0 ] || { echo "usage: bash scripts/smoke.sh MAJOR..." >&2; exit 2; }

node_bin() {  # $1 = major: path of that Node, installed when missing
  local dir=.tools/node$1 bin
  bin=$dir/node_modules/.bin/node
  if [ ! -x "$bin" ] || [ "$("$bin" -p 'process.versions.node.split(".")[0]')" != "$1" ]; then
    printf '== installing node@%s into %s\n' "$1" "$dir" >&2
    rm -rf "$dir"; mkdir -p "$dir"
    npm install --prefix "$dir" --no-save --no-audit --no-fund --loglevel=error "node@$1" >&2
  fi
  realpath "$bin"
}

for major in "$@"; do
  bin=$(node_bin "$major")
  printf '== smoke on Node %s (%s)\n' "$("$bin" -v)" "$bin" >&2
  "$bin" --test --test-concurrency=1 dist/test/live/package.test.js dist/test/live/lifecycle.test.js
done
