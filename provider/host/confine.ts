// A process confined to a filesystem view of its own: a private mount namespace whose root is
// an empty tmpfs holding only the host paths it is given, each at its own absolute path (so
// argv, sockets and the files the host reads keep their names), then `chroot` into it.
//
// Why: UML's `hostfs=<dir>` is no confinement on its own. UML 6.1 joins it with the mount
// option as text ("<dir>/<option>") and the host resolves `..`, so root in a guest mounts
// `-o ../../../../etc` and reads the host's shadow file. In the confined view, `..` ends at
// the tmpfs root: nothing but what the guest's UML process needs exists there.
//
// The command itself then runs with no capabilities (DROP_CAPS) and, when given one, as another
// user (`runAs`: core/guest-user.ts). The namespace needs CAP_SYS_ADMIN: as root a plain mount
// namespace; otherwise a user namespace mapping the caller to root in it (files it creates stay
// the caller's), where no other user exists to switch to.
import * as fs from "fs";
import * as path from "path";
import type { GuestIdentity } from "../core/guest-user";

/** One host path made visible in the confined view (always at the same absolute path). */
export type Bind =
  /** A host directory, read-write. */
  | { kind: "dir"; path: string }
  /** A host directory, read-only. */
  | { kind: "rodir"; path: string }
  /** A host file (or device), read-write. */
  | { kind: "file"; path: string }
  /** A host file, read-only. */
  | { kind: "rofile"; path: string }
  /** A symlink with the host's target (e.g. /lib -> usr/lib). */
  | { kind: "link"; path: string }
  /** An empty directory, world-writable and sticky (/tmp, /dev/shm), on the view's tmpfs. */
  | { kind: "tmp"; path: string }
  /** An empty read-only tmpfs over a path already in the view: hides what a bind showed there. */
  | { kind: "hide"; path: string };

// The steps run by sh inside the new namespace. A constant: paths arrive as positional
// arguments ("$1", "$src"), never spliced into the text, so no path is parsed by the shell.
// umask 022: the view's own directories (the parents of each bind) must be passable by a
// guest that runs as another user, whatever umask the caller has.
const SCRIPT = `set -eu
umask 022
R=$1; shift
mount -t tmpfs -o mode=0755,size=50% umlab-confined "$R"
while [ "$1" != "--" ]; do
  kind=$1; src=$2; shift 2
  dst=$R$src
  case $kind in
  link) mkdir -p "\${dst%/*}"; ln -s "$(readlink "$src")" "$dst" ;;
  dir|rodir) mkdir -p "$dst"; mount --bind "$src" "$dst" ;;
  file|rofile) mkdir -p "\${dst%/*}"; [ -e "$dst" ] || : >"$dst"; mount --bind "$src" "$dst" ;;
  tmp) mkdir -p "$dst"; chmod 1777 "$dst" ;;
  # A sibling guest being re-created at the same moment may have just removed its dir: then
  # there is nothing to hide (and nothing to fail on).
  hide) [ ! -e "$dst" ] || mount -t tmpfs -o ro,mode=0500,size=4k umlab-hidden "$dst" || [ ! -e "$dst" ] ;;
  *) echo "umlab-confine: unknown kind $kind" >&2; exit 2 ;;
  esac
  case $kind in ro*) mount -o remount,bind,ro "$dst" ;; esac
done
shift
exec chroot "$R" "$@"
`;

/**
 * The process runs with no capabilities and cannot regain any (empty bounding set, no new
 * privileges): even as uid 0, code that escaped UML itself cannot mount, chroot out of the
 * view or trace processes that have capabilities. setpriv is util-linux's, under /usr.
 */
export const DROP_CAPS = [
  "/usr/bin/setpriv",
  "--inh-caps=-all",
  "--bounding-set=-all",
  "--no-new-privs",
  "--",
];

/** setpriv's options that make the command run as `id` (all groups dropped), before DROP_CAPS. */
export function runAsArgs(id: GuestIdentity | undefined): string[] {
  return id ? [`--reuid=${id.uid}`, `--regid=${id.gid}`, "--clear-groups"] : [];
}

/** Is `p` the same as or below `dir`? */
function within(p: string, dir: string): boolean {
  return p === dir || p.startsWith(dir.endsWith("/") ? dir : `${dir}/`);
}

/** The system paths a dynamically linked host binary needs (read-only), as on this host. */
export function systemBinds(exists = fs.existsSync, lstat = fs.lstatSync): Bind[] {
  const out: Bind[] = [{ kind: "rodir", path: "/usr" }];
  for (const d of ["/lib", "/lib64", "/lib32", "/libx32", "/bin", "/sbin"]) {
    if (!exists(d)) continue;
    out.push(lstat(d).isSymbolicLink() ? { kind: "link", path: d } : { kind: "rodir", path: d });
  }
  return out;
}

/**
 * Binds in mount order, without those a read-only bind of a parent already shows (a kernel
 * under /usr). Every path must be absolute and normalised (no `..`).
 */
export function orderBinds(binds: Bind[]): Bind[] {
  const out: Bind[] = [];
  for (const b of binds) {
    if (!path.isAbsolute(b.path) || path.normalize(b.path) !== b.path || b.path === "/")
      throw new Error(`confine: ${JSON.stringify(b.path)} is not an absolute normalised path below /`);
    if (b.kind === "rofile" && out.some((o) => o.kind === "rodir" && within(b.path, o.path))) continue;
    if (out.some((o) => o.path === b.path && o.kind === b.kind)) continue;
    out.push(b);
  }
  return out;
}

/**
 * The argv that starts `cmd args` confined to `binds`, with `root` (an existing empty host
 * directory) as the mount point of the view's tmpfs. pid, session and inherited fds are those
 * of the final process: unshare, sh and chroot each exec the next.
 */
export function confinedCommand(
  root: string,
  binds: Bind[],
  cmd: string,
  args: string[],
  uid = process.getuid?.() ?? 0,
  runAs?: GuestIdentity,
): { cmd: string; args: string[] } {
  if (runAs && uid !== 0) throw new Error("confine: only root can run the confined command as another user");
  const ns = uid === 0 ? ["--mount"] : ["--user", "--map-root-user", "--mount"];
  const steps = orderBinds(binds).flatMap((b) => [b.kind, b.path]);
  return {
    cmd: "unshare",
    args: [
      ...ns,
      "--propagation",
      "private",
      "--",
      "sh",
      "-c",
      SCRIPT,
      "umlab-confine",
      root,
      ...steps,
      "--",
      DROP_CAPS[0],
      ...runAsArgs(runAs),
      ...DROP_CAPS.slice(1),
      cmd,
      ...args,
    ],
  };
}
