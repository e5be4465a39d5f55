import fc from "fast-check";
import {
  guestIdentity,
  labUid,
  mayAccess,
  passwdEntry,
  LAB_UID_BASE,
  LAB_UID_SPAN,
} from "../../../provider/core/guest-user";
import { confinedCommand, runAsArgs } from "../../../provider/host/confine";

const PASSWD =
  "root:x:0:0:root:/root:/bin/bash\nnobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin\nlab:x:1200:1300::/home/lab:/bin/sh\n";
const none = () => {
  throw new Error("passwd must not be read");
};

describe("guestIdentity: who a lab's guests run as", () => {
  test("as root, by default each lab gets a uid of its own from the reserved range, gid the same", () => {
    const a = guestIdentity(undefined, 0, "/var/tmp/umlab-0/p.a", none)!;
    const b = guestIdentity("lab", 0, "/var/tmp/umlab-0/p.b", none)!;
    for (const id of [a, b]) {
      expect(id.uid).toBeGreaterThanOrEqual(LAB_UID_BASE);
      expect(id.uid).toBeLessThan(LAB_UID_BASE + LAB_UID_SPAN);
      expect(id.gid).toBe(id.uid);
    }
    expect(a.uid).not.toBe(b.uid);
    // stable: the same lab gets the same uid in every provider process
    expect(guestIdentity("", 0, "/var/tmp/umlab-0/p.a", none)).toEqual(a);
  });

  test("not root: guests run as the caller (in a user namespace), whatever the setting", () => {
    for (const s of [undefined, "lab", "nobody", "123", "root"])
      expect(guestIdentity(s, 1000, "/x", () => PASSWD)).toBeUndefined();
  });

  test("an account name, a uid, uid:gid; root only when spelt out", () => {
    expect(guestIdentity("nobody", 0, "/x", () => PASSWD)).toEqual({ uid: 65534, gid: 65534 });
    expect(guestIdentity("lab", 0, "/x", () => PASSWD)!.uid).toBe(labUid("/x")); // "lab" is the mode
    expect(guestIdentity("4242", 0, "/x", none)).toEqual({ uid: 4242, gid: 4242 });
    expect(guestIdentity("4242:77", 0, "/x", none)).toEqual({ uid: 4242, gid: 77 });
    expect(guestIdentity("root", 0, "/x", none)).toBeUndefined();
  });

  test("refuses, naming UMLAB_GUEST_USER and the fix: uid 0 in disguise, unknown names, garbage", () => {
    for (const bad of ["0", "0:0", "5:0", "00"])
      expect(() => guestIdentity(bad, 0, "/x", none)).toThrow(
        /UMLAB_GUEST_USER=.*write "root" if you mean it/,
      );
    expect(() => guestIdentity("ghost", 0, "/x", () => PASSWD)).toThrow(
      /UMLAB_GUEST_USER=ghost: no such account/,
    );
    for (const bad of ["a b", "-1", "1:2:3", "../x", "x;rm"])
      expect(() => guestIdentity(bad, 0, "/x", () => PASSWD)).toThrow(
        /UMLAB_GUEST_USER=.*(not a user name|no such account)/,
      );
    expect(() => guestIdentity("4294967295", 0, "/x", none)).toThrow(/do not exist/);
  });

  test("property: any setting either yields a non-root identity, undefined for root, or a clear error", () => {
    fc.assert(
      fc.property(fc.string(), fc.string(), (setting, lab) => {
        let id;
        try {
          id = guestIdentity(setting, 0, lab, () => PASSWD);
        } catch (e) {
          expect(String(e)).toMatch(/UMLAB_GUEST_USER/);
          return;
        }
        if (id === undefined) expect(setting.trim()).toBe("root");
        else {
          expect(id.uid).toBeGreaterThan(0);
          expect(id.gid).toBeGreaterThan(0);
        }
      }),
      { numRuns: 2000 },
    );
  });

  test("lab uids spread: 2000 lab dirs, few collisions", () => {
    const seen = new Set<number>();
    for (let k = 0; k < 2000; k++) seen.add(labUid(`/var/tmp/umlab-0/course.student-${k}`));
    expect(seen.size).toBeGreaterThanOrEqual(1999);
  });

  test("passwdEntry reads name:x:uid:gid and ignores junk lines", () => {
    expect(passwdEntry("junk\n::\nlab:x:1200:1300::/h:/s", "lab")).toEqual({ uid: 1200, gid: 1300 });
    expect(passwdEntry("lab:x:abc:1::", "lab")).toBeUndefined();
  });
});

describe("mayAccess: the owner, group, other bits that apply", () => {
  const id = { uid: 5000, gid: 6000 };
  test("owner bits for the owner, group bits for the group, other bits for the rest", () => {
    expect(mayAccess({ uid: 5000, gid: 0, mode: 0o600 }, id, "rw")).toBe(true);
    expect(mayAccess({ uid: 0, gid: 0, mode: 0o600 }, id, "r")).toBe(false);
    expect(mayAccess({ uid: 0, gid: 6000, mode: 0o640 }, id, "r")).toBe(true);
    expect(mayAccess({ uid: 0, gid: 6000, mode: 0o640 }, id, "rw")).toBe(false);
    expect(mayAccess({ uid: 0, gid: 0, mode: 0o444 }, id, "r")).toBe(true); // a cached image
    expect(mayAccess({ uid: 0, gid: 0, mode: 0o755 }, id, "rx")).toBe(true); // the kernel
    expect(mayAccess({ uid: 0, gid: 0, mode: 0o700 }, id, "rx")).toBe(false);
  });
});

describe("confinedCommand with runAs", () => {
  test("setpriv switches uid, gid and drops groups before dropping capabilities", () => {
    const c = confinedCommand("/r", [{ kind: "rodir", path: "/usr" }], "/k", ["a"], 0, { uid: 7, gid: 8 });
    const tail = c.args.slice(c.args.lastIndexOf("/usr/bin/setpriv"));
    expect(tail).toEqual([
      "/usr/bin/setpriv",
      "--reuid=7",
      "--regid=8",
      "--clear-groups",
      "--inh-caps=-all",
      "--bounding-set=-all",
      "--no-new-privs",
      "--",
      "/k",
      "a",
    ]);
    expect(runAsArgs(undefined)).toEqual([]);
  });

  test("only root can switch: a caller in a user namespace has nobody to switch to", () => {
    expect(() => confinedCommand("/r", [], "/k", [], 1000, { uid: 7, gid: 8 })).toThrow(/only root/);
  });
});
