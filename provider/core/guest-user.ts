// Pure: which host user a guest's UML process runs as. When umlab runs as root, a guest that
// escaped UML itself would otherwise be uid 0 (with no capabilities, but still the owner of
// every root file and process: it could kill sshd or write /etc through any path it reaches).
// So by default each lab's guests run as a uid of their own, from a range no real account
// uses: an escaped guest owns nothing on the host but its own lab's guest files, and cannot
// signal or trace another lab's guests (different uid). Not root: guests already run as the
// caller (inside a user namespace), and a non-root caller cannot switch users.
//
// UMLAB_GUEST_USER (read by the provider process, so set it where `pulumi up` runs):
//   unset or "lab"      one uid per lab (the default)
//   <name>              that account (from /etc/passwd), for every lab
//   <uid> or <uid>:<gid> those numbers, for every lab
//   "root"              no switch: guests run as root without capabilities (the old behaviour)

export interface GuestIdentity {
  uid: number;
  gid: number;
}

/** The per-lab uids: [LAB_UID_BASE, LAB_UID_BASE + LAB_UID_SPAN). Far above the ranges
 *  /etc/subuid hands out (100000 + 65536 per user) and below 2^31 (no signed-int surprises). */
export const LAB_UID_BASE = 0x40000000;
export const LAB_UID_SPAN = 0x1000000;

/** FNV-1a, 32 bits: a stable spread of lab dirs over the range (no state, no leftovers). */
function fnv1a(text: string): number {
  let h = 0x811c9dc5;
  for (const b of Buffer.from(text, "utf8")) {
    h ^= b;
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h >>> 0;
}

/** The uid (and gid) of a lab's guests in "lab" mode. */
export function labUid(labDir: string): number {
  return LAB_UID_BASE + (fnv1a(labDir) % LAB_UID_SPAN);
}

/** uid and gid of an account in /etc/passwd text (name:x:uid:gid:...). */
export function passwdEntry(passwd: string, name: string): GuestIdentity | undefined {
  for (const line of passwd.split("\n")) {
    const f = line.split(":");
    if (f.length >= 4 && f[0] === name && /^\d+$/.test(f[2]) && /^\d+$/.test(f[3]))
      return { uid: Number(f[2]), gid: Number(f[3]) };
  }
  return undefined;
}

const HOW =
  'Set UMLAB_GUEST_USER to "lab" (one uid per lab, the default), an account name, a uid or uid:gid other than 0, or "root" to keep guests as root (not recommended)';

/**
 * Who a lab's guests run as: undefined means "as the caller" (not root, or UMLAB_GUEST_USER=root).
 * Throws a message naming UMLAB_GUEST_USER and the fix for a value it cannot use.
 */
export function guestIdentity(
  setting: string | undefined,
  callerUid: number,
  labDir: string,
  passwd: () => string,
): GuestIdentity | undefined {
  if (callerUid !== 0) return undefined;
  const v = (setting ?? "").trim();
  if (v === "" || v === "lab") return { uid: labUid(labDir), gid: labUid(labDir) };
  if (v === "root") return undefined;
  const numeric = /^(\d{1,10})(?::(\d{1,10}))?$/.exec(v);
  let id: GuestIdentity | undefined;
  if (numeric) id = { uid: Number(numeric[1]), gid: Number(numeric[2] ?? numeric[1]) };
  else if (/^[a-z_][a-z0-9_-]{0,31}\$?$/i.test(v)) {
    id = passwdEntry(passwd(), v);
    if (!id) throw new Error(`UMLAB_GUEST_USER=${v}: no such account in /etc/passwd. ${HOW}.`);
  } else throw new Error(`UMLAB_GUEST_USER=${JSON.stringify(v)} is not a user name, uid or uid:gid. ${HOW}.`);
  if (id.uid === 0 || id.gid === 0)
    throw new Error(`UMLAB_GUEST_USER=${v} is uid or gid 0; write "root" if you mean it. ${HOW}.`);
  if (id.uid > 0xfffffffe || id.gid > 0xfffffffe)
    throw new Error(`UMLAB_GUEST_USER=${v}: ids above 4294967294 do not exist. ${HOW}.`);
  return id;
}

/** What stat says about a file, as far as access goes. */
export interface Owned {
  uid: number;
  gid: number;
  mode: number;
}

/** May `id` (no supplementary groups) open a file with these facts for `want` (r, w, x)? */
export function mayAccess(st: Owned, id: GuestIdentity, want: "r" | "rw" | "rx"): boolean {
  const shift = st.uid === id.uid ? 6 : st.gid === id.gid ? 3 : 0;
  const bits = (st.mode >> shift) & 7;
  const need = (want.includes("r") ? 4 : 0) | (want.includes("w") ? 2 : 0) | (want.includes("x") ? 1 : 0);
  return (bits & need) === need;
}
