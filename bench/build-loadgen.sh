#!/bin/sh
# Build bench/loadgen, the loopback connection-storm generator (see bench/loadgen.c).
# Usage: bench/build-loadgen.sh [extra gcc flags]
set -eu
dir=$(cd "$(dirname "$0")" && pwd)
: "${CC:=gcc}"
"$CC" -O2 -Wall -Wextra -Wno-unused-parameter -o "$dir/loadgen" "$dir/loadgen.c" -lpthread "$@"
echo "built $dir/loadgen"
