// Pure: may umlab use a directory it keeps a lab in (the runtime root, a lab dir)? Only one that
// is a real directory (not a symlink), owned by the current user and not writable by group or
// others: anything else could be another local user's (made first, or planted as a link), and
// using it would hand them the lab (swap a guest's startup) or make umlab write where they point.
// The facts come from lstat (provider/lab/owned.ts); this decides and words the refusal.

/** What lstat says about a path (undefined: it does not exist). */
export interface DirFacts {
  isSymbolicLink: boolean;
  isDirectory: boolean;
  uid: number;
  mode: number;
  /** The owner's user name, when the host knows it. */
  ownerName?: string;
}

export type DirVerdict = { ok: true } | { ok: false; reason: string };

function owner(f: DirFacts): string {
  return `uid ${f.uid}${f.ownerName ? ` (${f.ownerName})` : ""}`;
}

/**
 * The verdict on `path` (`what`: "the runtime root", "the lab directory") for user `uid`.
 * `fix` says what to do instead (e.g. set UMLAB_RUNTIME to a directory of your own).
 */
export function judgeDir(path: string, what: string, f: DirFacts, uid: number, fix: string): DirVerdict {
  const no = (why: string, todo: string): DirVerdict => ({
    ok: false,
    reason: `${what} ${path} ${why}; umlab refuses to use it. ${todo}`,
  });
  if (f.isSymbolicLink)
    return no(
      `is a symbolic link (owned by ${owner(f)}), not a directory`,
      `Someone may have planted it to redirect the lab: check it, remove the link, or ${fix}.`,
    );
  if (!f.isDirectory) return no(`is not a directory (owned by ${owner(f)})`, `Remove it or ${fix}.`);
  if (f.uid !== uid)
    return no(
      `is owned by ${owner(f)}, not by you (uid ${uid})`,
      `Another user made it first and could change your lab's files: remove it (as its owner or root) or ${fix}.`,
    );
  if ((f.mode & 0o022) !== 0)
    return no(
      `is writable by ${f.mode & 0o020 ? "its group" : ""}${(f.mode & 0o022) === 0o022 ? " and " : ""}${f.mode & 0o002 ? "others" : ""} (mode ${(f.mode & 0o7777).toString(8).padStart(4, "0")}, owner ${owner(f)})`,
      `Other users could replace your lab's files: chmod go-w ${path}, or ${fix}.`,
    );
  return { ok: true };
}
