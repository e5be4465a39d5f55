# Source this file (from the project root or anywhere) to use the project's Pulumi toolchain
# in your shell:   source scripts/env.sh && pulumi preview
# It sets the same environment that `npm start` / `npm test` use.
_umlab_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
if ! _umlab_bin="$(bash "$_umlab_root/scripts/toolchain.sh" path)"; then
  echo "umlab: the Pulumi toolchain is not built yet: run npm run setup" >&2
  return 1 2>/dev/null || exit 1
fi
export PATH="$_umlab_bin:$_umlab_root/node_modules/.bin:$PATH"
# Plugins (the command plugin) live in the toolchain's own Pulumi home, not in ~/.pulumi.
export PULUMI_HOME="${UMLAB_PULUMI_HOME:-$(dirname "$_umlab_bin")/home}"
# Local state inside the project, never a cloud login.
# metadata=skip: no fileblob sidecars (written non-atomically; see cli/toolchain.ts fileBackendUrl).
export PULUMI_BACKEND_URL="${PULUMI_BACKEND_URL:-file://$_umlab_root/.pulumi-state?metadata=skip}"
# Pulumi's state and everything the lab writes: readable by this user only (the file backend
# writes with the process umask, 0644 otherwise).
umask 077
mkdir -p "$_umlab_root/.pulumi-state"
chmod 700 "$_umlab_root/.pulumi-state"
# A documented default passphrase for local development stacks only; set your own for anything
# else. An empty one is refused: Pulumi would encrypt the stack's secrets with no passphrase.
if [ -n "${PULUMI_CONFIG_PASSPHRASE+set}" ] && [ -z "$PULUMI_CONFIG_PASSPHRASE" ]; then
  echo "umlab: PULUMI_CONFIG_PASSPHRASE is set but empty: Pulumi would protect the stack's secrets with no passphrase. Unset it (to use the dev passphrase umlab-dev) or set a real one." >&2
  return 1 2>/dev/null || exit 1
fi
if [ -z "${PULUMI_CONFIG_PASSPHRASE_FILE:-}" ]; then
  export PULUMI_CONFIG_PASSPHRASE="${PULUMI_CONFIG_PASSPHRASE:-umlab-dev}"
fi
export PULUMI_SKIP_UPDATE_CHECK=true
export PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION=true
export PULUMI_AUTOMATION_API_SKIP_VERSION_CHECK="${PULUMI_AUTOMATION_API_SKIP_VERSION_CHECK:-false}"
if [ -n "${CI:-}" ]; then export PULUMI_NON_INTERACTIVE=true; fi
unset _umlab_bin
