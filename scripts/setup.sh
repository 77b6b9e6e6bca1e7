#!/usr/bin/env bash
# Set up socktop on Debian/Ubuntu: system packages, npm dependencies, and the build
# (BPF object, native addon, TypeScript). Run as root (it calls apt-get).
set -euo pipefail
cd "$(dirname "$0")/.."

log() { printf '== %s\n' "$*" >&2; }

need_node() {
  if ! command -v node >/dev/null; then
    echo "socktop needs Node.js 20 or newer (node not found)" >&2; exit 1
  fi
  local major; major=$(node -p 'process.versions.node.split(".")[0]')
  if [ "$major" -lt 20 ]; then
    echo "socktop needs Node.js 20 or newer (found $(node -v))" >&2; exit 1
  fi
}

install_packages() {
  # prometheus: the exporter's live test runs its own from the binary (never the system service).
  local pkgs=(clang llvm make g++ python3 pkg-config libbpf-dev libelf-dev zlib1g-dev tmux iproute2 liburing-dev prometheus)
  local missing=()
  for p in "${pkgs[@]}"; do dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p"); done
  # bpftool: its own package on Debian, part of linux-tools on Ubuntu.
  command -v bpftool >/dev/null || [ -x /usr/sbin/bpftool ] || missing+=(bpftool)
  if [ ${#missing[@]} -gt 0 ]; then
    log "apt-get install ${missing[*]}"
    apt-get update -qq
    if ! DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}"; then
      DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
        "${missing[@]/bpftool/linux-tools-common}" "linux-tools-$(uname -r)"
    fi
  fi
}

need_node
install_packages
log "npm ci"
npm ci --no-audit --no-fund
log "build: BPF object, native addon, TypeScript"
npm run build
log "socktop is ready: sudo node dist/src/cli/main.js   (or: sudo npx socktop)"
