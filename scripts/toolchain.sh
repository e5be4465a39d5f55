#!/usr/bin/env bash
# Ensure the Pulumi toolchain umlab needs, cached per user:
#   pulumi                          the CLI, built from Go modules at the version of the npm SDK
#   pulumi-language-nodejs          our language host (toolchain/langhost), same version
#   pulumi-resource-pulumi-nodejs   the dynamic-provider launcher (toolchain/dynamic-provider-launcher.sh:
#                                   upstream's, without its extra node start)
#   umlab-ts-cache.js               our loader for .ts programs (toolchain/ts-cache.js; its cache
#                                   of transpiled files goes to ../ts-cache)
#   plugins/resource-command-v1.2.1 the `command` plugin for @pulumi/command (toolchain/command-plugin)
#
# Usage: toolchain.sh ensure   build if missing, print the bin directory
#        toolchain.sh path     print the bin directory (exit 3 when not built yet)
#
# A pulumi already on PATH is used instead of building the CLI when its version matches.
# The build goes to a temporary directory that is renamed into place only when complete,
# so a failed build never leaves a half-installed toolchain on the cached path.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
PULUMI_VERSION="3.248.0"
# @pulumi/pulumi as Node resolves it from umlab (in a lab that installed umlab as a package it
# sits beside umlab, not under it). $ROOT/node_modules is where Node looks first: no node start
# (about 0.3 s on a busy host) when it is there.
if [ -f "$ROOT/node_modules/@pulumi/pulumi/package.json" ]; then
  PULUMI_NODEJS="$ROOT/node_modules/@pulumi/pulumi"
else
  PULUMI_NODEJS="$(node -e 'try{console.log(require("path").dirname(require.resolve("@pulumi/pulumi/package.json",{paths:[process.argv[1]]})))}catch(e){}' "$ROOT" 2>/dev/null || true)"
fi
[ -n "$PULUMI_NODEJS" ] || PULUMI_NODEJS="$ROOT/node_modules/@pulumi/pulumi"
COMMAND_VERSION="1.2.1"
CACHE="${UMLAB_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/umlab}"

say() { echo "umlab setup: $*" >&2; }
die() {
  echo "" >&2
  echo "umlab setup: ERROR: $*" >&2
  exit 1
}

# UMLAB_GO names the go binary to use (and only that one).
find_go() {
  if [ -n "${UMLAB_GO:-}" ]; then
    if [ -x "$UMLAB_GO" ]; then echo "$UMLAB_GO"; return; fi
    return 1
  fi
  if command -v go >/dev/null 2>&1; then command -v go; return; fi
  if [ -x /usr/local/go/bin/go ]; then echo /usr/local/go/bin/go; return; fi
  return 1
}

# Two cache keys: the CLI (slow to build) changes only with its version, the Go module
# graph and the Go version; the small pieces (language host, plugins) with their sources.
go_version() { if GO="$(find_go)"; then "$GO" env GOVERSION; else echo nogo; fi; }
cli_key() {
  { echo "$PULUMI_VERSION $(go_version)"; cat "$ROOT/toolchain/go.mod" "$ROOT/toolchain/go.sum"; } |
    sha256sum | cut -c1-12
}
toolchain_key() {
  {
    echo "layout 2 $PULUMI_VERSION $COMMAND_VERSION $(go_version) $(cli_key)"
    cat "$ROOT/toolchain/langhost/main.go" "$ROOT/toolchain/command-plugin/pulumi-resource-command.js" \
      "$ROOT/toolchain/ts-cache.js" "$ROOT/toolchain/dynamic-provider-launcher.sh" 2>/dev/null
  } | sha256sum | cut -c1-12
}

