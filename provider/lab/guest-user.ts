// The effects of core/guest-user.ts: who this lab's guests run as (from UMLAB_GUEST_USER, the
// caller's uid and /etc/passwd), and handing them the host paths a guest's UML process must
// write: its state and exec folders, its COW files, its umid dir, the switch sockets it plugs
// into. Everything else of the lab stays the caller's (mode 0700); the guest reaches what it
// needs through the bind mounts of its confined view (host/confine.ts), never by traversal.
import * as fs from "fs";
import { guestIdentity, type GuestIdentity } from "../core/guest-user";
import { currentUid } from "./owned";

/** Who the guests of the lab in `labDir` run as; undefined: as the caller. */
export function guestIdentityOf(
  labDir: string,
  env: NodeJS.ProcessEnv = process.env,
): GuestIdentity | undefined {
  return guestIdentity(env.UMLAB_GUEST_USER, currentUid(), labDir, () =>
    fs.readFileSync("/etc/passwd", "utf8"),
  );
}

/**
 * Give `paths` (those that exist) to the guests' user: lchown, so a symlink is never followed.
 * Nothing to do when the guests run as the caller.
 */
export function giveToGuest(labDir: string, paths: string[]): void {
  const id = guestIdentityOf(labDir);
  if (!id) return;
  for (const p of paths) {
    try {
      fs.lchownSync(p, id.uid, id.gid);
    } catch (e: any) {
      if (e?.code !== "ENOENT") throw e;
    }
  }
}
