// The confined view of a guest's UML process (provider/host/confine.ts, provider/guest/boot.ts
// guestView): what is bound, what is not, and the argv that builds it.
import { confinedCommand, orderBinds, systemBinds, type Bind } from "../../../provider/host/confine";
import { guestView, viewRoot } from "../../../provider/guest/boot";
import { base } from "../guest/fixtures";

const paths = (bs: Bind[]) => bs.map((b) => `${b.kind} ${b.path}`);

describe("confined view of a guest", () => {
  const view = guestView({ ...base, serial: ["tty:/dev/ttyS1"] }, ["g1", "g2", ".g2.root"]);

  test("binds its own folder, umid parent, disks and the lab's socket dirs, nothing of /etc or home", () => {
    const p = paths(view);
    expect(p).toEqual(
      expect.arrayContaining([
        "dir /l/g/g1",
        "dir /l/uml",
        "file /l/disk/g1.cow",
        "rofile /img/base.img",
        "rofile /usr/bin/linux.uml",
        "dir /l/sw",
        "dir /l/net",
        "dir /l/imp",
        "file /dev/ttyS1",
        "tmp /tmp",
      ]),
    );
    const roots = view.map((b) => b.path);
    for (const bad of ["/etc", "/root", "/home", "/var", "/proc", "/dev", "/l", "/l/g", "/l/disk", "/l/cap"])
      expect(roots).not.toContain(bad);
    expect(roots.some((r) => r.startsWith("/l/g/") && r !== "/l/g/g1")).toBe(false);
  });

  test("other guests' umid dirs are hidden, its own is not", () => {
    expect(paths(view)).toEqual(expect.arrayContaining(["hide /l/uml/g2", "hide /l/uml/.g2.root"]));
    expect(paths(view)).not.toContain("hide /l/uml/g1");
    // hidden after uml/ is bound, or the bind would show them again
    const p = paths(view);
    expect(p.indexOf("hide /l/uml/g2")).toBeGreaterThan(p.indexOf("dir /l/uml"));
  });

  test("pts serial lines bring /dev/pts and /dev/ptmx; without them, no /dev/pts", () => {
    expect(paths(guestView({ ...base, serial: ["pts"] }, []))).toEqual(
      expect.arrayContaining(["dir /dev/pts", "file /dev/ptmx"]),
    );
    expect(paths(view)).not.toContain("dir /dev/pts");
  });

  test("the view root sits in the lab's uml dir, not under g/ (where it would look like a guest)", () => {
    expect(viewRoot("/l", "g1")).toBe("/l/uml/.g1.root");
  });
});

describe("confinedCommand", () => {
  const binds: Bind[] = [
    { kind: "rodir", path: "/usr" },
    { kind: "rofile", path: "/usr/bin/linux.uml" },
    { kind: "dir", path: "/l/g/g1" },
  ];

  test("root: a mount namespace, sh with a constant script, paths only as arguments, then the command without capabilities", () => {
    const c = confinedCommand("/l/uml/.g1.root", binds, "/usr/bin/linux.uml", ["mem=64M"], 0);
    expect(c.cmd).toBe("unshare");
    expect(c.args.slice(0, 6)).toEqual(["--mount", "--propagation", "private", "--", "sh", "-c"]);
    const script = c.args[6];
    expect(script).not.toContain("/l/");
    expect(script).toContain('exec chroot "$R" "$@"');
    // the kernel under a read-only /usr needs no bind of its own
    expect(c.args.slice(7)).toEqual([
      "umlab-confine",
      "/l/uml/.g1.root",
      "rodir",
      "/usr",
      "dir",
      "/l/g/g1",
      "--",
      "/usr/bin/setpriv",
      "--inh-caps=-all",
      "--bounding-set=-all",
      "--no-new-privs",
      "--",
      "/usr/bin/linux.uml",
      "mem=64M",
    ]);
  });

  test("not root: a user namespace maps the caller to root in it", () => {
    const c = confinedCommand("/r", binds, "/k", [], 1000);
    expect(c.args.slice(0, 3)).toEqual(["--user", "--map-root-user", "--mount"]);
  });

  test("refuses relative or un-normalised paths and / itself (a bind of / would undo the view)", () => {
    for (const bad of ["l/g", "/l/g/../..", "/", "/l//g", "/l/./g"])
      expect(() => orderBinds([{ kind: "dir", path: bad }])).toThrow(/absolute normalised path/);
  });

  test("system binds follow the host: symlinked /lib is a link, a real dir a read-only bind", () => {
    const links = new Set(["/lib", "/bin"]);
    const b = systemBinds((p) => ["/lib", "/bin", "/sbin"].includes(String(p)), ((p: string) => ({
      isSymbolicLink: () => links.has(p),
    })) as never);
    expect(paths(b)).toEqual(["rodir /usr", "link /lib", "link /bin", "rodir /sbin"]);
  });
});
