#!/bin/sh
# bench/storm-variants.sh [OUTDIR]: build experiment copies of bpf/socktop.bpf.c for bench/storm-ab.js
# (socktop's own source is not touched). Each one changes one thing:
#   v_nowake.bpf.o          submit() never wakes the reader (it polls on its 50 ms timeout)
#   v_nostate.bpf.o         inet_sock_set_state emits no STATE records (the other kinds stay)
#   v_nowake_nostate.bpf.o  both
#   v_empty.bpf.o           every program returns at once (the price of the hooks themselves)
# then, e.g.:
#   node dist/bench/storm-ab.js --rate 0 --rounds 3 --variant current= \
#     --variant "nowake=--object $OUT/v_nowake.bpf.o" --variant "empty=--object $OUT/v_empty.bpf.o"
set -eu
root=$(cd "$(dirname "$0")/.." && pwd)
out=${1:-/tmp/socktop-bpf-variants}
mkdir -p "$out"
cp "$root/bpf/socktop.bpf.c" "$root/bpf/socktop.h" "$out/"
[ -f "$root/bpf/vmlinux.h" ] && cp "$root/bpf/vmlinux.h" "$out/"
python3 - "$out" <<'EOF'
import re, sys
out = sys.argv[1]
src = open(f'{out}/socktop.bpf.c').read()

def replace_submit(s, body):
    start = s.index('static __always_inline void submit(struct socktop_event *e)')
    end = s.index('}\n', start) + 2
    return s[:start] + body + s[end:]

NOWAKE = '''static __always_inline void submit(struct socktop_event *e)
{
	bpf_ringbuf_submit(e, BPF_RB_NO_WAKEUP); /* experiment: the reader polls on its timeout */
}
'''
STATE = '\tstruct socktop_event *e = reserve(SK_STATE, BACKEND_COMMON);\n'
NOSTATE = '\tstruct socktop_event *e = 0; /* experiment: no STATE records */\n'
assert src.count(STATE) == 1, 'the STATE reserve in inet_sock_set_state moved: update this script'

def empty(s):
    pat = re.compile(r'(SEC\("tracepoint[^"]*"\)\n(?:int|long) [a-zA-Z0-9_]+\([^)]*\)\n\{\n)')
    s = pat.sub(lambda m: m.group(1) + '\tif (skip_all)\n\t\treturn 0;\n', s)
    return s.replace('char LICENSE[] SEC("license") = "GPL";',
                     'char LICENSE[] SEC("license") = "GPL";\n'
                     'const volatile int skip_all = 1; /* experiment: every program returns at once */')

variants = {
    'nowake': replace_submit(src, NOWAKE),
    'nostate': src.replace(STATE, NOSTATE),
    'nowake_nostate': replace_submit(src, NOWAKE).replace(STATE, NOSTATE),
    'empty': empty(src),
}
for name, text in variants.items():
    open(f'{out}/v_{name}.bpf.c', 'w').write(text)
EOF
arch=$(uname -m | sed -e 's/x86_64/x86/' -e 's/aarch64/arm64/')
for v in nowake nostate nowake_nostate empty; do
	${CLANG:-clang} -g -O2 -Wall -target bpf -D__TARGET_ARCH_"$arch" -I"$out" -I"$root/bpf" \
		-c "$out/v_$v.bpf.c" -o "$out/v_$v.bpf.o"
	echo "built $out/v_$v.bpf.o"
done
