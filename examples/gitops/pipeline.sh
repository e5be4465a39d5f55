#!/usr/bin/env bash
# The GitOps pipeline of a lab repo (a `umlab new` folder in Git), one step per CI event:
#
#   pipeline.sh pr      pull request: `pulumi preview --diff --json`, turned by `umlab summary`
#                       into $GITOPS_OUT/summary.md (the PR comment); fails when the preview fails
#   pipeline.sh merge   push to main: `pulumi up --refresh` (a guest that died is recreated),
#                       then `pulumi preview --expect-no-changes` (fails if the lab did not converge)
#   pipeline.sh drift   schedule: `pulumi refresh --preview-only --expect-no-changes`; fails (exit 1)
#                       on drift, with $GITOPS_OUT/drift.md saying what differs
#
# Run in the checkout of the lab repo. One Pulumi run at a time per lab host: every step holds
# an flock on $GITOPS_LOCK for its whole run. Environment:
#   GITOPS_STACK                 the stack (required)
#   PULUMI_CONFIG_PASSPHRASE(_FILE)  required: from the CI's secret store, never the dev default
#   PULUMI_BACKEND_URL           default file://$GITOPS_STATE?metadata=skip: state must outlive
#                                the checkout (a CI checkout is cleaned between runs)
#   GITOPS_STATE                 default $HOME/.local/state/umlab-gitops
#   GITOPS_LOCK                  default /var/tmp/umlab-gitops-<uid>.lock; GITOPS_LOCK_WAIT seconds (3600)
#   GITOPS_OUT                   where preview.json/summary.md/drift.json/drift.md go (.gitops-out)
set -euo pipefail

step="${1:-}"
case "$step" in
  pr | merge | drift) ;;
  *) echo "usage: pipeline.sh pr|merge|drift (in the lab repo's checkout)" >&2; exit 2 ;;
esac
fail() { echo "pipeline: $*" >&2; exit 2; }
[ -n "${GITOPS_STACK:-}" ] || fail "GITOPS_STACK is not set: name the lab's stack (e.g. lab)"
if [ -z "${PULUMI_CONFIG_PASSPHRASE:-}" ] && [ -z "${PULUMI_CONFIG_PASSPHRASE_FILE:-}" ]; then
  fail "set PULUMI_CONFIG_PASSPHRASE (or PULUMI_CONFIG_PASSPHRASE_FILE) from the CI's secret store; the dev passphrase is refused here"
fi
[ -f Pulumi.yaml ] || fail "no Pulumi.yaml in $(pwd): run it in the lab repo's checkout"
[ -d node_modules ] || npm ci --no-audit --no-fund

umlab_dir="$(node -p 'require("path").dirname(require.resolve("umlab/package.json"))')"
umlab() { node "$umlab_dir/dist/cli/umlab.js" "$@"; }

state="${GITOPS_STATE:-$HOME/.local/state/umlab-gitops}"
export PULUMI_BACKEND_URL="${PULUMI_BACKEND_URL:-file://$state?metadata=skip}"
case "$PULUMI_BACKEND_URL" in file://*) (umask 077 && mkdir -p "$state") ;; esac
export UMLAB_STACK="$GITOPS_STACK" PULUMI_NON_INTERACTIVE=true PULUMI_SKIP_UPDATE_CHECK=true
out="${GITOPS_OUT:-.gitops-out}"
mkdir -p "$out"

lock="${GITOPS_LOCK:-/var/tmp/umlab-gitops-$(id -u).lock}"
exec 9>>"$lock"
if ! flock -w "${GITOPS_LOCK_WAIT:-3600}" 9; then
  echo "pipeline: another Pulumi run on this lab host holds $lock; gave up after ${GITOPS_LOCK_WAIT:-3600}s" >&2
  exit 4
fi

umlab pulumi stack select --create "$GITOPS_STACK" --non-interactive >/dev/null
P=(--stack "$GITOPS_STACK" --non-interactive)

case "$step" in
  pr)
    rc=0
    umlab pulumi preview "${P[@]}" --diff --json >"$out/preview.json" 2>"$out/preview.err" || rc=$?
    if ! umlab summary --title "umlab: what merging this does to stack \`$GITOPS_STACK\`" \
      "$out/preview.json" >"$out/summary.md"; then
      cat "$out/preview.err" >&2
      echo "pipeline: the preview failed (exit $rc)" >&2
      exit 1
    fi
    cat "$out/summary.md"
    if [ "$rc" != 0 ]; then
      cat "$out/preview.err" >&2
      echo "pipeline: the preview failed (exit $rc)" >&2
      exit 1
    fi
    ;;
  merge)
    umlab pulumi up "${P[@]}" --yes --refresh --skip-preview
    umlab pulumi preview "${P[@]}" --expect-no-changes
    echo "pipeline: stack $GITOPS_STACK applied and converged"
    ;;
  drift)
    rc=0
    umlab pulumi refresh "${P[@]}" --preview-only --expect-no-changes --json \
      >"$out/drift.json" 2>"$out/drift.err" || rc=$?
    umlab summary "$out/drift.json" >"$out/drift.md" || { cat "$out/drift.err" >&2; exit 1; }
    cat "$out/drift.md"
    if [ "$rc" != 0 ]; then
      if grep -q "no changes were expected" "$out/drift.err"; then
        echo "pipeline: DRIFT: the lab on this host differs from stack $GITOPS_STACK's state (above); the next merge run (pulumi up --refresh) repairs it" >&2
      else
        cat "$out/drift.err" >&2
        echo "pipeline: the drift check itself failed (exit $rc)" >&2
      fi
      exit 1
    fi
    echo "pipeline: no drift in stack $GITOPS_STACK"
    ;;
esac
