#!/bin/sh
# Build the test fixture BPF objects (fixture.bpf.c, broken.bpf.c, busy.bpf.c) into dist/native-fixtures/, which is
# ignored by git: vmlinux.h is generated from the running kernel and must not be committed.
# Usage: native/test-fixtures/build.sh   (prints the output directory)
set -eu
here=$(cd "$(dirname "$0")" && pwd)
out=${SOCKTOP_FIXTURE_DIR:-$here/../../dist/native-fixtures}
mkdir -p "$out"
out=$(cd "$out" && pwd)
btf=/sys/kernel/btf/vmlinux
bpftool=$(command -v bpftool || echo /usr/sbin/bpftool)
arch=$(uname -m | sed -e 's/x86_64/x86/' -e 's/aarch64/arm64/')

if [ ! -s "$out/vmlinux.h" ]; then
	test -r "$btf" || { echo "no kernel BTF at $btf" >&2; exit 1; }
	"$bpftool" btf dump file "$btf" format c > "$out/vmlinux.h.tmp"
	mv "$out/vmlinux.h.tmp" "$out/vmlinux.h"
fi
hdr="$here/../../bpf/socktop.h"
for name in fixture broken busy; do
	src="$here/$name.bpf.c"
	obj="$out/$name.bpf.o"
	if [ ! -s "$obj" ] || [ "$src" -nt "$obj" ] || [ "$hdr" -nt "$obj" ]; then
		clang -g -O2 -Wall -Werror -target bpf -D__TARGET_ARCH_"$arch" -I"$out" -c "$src" -o "$obj.tmp"
		mv "$obj.tmp" "$obj"
	fi
done
echo "$out"
