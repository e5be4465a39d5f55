// The directories a lab lives in must be this user's own: lstat them (never following a link)
// and let core/ownership.ts judge. Also the default runtime root, which needs this user's uid.
import * as fs from "fs";
import * as naming from "../core/naming";
import { judgeDir, DirFacts } from "../core/ownership";

/** The user umlab runs as. */
export function currentUid(): number {
  return process.getuid ? process.getuid() : 0;
}

/** The user name of `uid` from /etc/passwd, if listed there. */
export function userName(uid: number): string | undefined {
  try {
    for (const line of fs.readFileSync("/etc/passwd", "utf8").split("\n")) {
      const f = line.split(":");
      if (f.length > 2 && Number(f[2]) === uid) return f[0];
    }
  } catch {
    // no passwd file: the uid alone names the owner
  }
  return undefined;
}

/** lstat facts of `path`, or undefined when nothing is there. */
export function dirFacts(path: string): DirFacts | undefined {
  let st: fs.Stats;
  try {
    st = fs.lstatSync(path);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw e;
  }
  return {
    isSymbolicLink: st.isSymbolicLink(),
    isDirectory: st.isDirectory(),
    uid: st.uid,
    mode: st.mode,
    ownerName: userName(st.uid),
  };
}

const FIX = "set UMLAB_RUNTIME to a directory of your own (mode 0700)";

/** Throw unless `path` is a directory of this user, not a link, not group/other-writable. */
export function assertOwnedDir(path: string, what: string): void {
  const f = dirFacts(path);
  if (!f) throw new Error(`${what} ${path} does not exist`);
  const v = judgeDir(path, what, f, currentUid(), FIX);
  if (!v.ok) throw new Error(v.reason);
}

/**
 * Make `path` (mode 0700) unless something is there, then check it is this user's own (the
 * check runs whoever made it: a directory another user creates between mkdir and lstat is
 * refused too). `parents`: make missing parents first (the runtime root's).
 */
export function ensureOwnedDir(path: string, what: string, parents = false): void {
  if (parents) {
    const parent = path.replace(/\/[^/]+\/?$/, "") || "/";
    fs.mkdirSync(parent, { recursive: true, mode: 0o755 });
  }
  try {
    fs.mkdirSync(path, { mode: 0o700 });
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== "EEXIST") throw e;
  }
  assertOwnedDir(path, what);
}

/** The runtime root for this process's environment and user (naming.runtimeRoot). */
export function defaultRuntimeRoot(env: Record<string, string | undefined> = process.env): string {
  return naming.runtimeRoot(env, currentUid());
}
