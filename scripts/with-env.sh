#!/usr/bin/env bash
# Run a command with the project's Pulumi toolchain and local-state environment (see env.sh).
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/env.sh"
cd "$_umlab_root"
exec "$@"
