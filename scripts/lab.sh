#!/usr/bin/env bash
# up | preview | down | refresh the default lab (the root Pulumi.yaml) on a local stack.
# Stack name: $UMLAB_STACK (default "dev"); state in $PULUMI_BACKEND_URL (default .pulumi-state/),
# the lab's files under $UMLAB_RUNTIME (see env.sh, provider/lab/owned.ts).
# `up` refreshes first: a guest killed behind umlab's back is found dead and booted again
# (without --refresh Pulumi trusts the state and reports "unchanged").
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/env.sh"
cd "$_umlab_root"
STACK="${UMLAB_STACK:-dev}"
pulumi stack select --create "$STACK" --non-interactive >/dev/null
case "${1:-up}" in
  up) pulumi up --refresh --yes --skip-preview --non-interactive "${@:2}" ;;
  preview) pulumi preview --non-interactive --diff "${@:2}" ;;
  refresh) pulumi refresh --yes --non-interactive "${@:2}" ;;
  down) pulumi destroy --yes --non-interactive "${@:2}" ;;
  *) echo "usage: lab.sh up|preview|refresh|down [pulumi flags]" >&2; exit 2 ;;
esac
