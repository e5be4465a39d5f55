// The pure decision on a lab's directories: lstat facts + uid -> use it or refuse (and why).
import * as fc from "fast-check";
import { judgeDir, DirFacts } from "../../../provider/core/ownership";

const mine: DirFacts = { isSymbolicLink: false, isDirectory: true, uid: 1000, mode: 0o40700 };
const judge = (f: Partial<DirFacts>, uid = 1000) =>
  judgeDir("/var/tmp/umlab-1000", "the runtime root", { ...mine, ...f }, uid, "set UMLAB_RUNTIME");

describe("judgeDir", () => {
  test("a real directory of this user, not group/other-writable, is used (0700, 0755, 0750)", () => {
    for (const mode of [0o40700, 0o40755, 0o40750, 0o40500]) expect(judge({ mode })).toEqual({ ok: true });
    expect(judge({ uid: 0 }, 0)).toEqual({ ok: true });
  });

  test("another user's directory is refused, naming the path, the owner's uid and name, and the fix", () => {
    const v = judge({ uid: 65534, ownerName: "nobody" });
    expect(v.ok).toBe(false);
    if (v.ok) return;
    expect(v.reason).toContain("the runtime root /var/tmp/umlab-1000 is owned by uid 65534 (nobody)");
    expect(v.reason).toContain("not by you (uid 1000)");
    expect(v.reason).toContain("set UMLAB_RUNTIME");
    // root's own directory is not the user's either
    expect(judge({ uid: 0, ownerName: "root" }).ok).toBe(false);
    // and root (uid 0) refuses another user's directory too: root is no exception
    expect(judge({ uid: 1000 }, 0).ok).toBe(false);
  });

  test("a symbolic link is refused even when it is the user's own and points at their directory", () => {
    const v = judge({ isSymbolicLink: true, isDirectory: false, uid: 1000, mode: 0o120777 });
    expect(v).toEqual({
      ok: false,
      reason: expect.stringContaining("is a symbolic link (owned by uid 1000)"),
    });
  });

  test("a file in its place is refused", () => {
    expect(judge({ isDirectory: false, mode: 0o100600 })).toEqual({
      ok: false,
      reason: expect.stringContaining("is not a directory"),
    });
  });

  test("group- or other-writable directories are refused, sticky or not, with the mode in the reason", () => {
    expect(judge({ mode: 0o40770 })).toEqual({
      ok: false,
      reason: expect.stringMatching(/its group .*mode 0770/),
    });
    expect(judge({ mode: 0o40707 })).toEqual({
      ok: false,
      reason: expect.stringMatching(/by others .*mode 0707/),
    });
    expect(judge({ mode: 0o41777 })).toEqual({
      ok: false,
      reason: expect.stringMatching(/its group and others .*mode 1777/),
    });
  });

  test("for any facts: ok exactly when a non-link directory of this uid without g+w/o+w", () => {
    fc.assert(
      fc.property(
        fc.boolean(),
        fc.boolean(),
        fc.integer({ min: 0, max: 3 }),
        fc.integer({ min: 0, max: 0o7777 }),
        fc.integer({ min: 0, max: 3 }),
        (link, dir, owner, mode, uid) => {
          const v = judgeDir(
            "/r",
            "the lab directory",
            { isSymbolicLink: link, isDirectory: dir, uid: owner, mode },
            uid,
            "x",
          );
          const expected = !link && dir && owner === uid && (mode & 0o022) === 0;
          expect(v.ok).toBe(expected);
          if (!v.ok) expect(v.reason).toMatch(/^the lab directory \/r .*uid \d/);
        },
      ),
      { numRuns: 2000 },
    );
  });
});
