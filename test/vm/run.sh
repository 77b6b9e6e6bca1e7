#!/usr/bin/env bash
# test/vm/run.sh: socktop on a stock distribution kernel.
#
# Boots Debian's stock kernel (package linux-image-amd64: 6.1, kprobes + BTF) under qemu (TCG, no
# KVM needed) with an initramfs holding busybox, Node, the project's built CLI (dist/), its runtime
# node_modules, the native addon and THE SAME bpf/socktop.bpf.o the host uses (CO-RE, no rebuild).
# Inside the guest, test/vm/guest.ts runs `socktop check`, then for --probe cgroup, kprobe, auto and
# tracepoint: socktop --json + the live traffic fixture, and prints a summary per backend on the
# second serial port. The host then checks the summaries (test/vm/verify.ts, the same checks as
# test/vm/vm.test.ts, which are those of test/live/lifecycle.test.ts).
#
# Usage: bash test/vm/run.sh          (as root it installs qemu-system-x86 and busybox-static if missing)
# Needs built artifacts: bpf/socktop.bpf.o, native/build/Release/socktop.node, dist/ (npx tsc).
#
# Environment:
#   SOCKTOP_VM_CACHE    cache dir (kernel, base initramfs)   default /var/cache/socktop-vm as root,
#                       else ${XDG_CACHE_HOME:-~/.cache}/socktop-vm
#   SOCKTOP_VM_OUT      where this run's console log, serial output and results go
#                       default $SOCKTOP_VM_CACHE/last-run (previous results replaced)
#   SOCKTOP_VM_TIMEOUT  hard limit for the guest, seconds (default 360: four backends under TCG)
#   SOCKTOP_VM_N, _M    connections per family and bytes each way (default 5 and 3000, as the host test)
#   SOCKTOP_VM_PROBES   backends to run, in order (default "cgroup kprobe auto tracepoint")
#   SOCKTOP_VM_KPKG     kernel package (default: what linux-image-amd64 depends on)
#   SOCKTOP_VM_KERNEL   a vmlinuz to boot instead of the Debian package
#   SOCKTOP_VM_PVH=1    boot the ELF vmlinux extracted from the bzImage (PVH entry; about 4 s faster,
#                       but some kernel builds hang that way) instead of the bzImage
#   SOCKTOP_VM_BPF_OBJ  the BPF object to test (default bpf/socktop.bpf.o)
#   SOCKTOP_VM_RAW=0    do not copy the raw --json events out of the guest
#   SOCKTOP_VM_VERIFY=0 stop after extracting the results (vm.test.ts verifies itself)
#   SOCKTOP_VM_NO_INSTALL=1  never apt-get install; fail if something is missing
#   SOCKTOP_VM_QEMU     the qemu binary (default qemu-system-x86_64)
#
# Exit codes: 0 all checks passed; 1 a check failed; 2 a prerequisite is missing (qemu, kernel,
# build artifacts); 3 the guest timed out; 4 the guest ended without results (see console.log).
set -euo pipefail

T_START=$(date +%s.%N)
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
HERE=$ROOT/test/vm

if [ "$(id -u)" = 0 ]; then DEFAULT_CACHE=/var/cache/socktop-vm; else DEFAULT_CACHE=${XDG_CACHE_HOME:-$HOME/.cache}/socktop-vm; fi
CACHE=${SOCKTOP_VM_CACHE:-$DEFAULT_CACHE}
OUT=${SOCKTOP_VM_OUT:-$CACHE/last-run}
TIMEOUT=${SOCKTOP_VM_TIMEOUT:-360}
N=${SOCKTOP_VM_N:-5}
M=${SOCKTOP_VM_M:-3000}
PROBES=${SOCKTOP_VM_PROBES:-cgroup kprobe auto tracepoint}
BPF_OBJ=${SOCKTOP_VM_BPF_OBJ:-$ROOT/bpf/socktop.bpf.o}
RAW=${SOCKTOP_VM_RAW:-1}

log() { echo "socktop-vm: $*" >&2; }
die() { local code=$1; shift; echo "socktop-vm: FAIL: $*" >&2; exit "$code"; }
elapsed() { awk -v a="$1" -v b="$(date +%s.%N)" 'BEGIN{printf "%.1f", b-a}'; }