# A pulumi on PATH (not ours) at exactly our SDK's version can be used as it is.
system_pulumi() {
  local p v
  p="$(command -v pulumi 2>/dev/null)" || return 1
  case "$p" in "$CACHE"/*) return 1 ;; esac
  v="$(pulumi version 2>/dev/null)" || return 1
  [ "$v" = "v$PULUMI_VERSION" ] && echo "$p"
}

DIR="$CACHE/toolchain/umlab-$PULUMI_VERSION-$(toolchain_key)"
CLI="$CACHE/toolchain/pulumi-cli-$PULUMI_VERSION-$(cli_key)/pulumi"

cmd="${1:-ensure}"
if [ "$cmd" = "path" ]; then
  [ -x "$DIR/bin/pulumi" ] || exit 3
  echo "$DIR/bin"
  exit 0
fi
[ "$cmd" = "ensure" ] || die "usage: toolchain.sh ensure|path"

if [ -x "$DIR/bin/pulumi" ] && [ -x "$DIR/bin/pulumi-language-nodejs" ]; then
  echo "$DIR/bin"
  exit 0
fi

GO="$(find_go)" || die "Go is not installed, and it is needed to build the Pulumi CLI ${PULUMI_VERSION}
(no pulumi v${PULUMI_VERSION} was found on PATH either).
Fix: install Go 1.25 or later (this machine kind has it at /usr/local/go/bin/go; Debian's golang-go
package in bookworm is too old), or put a pulumi v${PULUMI_VERSION} CLI on PATH, then run npm run setup again."

[ -f "$PULUMI_NODEJS/pulumi-resource-pulumi-nodejs" ] ||
  die "node_modules/@pulumi/pulumi is missing: run npm ci first (npm run setup does it)."

mkdir -p "$CACHE/toolchain"
TMP="$(mktemp -d "$CACHE/toolchain/.build-XXXXXX")"
cleanup() { rm -rf "$TMP"; }
trap cleanup EXIT
mkdir -p "$TMP/bin" "$TMP/home/plugins/resource-command-v$COMMAND_VERSION"

build() { # build <output> <package> <ldflags>
  local log="$TMP/build.log"
  if ! (cd "$ROOT/toolchain" && GOFLAGS=-mod=readonly "$GO" build -trimpath -o "$1" -ldflags "$3" "$2") >"$log" 2>&1; then
    echo "--- last lines of the Go build ---" >&2
    tail -n 25 "$log" >&2
    if grep -qE "GOPROXY|proxy|dial tcp|lookup|403|404|410|verifying|checksum|no such host|timeout" "$log"; then
      die "a Go module could not be downloaded while building $2.
The Go module proxy ($("$GO" env GOPROXY)) must be reachable. Check the network or GOPROXY, then run npm run setup again.
Nothing was installed; the cached toolchain path is untouched."
    fi
    die "building $2 failed (see the lines above). Nothing was installed."
  fi
}

if SYS="$(system_pulumi)"; then
  say "using the pulumi v$PULUMI_VERSION on PATH ($SYS)"
  ln -s "$SYS" "$TMP/bin/pulumi"
else
  if [ ! -x "$CLI" ]; then
    say "building the Pulumi CLI v$PULUMI_VERSION from Go modules (once per user; a few minutes on 2 cores)..."
    t0=$(date +%s)
    mkdir -p "$TMP/cli"
    build "$TMP/cli/pulumi" github.com/pulumi/pulumi/pkg/v3/cmd/pulumi \
      "-s -w -X github.com/pulumi/pulumi/sdk/v3/go/common/version.Version=v$PULUMI_VERSION"
    "$TMP/cli/pulumi" version >/dev/null 2>&1 || die "the built pulumi does not run. Nothing was installed."
    if ! mv -T "$TMP/cli" "$(dirname "$CLI")" 2>/dev/null; then
      [ -x "$CLI" ] || die "could not install the Pulumi CLI at $(dirname "$CLI")"
    fi
    say "built the CLI in $(($(date +%s) - t0)) s"
  fi
  # A hard link, not a symlink: the CLI looks for its bundled plugins (language host,
  # dynamic-provider launcher) beside its own resolved path.
  ln "$CLI" "$TMP/bin/pulumi" 2>/dev/null || cp "$CLI" "$TMP/bin/pulumi"
fi
say "building the Node.js language host..."
build "$TMP/bin/pulumi-language-nodejs" ./langhost "-s -w -X main.Version=$PULUMI_VERSION"

cp "$ROOT/toolchain/dynamic-provider-launcher.sh" "$TMP/bin/pulumi-resource-pulumi-nodejs"
cp "$ROOT/toolchain/ts-cache.js" "$TMP/bin/umlab-ts-cache.js"
cp "$ROOT/toolchain/command-plugin/pulumi-resource-command.js" \
  "$TMP/home/plugins/resource-command-v$COMMAND_VERSION/pulumi-resource-command"
chmod +x "$TMP/bin/"* "$TMP/home/plugins/resource-command-v$COMMAND_VERSION/pulumi-resource-command"

"$TMP/bin/pulumi" version >/dev/null 2>&1 || die "the built pulumi does not run. Nothing was installed."
rm -f "$TMP/build.log"

# Publish atomically: a concurrent setup that won the race is fine too.
if ! mv -T "$TMP" "$DIR" 2>/dev/null; then
  [ -x "$DIR/bin/pulumi" ] || die "could not install the toolchain at $DIR"
fi
trap - EXIT
say "toolchain ready in $DIR"
echo "$DIR/bin"
