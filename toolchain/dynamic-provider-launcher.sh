#!/bin/sh
# pulumi-resource-pulumi-nodejs for umlab: the engine's launcher of dynamic providers.
# Upstream's (shipped in @pulumi/pulumi) starts a whole node only to resolve
# @pulumi/pulumi/cmd/dynamic-provider, then a second node to run it. This finds it the way
# Node would from the working directory (node_modules here or in a parent folder) and execs
# one node; only when that finds nothing does it ask Node (NODE_PATH, global folders).
d=$PWD
while :; do
  f="$d/node_modules/@pulumi/pulumi/cmd/dynamic-provider/index.js"
  if [ -f "$f" ]; then exec node "$f" "$@"; fi
  [ -z "$d" ] || [ "$d" = / ] && break
  d=${d%/*}
done
f=$(node -e "console.log(require.resolve('@pulumi/pulumi/cmd/dynamic-provider'))") || exit 1
exec node "$f" "$@"
