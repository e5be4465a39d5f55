#!/usr/bin/env bash
# Everything umlab needs on a fresh Debian machine, installed by the project itself:
# Debian packages, node_modules (from the lockfile), the Pulumi toolchain, the compiled
# TypeScript. Each step is skipped when already done, so a second run takes seconds.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
say() { echo "umlab setup: $*" >&2; }
die() {
  echo "" >&2
  echo "umlab setup: ERROR: $*" >&2
  exit 1
}
T0=$(date +%s)

# 1. Debian packages the labs drive (host tools) and the image builders use.
# (UMLAB_DEBIAN_PACKAGES replaces the list; `setup.sh packages` stops after this step.)
read -r -a PACKAGES <<<"${UMLAB_DEBIAN_PACKAGES:-user-mode-linux uml-utilities vde2 socat tcpdump mmdebstrap busybox-static e2fsprogs iproute2 kmod}"
missing=()
for p in "${PACKAGES[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then missing+=("$p"); fi
done
if [ ${#missing[@]} -gt 0 ]; then
  say "installing Debian packages: ${missing[*]}"
  if [ "$(id -u)" != 0 ]; then
    die "missing Debian packages: ${missing[*]}
Fix: sudo apt-get update && sudo apt-get install -y ${missing[*]}   (then run npm run setup again)"
  fi
  export DEBIAN_FRONTEND=noninteractive
  # A fresh private log (mktemp: never a fixed name in /tmp that another user could plant).
  APT_LOG="$(mktemp -t umlab-apt.XXXXXX)"
  if ! apt-get update -qq >"$APT_LOG" 2>&1; then
    tail -n 10 "$APT_LOG" >&2
    die "apt-get update failed (see above; full log $APT_LOG): the Debian mirror must be reachable."
  fi
  if ! apt-get install -y -qq "${missing[@]}" >>"$APT_LOG" 2>&1; then
    tail -n 15 "$APT_LOG" >&2
    die "could not install Debian packages: ${missing[*]} (see the apt-get lines above; full log $APT_LOG)."
  fi
  rm -f "$APT_LOG"
fi

[ "${1:-}" = packages ] && exit 0

# 2. Node.js and the npm dependencies, exactly as locked.
command -v node >/dev/null || die "Node.js is not installed. Fix: install Node.js 20.20+ (or 22/24) and run npm run setup again."
NODE_MAJOR="$(node -p 'process.versions.node.split(".")[0]')"
[ "$NODE_MAJOR" -ge 20 ] || die "Node.js $(node --version) is too old: umlab needs Node.js 20.20 or later."
if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  say "installing npm dependencies (npm ci)..."
  npm ci --no-audit --no-fund --loglevel=error >&2 || die "npm ci failed: the npm registry must be reachable."
fi

# 3. The Pulumi toolchain (CLI, language host, plugins), cached per user.
bash "$ROOT/scripts/toolchain.sh" ensure >/dev/null

# 4. Compile the TypeScript (the CLI, the benchmarks and the serialization check run from dist/).
TSC_LOG="$(mktemp -t umlab-tsc.XXXXXX)"
if ! npx tsc -p tsconfig.json >"$TSC_LOG" 2>&1; then
  cat "$TSC_LOG" >&2
  rm -f "$TSC_LOG"
  die "the TypeScript build failed (see above)."
fi
rm -f "$TSC_LOG"
say "ready in $(($(date +%s) - T0)) s"
