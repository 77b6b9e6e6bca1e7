#!/usr/bin/env bash
# Set up socktop on Debian/Ubuntu: system packages, npm dependencies, and the build
# (BPF object, native addon and its prebuilt copy for the npm package, TypeScript). Run as root (it
# calls apt-get).
#
# Node: any Node 20+ with npm starts it. `npm ci` then installs Node 24 (the LTS) as a
# devDependency (the npm package `node`, a real Node binary in node_modules/.bin/node), so every npm
# script (`npm run build`, `npm test`) runs on Node 24 whatever node is on PATH. Node 20 and 22 are
# checked by scripts/smoke.sh.
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
  # podman, runc, busybox-static: the container tests run a real container (runc: crun refuses
  # hybrid cgroup v1+v2 hosts; busybox is the container's whole root file system).
  local pkgs=(clang llvm make g++ python3 pkg-config libbpf-dev libelf-dev zlib1g-dev tmux iproute2 liburing-dev prometheus
    podman runc busybox-static)
  local missing=()
  for p in "${pkgs[@]}"; do dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p"); done
  # bpftool: its own package on Debian, part of linux-tools on Ubuntu.
  command -v bpftool >/dev/null || [ -x /usr/sbin/bpftool ] || missing+=(bpftool)
  if [ ${#missing[@]} -gt 0 ]; then
    log "apt-get install ${missing[*]}"
    # Wait for another apt-get (a parallel setup, unattended-upgrades) instead of failing at once.
    local apt=(apt-get -o DPkg::Lock::Timeout=600)
    "${apt[@]}" update -qq
    if ! DEBIAN_FRONTEND=noninteractive "${apt[@]}" install -y -qq --no-install-recommends "${missing[@]}"; then
      DEBIAN_FRONTEND=noninteractive "${apt[@]}" install -y -qq --no-install-recommends \
        "${missing[@]/bpftool/linux-tools-common}" "linux-tools-$(uname -r)"
    fi
  fi
}

need_node
install_packages
log "npm ci (with Node 24 for the npm scripts)"
npm ci --no-audit --no-fund
log "build on $(npm exec -c 'node -v'): BPF object, native addon (+ prebuilt copy), TypeScript"
npm run build
log "socktop is ready: sudo node dist/src/cli/main.js   (npm pack makes the installable package)"
