#!/usr/bin/env bash
# Build the native addon from source (native/build/Release/socktop.node) and stage the prebuilt
# copy the npm package ships: native/prebuilds/linux-x64/socktop.napi.glibc.node (the name
# node-gyp-build looks for: N-API, any Node version; glibc) next to libbpf.so.1, found through the
# addon's RUNPATH $ORIGIN. libbpf is bundled rather than linked statically because Debian's
# libbpf.a is not position-independent (it cannot go into a shared object); the bundled copy is the
# build host's, so the package needs no libbpf package at all (Ubuntu 22.04 ships only libbpf0).
# Needs: g++, make, python3, libbpf-dev, libelf-dev, zlib1g-dev (scripts/setup.sh installs them).
set -euo pipefail
cd "$(dirname "$0")/.."

# The running Node's own headers, so node-gyp downloads nothing (nodejs.org may be out of reach).
# Through the environment: node-gyp lets npm_config_nodedir (from an npmrc) override --nodedir.
nodedir=$(node scripts/node-headers.js)
[ -z "$nodedir" ] || export npm_config_nodedir="$nodedir"
args=(rebuild --directory native)
if [ -x node_modules/.bin/node-gyp ]; then node_modules/.bin/node-gyp "${args[@]}"; else npx --yes node-gyp "${args[@]}"; fi

[ "$(uname -s)" = Linux ] || exit 0
arch=$(node -p process.arch)
libc=glibc; ldd --version 2>&1 | grep -qi musl && libc=musl
out=native/prebuilds/linux-$arch
rm -rf native/prebuilds
mkdir -p "$out"
strip --strip-unneeded -o "$out/socktop.napi.$libc.node" native/build/Release/socktop.node
libbpf=$(ldd native/build/Release/socktop.node | awk '$1 == "libbpf.so.1" { print $3 }')
[ -n "$libbpf" ] || { echo "build-addon: libbpf.so.1 not found by ldd" >&2; exit 1; }
cp -L "$libbpf" "$out/libbpf.so.1"
echo "prebuilt addon staged in $out: $(ls "$out" | tr '\n' ' ')" >&2
