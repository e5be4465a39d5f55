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
# openssh-server and netcat-openbsd: the tests of several hosts run their own sshd inside
# network namespaces they make; installing the package never starts or enables a system sshd
# (below).
read -r -a PACKAGES <<<"${UMLAB_DEBIAN_PACKAGES:-user-mode-linux uml-utilities vde2 socat tcpdump mmdebstrap busybox-static e2fsprogs iproute2 kmod graphviz openssh-client openssh-server netcat-openbsd}"
# One dpkg-query for the whole list (a no-op setup must stay well under a second).
installed=" $(dpkg-query -W -f='${Package} ${Status}\n' "${PACKAGES[@]}" 2>/dev/null |
  awk '/ install ok installed$/ {print $1}' | tr '\n' ' ' || true) "
missing=()
for p in "${PACKAGES[@]}"; do
  case "$installed" in *" $p "*) ;; *) missing+=("$p") ;; esac
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
  # No package's daemon starts while we install (policy-rc.d exit 101: Debian's "action
  # forbidden"), unless the machine already has its own policy.
  OWN_POLICY=""
  if [ ! -e /usr/sbin/policy-rc.d ]; then
    printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d && chmod 0755 /usr/sbin/policy-rc.d && OWN_POLICY=1
  fi
  apt_rc=0
  apt-get install -y -qq "${missing[@]}" >>"$APT_LOG" 2>&1 || apt_rc=$?
  [ -n "$OWN_POLICY" ] && rm -f /usr/sbin/policy-rc.d
  if [ "$apt_rc" != 0 ]; then
    tail -n 15 "$APT_LOG" >&2
    die "could not install Debian packages: ${missing[*]} (see the apt-get lines above; full log $APT_LOG)."
  fi
  # An sshd we installed stays off at boot too (the tests start their own in a namespace).
  case " ${missing[*]} " in *" openssh-server "*)
    if command -v systemctl >/dev/null; then systemctl disable ssh.service ssh.socket >/dev/null 2>&1 || true; fi
    ;;
  esac
  rm -f "$APT_LOG"
fi

[ "${1:-}" = packages ] && exit 0

# 2. Node.js and the npm dependencies, exactly as locked.
command -v node >/dev/null || die "Node.js is not installed. Fix: install Node.js 20.20+ (or 22/24) and run npm run setup again."
NODE_VERSION="$(node --version)" # no script: --version does not start the VM
NODE_MAJOR="${NODE_VERSION#v}"
NODE_MAJOR="${NODE_MAJOR%%.*}"
[ "$NODE_MAJOR" -ge 20 ] || die "Node.js $(node --version) is too old: umlab needs Node.js 20.20 or later."
if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  say "installing npm dependencies (npm ci)..."
  npm ci --no-audit --no-fund --loglevel=error >&2 || die "npm ci failed: the npm registry must be reachable."
fi

# 3. The Pulumi toolchain (CLI, language host, plugins), cached per user.
bash "$ROOT/scripts/toolchain.sh" ensure >/dev/null

# 4. Compile the TypeScript (the CLI, the benchmarks and the serialization check run from dist/),
# unless dist/ is up to date: a stamp written when the last build started is newer than every
# source, tsconfig and the installed dependencies (a no-op `npm start` then costs no tsc run).
STAMP="dist/.umlab-build-stamp"
stale() {
  [ -f "$STAMP" ] && [ -f dist/cli/umlab.js ] || return 0
  [ -n "$(find -H sdk provider cli examples tests bench tsconfig.json package.json node_modules/.package-lock.json \
    -newer "$STAMP" \( -name '*.ts' -o -name '*.json' \) -not -path '*/node_modules/*' -print -quit 2>/dev/null)" ]
}
if [ "${UMLAB_FORCE_BUILD:-}" = 1 ] || stale; then
  mkdir -p dist
  NEXT_STAMP="$(mktemp dist/.umlab-stamp.XXXXXX)" # taken before tsc reads: edits during the build count next time
  TSC_LOG="$(mktemp -t umlab-tsc.XXXXXX)"
  if ! npx tsc -p tsconfig.json >"$TSC_LOG" 2>&1; then
    cat "$TSC_LOG" >&2
    rm -f "$TSC_LOG" "$NEXT_STAMP" "$STAMP"
    die "the TypeScript build failed (see above)."
  fi
  rm -f "$TSC_LOG"
  mv -f "$NEXT_STAMP" "$STAMP"
fi
say "ready in $(($(date +%s) - T0)) s"
