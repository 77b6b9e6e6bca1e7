#!/bin/sh
# Regenerate screenshots/ (table, detail, help, filter; .svg and .png) from a real live run.
# Needs root (live BPF capture), tmux, and for the PNGs rsvg-convert (apt-get install librsvg2-bin)
# or chromium. Builds the TypeScript (and bench/loadgen if gcc is there) first.
#
#   scripts/screenshots.sh [--out DIR] [--size 140x45] [--settle 20] [--no-loadgen] [--no-png]
set -eu
cd "$(dirname "$0")/.."
npx tsc -p tsconfig.json
if [ ! -x bench/loadgen ] && command -v gcc >/dev/null 2>&1; then
  bash bench/build-loadgen.sh
fi
if ! command -v rsvg-convert >/dev/null 2>&1 && ! command -v chromium >/dev/null 2>&1; then
  echo "note: no rsvg-convert or chromium: SVG only (apt-get install librsvg2-bin for PNGs)" >&2
fi
exec node dist/test/tui/screenshots.js "$@"
