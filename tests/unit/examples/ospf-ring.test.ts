// examples/ospf-ring's timer profiles: `fast` (BFD 100 ms) and `class` (no bfdd), and what the
// class admission makes of each (cli/class-plan.ts reads the guest's FRR daemons file).
import { daemons, frrConf, parseProfile, profileBfd, PROFILES } from "../../../examples/ospf-ring/ring";
import { admit, guestKind, studentCost } from "../../../cli/class-plan";

const ringOf = (bfd: boolean) =>
  studentCost(
    [1, 2, 3, 4].map((n) => ({
      files: { "/etc/frr/daemons": daemons(bfd), "/etc/frr/frr.conf": frrConf(n, bfd) },
    })),
    [{ preset: "debian" }],
  );

describe("ospf-ring profiles", () => {
  test("no profile is fast (BFD on); class runs no bfdd and configures no BFD session", () => {
    expect(parseProfile(undefined)).toBe("fast");
    expect(parseProfile("")).toBe("fast");
    expect(profileBfd(parseProfile("fast"))).toBe(true);
    expect(profileBfd(parseProfile("class"))).toBe(false);
    const bfd = profileBfd("class");
    expect(daemons(bfd)).toMatch(/^bfdd=no$/m);
    expect(frrConf(1, bfd)).not.toMatch(/bfd/);
    expect(frrConf(1, true)).toMatch(/transmit-interval 100/);
  });

  test.each(["slow", "Class", "fast,class", " class"])(
    "profile %j is refused naming the key and the choices",
    (v) => {
      expect(() => parseProfile(v)).toThrow(/config profile/);
      expect(() => parseProfile(v)).toThrow(new RegExp(PROFILES.join(" or ")));
    },
  );

  test("admission: a class-profile router is an frr guest, and more class-profile students fit than fast ones", () => {
    expect(
      guestKind({ files: { "/etc/frr/daemons": daemons(profileBfd("class")) } }, [{ preset: "debian" }]),
    ).toBe("frr");
    const host = { cores: 2, memAvailable: 20 * 1024 ** 3 };
    const fast = admit(30, ringOf(true), host);
    const cls = admit(30, ringOf(false), host);
    expect(cls.fit).toBeGreaterThan(fast.fit);
    expect(fast.ok).toBe(false);
  });
});