# ------------------------------------------------------------------ 0. the project's build
for f in "$ROOT/dist/src/cli/main.js" "$ROOT/dist/test/vm/guest.js" "$ROOT/dist/test/vm/verify.js" \
         "$ROOT/dist/test/live/fixtures/traffic.js" "$ROOT/dist/test/live/socktop-run.js"; do
  [ -f "$f" ] || die 2 "missing ${f#$ROOT/}: build the TypeScript first (npx tsc -p tsconfig.json)"
done
[ -f "$ROOT/native/build/Release/socktop.node" ] ||
  die 2 "missing native/build/Release/socktop.node: build it (npx node-gyp rebuild --directory native)"
[ -f "$BPF_OBJ" ] || die 2 "missing ${BPF_OBJ#$ROOT/}: build it (make -C bpf)"
NODE_BIN=$(readlink -f "$(command -v node)") || die 2 "node not found on the host"

# ------------------------------------------------------------------ 1. host packages
mkdir -p "$CACHE"
QEMU=${SOCKTOP_VM_QEMU:-qemu-system-x86_64}
missing=()
command -v "$QEMU" >/dev/null 2>&1 || missing+=(qemu-system-x86)
# a dynamically linked busybox cannot run in the guest (no libs for it there): the static one
dpkg -s busybox-static >/dev/null 2>&1 || missing+=(busybox-static)
if [ ${#missing[@]} -gt 0 ]; then
  # xz (optional: a faster boot, see PVH below) comes along when something is installed anyway
  command -v xz >/dev/null 2>&1 || missing+=(xz-utils)
  if [ "${SOCKTOP_VM_NO_INSTALL:-0}" = 1 ] || [ "$(id -u)" != 0 ]; then
    die 2 "missing packages: ${missing[*]} (as root: apt-get install ${missing[*]})"
  fi
  t=$(date +%s.%N)
  log "apt-get install ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  # Wait for another apt-get (a parallel setup, unattended-upgrades) instead of failing at once.
  apt=(apt-get -o DPkg::Lock::Timeout=600)
  if ! "${apt[@]}" install -y -q --no-install-recommends "${missing[@]}" >"$CACHE/apt-install.log" 2>&1; then
    "${apt[@]}" update -q >>"$CACHE/apt-install.log" 2>&1 || true
    "${apt[@]}" install -y -q --no-install-recommends "${missing[@]}" >>"$CACHE/apt-install.log" 2>&1 ||
      die 2 "could not install ${missing[*]} (see $CACHE/apt-install.log): qemu-system-x86 is needed to boot the test kernel"
  fi
  log "installed ${missing[*]} in $(elapsed "$t") s"
fi
command -v "$QEMU" >/dev/null || die 2 "$QEMU not found (apt-get install qemu-system-x86)"
BUSYBOX=$(dpkg -L busybox-static 2>/dev/null | grep -E '/bin/busybox$' | head -1)
[ -n "$BUSYBOX" ] && [ -x "$BUSYBOX" ] || die 2 "busybox-static's busybox not found (apt-get install busybox-static)"

# ------------------------------------------------------------------ 2. the stock kernel (downloaded and unpacked, never installed)
if [ -n "${SOCKTOP_VM_KERNEL:-}" ]; then
  VMLINUZ=$SOCKTOP_VM_KERNEL
  [ -f "$VMLINUZ" ] || die 2 "SOCKTOP_VM_KERNEL=$VMLINUZ does not exist"
else
  kpkg_of_meta() { apt-cache depends linux-image-amd64 2>/dev/null | awk '/Depends: linux-image-[0-9]/{print $2; exit}'; }
  KPKG=${SOCKTOP_VM_KPKG:-$(kpkg_of_meta)}
  if [ -z "$KPKG" ] && [ "$(id -u)" = 0 ]; then
    log "apt-get update (no package lists to resolve linux-image-amd64)"
    apt-get -o DPkg::Lock::Timeout=600 update -q >"$CACHE/apt-update.log" 2>&1 || true
    KPKG=$(kpkg_of_meta)
  fi
  if [ -z "$KPKG" ]; then
    # offline or no lists: fall back to the newest kernel already in the cache
    KPKG=$(ls -1d "$CACHE"/kernel/linux-image-* 2>/dev/null | sort -V | tail -1 | xargs -r basename)
    [ -n "$KPKG" ] || die 2 "cannot resolve Debian's linux-image-amd64 (apt-cache depends linux-image-amd64 found nothing; run apt-get update) and no kernel is cached in $CACHE/kernel"
    log "using cached $KPKG (linux-image-amd64 not resolvable)"
  fi
  KDIR=$CACHE/kernel/$KPKG
  VMLINUZ=$(ls "$KDIR"/boot/vmlinuz-* 2>/dev/null | head -1 || true)
  if [ -z "$VMLINUZ" ]; then
    t=$(date +%s.%N)
    log "apt-get download $KPKG (unpacked into $KDIR, not installed)"
    dl=$(mktemp -d "$CACHE/dl.XXXXXX")
    chmod 755 "$dl"  # lets apt's _apt sandbox user write there
    if ! (cd "$dl" && apt-get download -q "$KPKG" >"$CACHE/apt-download.log" 2>&1); then
      rm -rf "$dl"
      die 2 "could not download the kernel package $KPKG: $(grep -E '^(E|Err):' "$CACHE/apt-download.log" | head -1) (see $CACHE/apt-download.log)"
    fi
    # dpkg -x unpacks the whole package (~400 MB of modules); only boot/ is needed: keep that.
    unpack=$(mktemp -d "$CACHE/unpack.XXXXXX")
    dpkg -x "$dl"/"${KPKG}"_*.deb "$unpack" || { rm -rf "$dl" "$unpack"; die 2 "dpkg -x failed on $KPKG"; }
    rm -rf "$KDIR"; mkdir -p "$KDIR"
    mv "$unpack/boot" "$KDIR/boot"
    rm -rf "$dl" "$unpack"
    for k in "$CACHE"/kernel/linux-image-*; do [ "$k" = "$KDIR" ] || rm -rf "$k"; done  # superseded kernels
    VMLINUZ=$(ls "$KDIR"/boot/vmlinuz-* 2>/dev/null | head -1 || true)
    [ -n "$VMLINUZ" ] || die 2 "no boot/vmlinuz-* in $KPKG"
    log "kernel ready in $(elapsed "$t") s"
  fi
  KCONFIG=$(ls "$KDIR"/boot/config-* 2>/dev/null | head -1 || true)
  if [ -n "$KCONFIG" ]; then
    for opt in CONFIG_KPROBES CONFIG_DEBUG_INFO_BTF CONFIG_BPF_EVENTS CONFIG_IPV6 CONFIG_BLK_DEV_INITRD; do
      grep -q "^$opt=y" "$KCONFIG" || die 2 "$KPKG lacks $opt=y: it cannot serve this test"
    done
    # The bzImage decompresses itself (xz) before the kernel runs: seconds under TCG. The ELF
    # vmlinux inside, booted through its PVH entry point, skips that (about 4 s saved per boot),
    # but it is opt-in (SOCKTOP_VM_PVH=1): Debian's 6.1.0-57 hangs right after SeaBIOS that way,
    # while its bzImage boots fine.
    if [ "${SOCKTOP_VM_PVH:-0}" = 1 ] && grep -q '^CONFIG_PVH=y' "$KCONFIG" && [ ! -f "$KDIR/vmlinux" ] && command -v xz >/dev/null; then
      off=$(LC_ALL=C grep -aobUP '\xfd7zXZ\x00' "$VMLINUZ" | head -1 | cut -d: -f1 || true)
      if [ -n "$off" ]; then
        tail -c +$((off + 1)) "$VMLINUZ" | xz -dc 2>/dev/null >"$KDIR/vmlinux.tmp" || true
        if [ "$(head -c 4 "$KDIR/vmlinux.tmp" | od -An -c | tr -d ' ')" = '177ELF' ]; then
          mv "$KDIR/vmlinux.tmp" "$KDIR/vmlinux"
        fi
        rm -f "$KDIR/vmlinux.tmp"
      fi
    fi
  fi
fi
BOOT_KERNEL=$VMLINUZ
if [ -z "${SOCKTOP_VM_KERNEL:-}" ] && [ -f "$KDIR/vmlinux" ] && [ "${SOCKTOP_VM_PVH:-0}" = 1 ]; then
  BOOT_KERNEL=$KDIR/vmlinux
fi
log "kernel $BOOT_KERNEL"

# ------------------------------------------------------------------ 3. initramfs: base (cached) + project (every run)
copy_libs() {  # $1 = ELF, $2 = root: copy what it links, resolved, at the same paths
  local l
  if ldd "$1" | grep -q 'not found'; then die 2 "$1 links libraries this host lacks: $(ldd "$1" | grep 'not found' | tr -s ' \t\n' ' ')"; fi
  for l in $(ldd "$1" | grep -oE '/[^ ]+\.so[^ ]*'); do
    mkdir -p "$2$(dirname "$l")"
    cp -L "$l" "$2$l"
  done
}
pack() {  # $1 = dir, $2 = output: newc cpio, uncompressed (decompressing costs the guest more
          # under TCG than qemu loading the bigger image)
  (cd "$1" && find . | LC_ALL=C sort | "$BUSYBOX" cpio -o -H newc -R 0:0 2>/dev/null) >"$2"
}

BASE_KEY=$( { stat -c '%n %s %Y' "$NODE_BIN" "$BUSYBOX"; cat "$HERE/guest-init.sh"; } | sha256sum | cut -c1-16)
BASE=$CACHE/base-$BASE_KEY.cpio
if [ ! -f "$BASE" ]; then
  t=$(date +%s.%N)
  d=$(mktemp -d)
  mkdir -p "$d"/{bin,usr/bin,proc,sys,dev,tmp,run,root,etc,mnt}
  cp "$BUSYBOX" "$d/bin/busybox"
  strip -o "$d/usr/bin/node" "$NODE_BIN" 2>/dev/null || cp "$NODE_BIN" "$d/usr/bin/node"
  copy_libs "$NODE_BIN" "$d"
  cp "$HERE/guest-init.sh" "$d/init"; chmod 755 "$d/init"
  printf 'root:x:0:0:root:/root:/bin/sh\n' >"$d/etc/passwd"
  printf 'root:x:0:\n' >"$d/etc/group"
  printf '127.0.0.1 localhost\n::1 localhost ip6-localhost\n' >"$d/etc/hosts"
  pack "$d" "$BASE.$$" && mv "$BASE.$$" "$BASE"
  for f in "$CACHE"/base-*.cpio; do [ "$f" = "$BASE" ] || rm -f "$f"; done  # older node or busybox
  rm -rf "$d"
  log "base initramfs (busybox, node) packed in $(elapsed "$t") s: $(du -h "$BASE" | cut -f1)"
fi

# Runtime node_modules (cached by package-lock.json): its non-dev packages (all without a lock).
MOD_KEY=$( { cat "$ROOT/package-lock.json" 2>/dev/null || ls -la "$ROOT/node_modules"; } | sha256sum | cut -c1-16)
MODS=$CACHE/modules-$MOD_KEY.cpio
if [ ! -f "$MODS" ]; then
  t=$(date +%s.%N)
  d=$(mktemp -d)
  mkdir -p "$d/socktop/node_modules"
  if [ -f "$ROOT/package-lock.json" ]; then
    (cd "$ROOT" && node -e '
      const fs = require("fs");
      const lock = require("./package-lock.json");
      for (const [k, v] of Object.entries(lock.packages || {}))
        if (k && !v.dev && !k.includes("/node_modules/") && fs.existsSync(k)) console.log(k);
    ' | xargs -r cp -r --parents -t "$d/socktop")
  else
    cp -r "$ROOT/node_modules/." "$d/socktop/node_modules/"
  fi
  pack "$d" "$MODS.$$" && mv "$MODS.$$" "$MODS"
  for f in "$CACHE"/modules-*.cpio; do [ "$f" = "$MODS" ] || rm -f "$f"; done
  rm -rf "$d"
  log "node_modules initramfs packed in $(elapsed "$t") s: $(du -h "$MODS" | cut -f1)"
fi

t=$(date +%s.%N)
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
P=$TMP/root
S=$P/socktop
mkdir -p "$S/dist/test" "$S/native/build/Release" "$S/bpf" "$P/etc"
cp "$ROOT/package.json" "$S/"
cp -r "$ROOT/dist/src" "$S/dist/src"
cp -r "$ROOT/dist/test/live" "$S/dist/test/live"
cp -r "$ROOT/dist/test/vm" "$S/dist/test/vm"
find "$S/dist" \( -name '*.map' -o -name '*.test.js' \) -delete
cp "$ROOT/native/build/Release/socktop.node" "$S/native/build/Release/"
copy_libs "$ROOT/native/build/Release/socktop.node" "$P"
cp "$BPF_OBJ" "$S/bpf/socktop.bpf.o"
cat >"$P/etc/socktop-vm.env" <<EOF
SOCKTOP_VM_N=$N
SOCKTOP_VM_M=$M
SOCKTOP_VM_PROBES="$PROBES"
SOCKTOP_VM_RAW=$RAW
EOF
INITRD=$TMP/initrd.img
pack "$P" "$TMP/project.cpio"
# Concatenated archives: the kernel unpacks each in turn, the later overlaying the earlier.
cat "$BASE" "$MODS" "$TMP/project.cpio" >"$INITRD"
log "project initramfs packed in $(elapsed "$t") s: $(du -h "$TMP/project.cpio" | cut -f1) (+ base $(du -h "$BASE" | cut -f1), node_modules $(du -h "$MODS" | cut -f1))"

# ------------------------------------------------------------------ 4. boot
mkdir -p "$OUT"
rm -f "$OUT"/console.log "$OUT"/results.serial "$OUT"/host.json "$OUT"/results.json "$OUT"/events-*.jsonl
CONSOLE=$OUT/console.log
SERIAL=$OUT/results.serial
: >"$SERIAL"
ACCEL=(-accel tcg,thread=multi -cpu max)
log "booting $(basename "$BOOT_KERNEL") under qemu TCG (hard timeout ${TIMEOUT} s); console: $CONSOLE"
t=$(date +%s.%N)
rc=0
timeout -k 5 "$TIMEOUT" "$QEMU" "${ACCEL[@]}" -m 1G -smp 2 -nographic -no-reboot -net none \
  -kernel "$BOOT_KERNEL" -initrd "$INITRD" \
  -append 'console=ttyS0 panic=-1 loglevel=4' \
  -serial mon:stdio -serial "file:$SERIAL" </dev/null >"$CONSOLE" 2>&1 || rc=$?
BOOT_S=$(elapsed "$t")
tr -d '\r' <"$CONSOLE" | grep -aoE '(GUEST:|Kernel panic|BUG:|WARNING:|Call Trace).*' | sed 's/^/  guest| /' >&2 || true
log "qemu ran ${BOOT_S} s (rc=$rc)"
if [ "$rc" = 124 ] || [ "$rc" = 137 ]; then
  tail -n 30 "$CONSOLE" | tr -d '\r' | sed 's/^/  console| /' >&2
  die 3 "the guest did not finish within ${TIMEOUT} s (SOCKTOP_VM_TIMEOUT); last console lines above, full log $CONSOLE"
fi
[ "$rc" = 0 ] || { tail -n 30 "$CONSOLE" | tr -d '\r' | sed 's/^/  console| /' >&2; die 4 "qemu failed (rc=$rc); see $CONSOLE"; }
grep -aq 'SOCKTOP_VM_END' "$SERIAL" || {
  tail -n 40 "$CONSOLE" | tr -d '\r' | sed 's/^/  console| /' >&2
  die 4 "the guest ended without its results (no SOCKTOP_VM_END on the result port); see $CONSOLE"
}
echo "{\"bootSeconds\": $BOOT_S, \"totalSeconds\": $(elapsed "$T_START"), \"kernel\": \"$(basename "$VMLINUZ")\", \"N\": $N, \"M\": $M}" >"$OUT/host.json"

# ------------------------------------------------------------------ 5. verify
if [ "${SOCKTOP_VM_VERIFY:-1}" = 0 ]; then
  log "results in $OUT (not verified: SOCKTOP_VM_VERIFY=0)"
  exit 0
fi
vrc=0
node "$ROOT/dist/test/vm/verify.js" "$OUT" || vrc=$?
log "VM test took $(elapsed "$T_START") s in all (qemu ${BOOT_S} s)"
exit $vrc
