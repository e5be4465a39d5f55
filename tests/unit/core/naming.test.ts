import * as naming from "../../../provider/core/naming";
import * as fc from "fast-check";

describe("lab naming", () => {
  test("a lab id is readable, short and stable for a project+stack", () => {
    const id = naming.labId("umlab-quickstart", "dev");
    expect(id).toMatch(/^umlabqui-dev-[0-9a-f]{6}$/);
    expect(naming.labId("umlab-quickstart", "dev")).toBe(id);
    expect(id.length).toBeLessThanOrEqual(24);
  });

  test("two stacks of one program get different ids, even when their names truncate alike", () => {
    expect(naming.labId("p", "staging-aaaa1")).not.toBe(naming.labId("p", "staging-aaaa2"));
    expect(naming.labId("p", "a")).not.toBe(naming.labId("p", "b"));
    expect(naming.labId("proj", "dev")).not.toBe(naming.labId("proj2", "dev"));
  });

  test("names with no usable characters still give a valid id", () => {
    expect(naming.labId("___", "@@")).toMatch(/^x-x-[0-9a-f]{6}$/);
  });

  test("the runtime root is $UMLAB_RUNTIME without trailing slashes, else per user", () => {
    expect(naming.runtimeRoot({}, 1000)).toBe("/var/tmp/umlab-1000");
    expect(naming.runtimeRoot({ UMLAB_RUNTIME: "" }, 0)).toBe("/var/tmp/umlab-0");
    expect(naming.runtimeRoot({ UMLAB_RUNTIME: "/run/u//" }, 0)).toBe("/run/u");
    expect(naming.runtimeRoot({ UMLAB_RUNTIME: "/run/u", XDG_RUNTIME_DIR: "/run/user/7" }, 7)).toBe("/run/u");
  });

  test("$XDG_RUNTIME_DIR is not the default: the root must not depend on how the stack was run", () => {
    expect(naming.runtimeRoot({ XDG_RUNTIME_DIR: "/run/user/1000" }, 1000)).toBe("/var/tmp/umlab-1000");
  });

  test("every default root keeps the worst-case sockets (longest id, longest name) in 108 bytes", () => {
    const id = naming.labId("a-rather-long-project-name", "a-long-stack");
    expect(id.length).toBe(naming.MAX_LAB_ID);
    const roots = [
      naming.fallbackRuntimeRoot(4294967294), // the largest uid
      naming.runtimeRoot({ XDG_RUNTIME_DIR: "/run/user/4294967294" }, 4294967294),
      "/" + "r".repeat(naming.maxRootBytes() - 1),
    ];
    for (const root of roots) {
      expect(Buffer.byteLength(root)).toBeLessThanOrEqual(naming.maxRootBytes());
      const longest = naming.longestSocketPath(naming.labDir(root, id), "a".repeat(naming.MAX_NAME));
      expect(Buffer.byteLength(longest)).toBeLessThanOrEqual(naming.MAX_SOCKET_PATH);
    }
    // One byte more and the worst case no longer fits: the bound is tight, not a guess.
    const over = "/" + "r".repeat(naming.maxRootBytes());
    const longest = naming.longestSocketPath(naming.labDir(over, id), "a".repeat(naming.MAX_NAME));
    expect(Buffer.byteLength(longest)).toBe(naming.MAX_SOCKET_PATH + 1);
  });

  test("guest paths follow the guest contract and keep the mconsole inside the lab dir", () => {
    const p = naming.guestPaths("/var/tmp/umlab/x", "r1");
    expect(p.dir).toBe("/var/tmp/umlab/x/g/r1");
    expect(p.ready).toBe("/var/tmp/umlab/x/g/r1/state/ready");
    expect(p.initLog).toBe("/var/tmp/umlab/x/g/r1/state/init.log");
    expect(p.mconsole).toBe("/var/tmp/umlab/x/uml/r1/mconsole");
  });

  test("switch paths: uml_switch has a control socket, vde a control directory with ctl inside", () => {
    expect(naming.switchPaths("/l", "sw", "uml_switch")).toMatchObject({
      control: "/l/sw/sw.ctl",
      socket: "/l/sw/sw.ctl",
    });
    expect(naming.switchPaths("/l", "sw", "vde")).toMatchObject({
      control: "/l/sw/sw",
      socket: "/l/sw/sw/ctl",
    });
  });

  test("stable MACs are locally administered unicast, stable, and differ per lab, guest and NIC", () => {
    const m = naming.stableMac("lab", "g1", 0);
    expect(m).toMatch(/^02(:[0-9a-f]{2}){5}$/);
    expect(naming.stableMac("lab", "g1", 0)).toBe(m);
    const all = new Set<string>();
    for (const lab of ["a", "b"])
      for (const g of ["g1", "g2", "g3"]) for (const i of [0, 1, 2]) all.add(naming.stableMac(lab, g, i));
    expect(all.size).toBe(18);
  });
});

describe("lab naming, for any input (property tests)", () => {
  const text = fc.string({ maxLength: 40 });
  test("a lab id is short, of [a-z0-9-], and the same for the same project+stack", () => {
    fc.assert(
      fc.property(text, text, (project, stack) => {
        const id = naming.labId(project, stack);
        expect(id).toMatch(/^[a-z0-9]{1,8}-[a-z0-9]{1,8}-[0-9a-f]{6}$/);
        expect(naming.labId(project, stack)).toBe(id);
      }),
    );
  });
  test("two project+stack pairs get two ids, even when their readable parts are alike", () => {
    fc.assert(
      fc.property(text, text, text, text, (p1, s1, p2, s2) => {
        fc.pre(p1 !== p2 || s1 !== s2);
        // The readable parts collide easily (slugs drop characters); the hash tells them apart.
        expect(naming.labId(p1, s1)).not.toBe(naming.labId(p2, s2));
      }),
    );
  });
  test("stable MACs are locally administered unicast, and the same for the same NIC", () => {
    fc.assert(
      fc.property(text, fc.stringMatching(/^[a-z][a-z0-9-]{0,22}$/), fc.nat(64), (lab, guest, index) => {
        const mac = naming.stableMac(lab, guest, index);
        expect(mac).toMatch(/^([0-9a-f]{2}:){5}[0-9a-f]{2}$/);
        const first = parseInt(mac.slice(0, 2), 16);
        expect(first & 1).toBe(0); // unicast
        expect(first & 2).toBe(2); // locally administered
        expect(naming.stableMac(lab, guest, index)).toBe(mac);
      }),
    );
  });
});
