// Guest -> host, on real UML: root in a guest mounts hostfs with every option that could climb
// out of its folder and reads what it reached. None of it may show the host's shadow file, a
// host file, another guest's folder or another lab's files, and a write aimed at the host's
// /tmp must not land there; the guest's own contract (exec, files, its folder) still works.
// Why it holds: hostfs=<guest folder>, and the UML process runs in a mount namespace chrooted
// into a view with only its own files (provider/host/confine.ts): `..` ends at that view. And
// the UML process runs as a uid of the lab's own (core/guest-user.ts), without capabilities.
import * as crypto from "crypto";
import * as fs from "fs";
import * as path from "path";
import { spawnSync } from "child_process";
import { labUid } from "../../provider/core/guest-user";
import { REPO, testStack, TestStack } from "../helpers/stack";
import { labSandbox, LabSandbox } from "../helpers/lab";
import { buildImage, resolveSpec } from "../../provider/image/provider";
import { exec } from "../../sdk/exec";

const workDir = path.join(REPO, "tests/integration/escape-program");
const tag = crypto.randomBytes(6).toString("hex");
const g2Secret = `G2-SECRET-${tag}`;
const otherSecret = `OTHER-LAB-SECRET-${tag}`;
const hostSecret = `HOST-SECRET-${tag}`;
const hostMarkerDir = `/tmp/umlab-escape-host-${tag}`;
const writeName = `umlab-escape-write-${tag}`;

// Mount hostfs at a fresh point with the option "$1"; print what it reached: every name (but
// /usr, read-only system files) and every small file's content. Nothing is printed when the
// mount is refused.
const PROBE = `d=/mnt/esc$$; mkdir -p "$d"
if mount -t hostfs none "$d" -o "$1" 2>/dev/null; then
  echo "MOUNTED $1"
  find "$d" -maxdepth 10 -path "$d/usr" -prune -o -print 2>/dev/null | sed "s|^$d||" | head -2000
  cat "$d/shadow" "$d/etc/shadow" "$d/secret" 2>/dev/null
  find "$d" -maxdepth 10 -path "$d/usr" -prune -o -type f -size -64k -print 2>/dev/null | head -500 |
    while read -r f; do cat "$f" 2>/dev/null; done
  umount "$d"
fi
rmdir "$d" 2>/dev/null; true`;

const UP = "../../../../../../../../../../../..";

describe("escape: a guest cannot reach the host, another guest or another lab", () => {
  let sandbox: LabSandbox | undefined;
  let t: TestStack;
  let labDir: string;
  let g1Dir: string;
  let g2Dir: string;
  let otherLab: string;

  beforeAll(async () => {
    sandbox = labSandbox("escape", "uesc");
    fs.mkdirSync(hostMarkerDir, { mode: 0o700 });
    fs.writeFileSync(path.join(hostMarkerDir, "secret"), `${hostSecret}\n`);
    const image = await buildImage(
      resolveSpec({ preset: "busybox", cacheDir: path.join(sandbox.scratch, "cache") }),
    );
    t = await testStack(workDir, "escape", { backing: image.path, secret: g2Secret });
    // The user's TMPDIR is a host folder outside every guest's view: UML must not follow it
    // (it makes its memory file there), or the guests die at boot.
    fs.mkdirSync(hostTmpdir(), { mode: 0o700 });
    t.stack.workspace.envVars.TMPDIR = hostTmpdir();
    const up = await t.stack.up();
    expect(up.summary.result).toBe("succeeded");
    labDir = up.outputs.labDir.value;
    [g1Dir, g2Dir] = up.outputs.guestDirs.value as string[];
    // Another stack's lab beside this one under the same runtime root, with a guest folder.
    otherLab = path.join(path.dirname(labDir), `zz-other-${tag}`);
    fs.mkdirSync(path.join(otherLab, "g/x/files"), { recursive: true, mode: 0o700 });
    fs.writeFileSync(path.join(otherLab, "g/x/files/secret"), `${otherSecret}\n`);
  }, 600_000);

  afterAll(async () => {
    fs.rmSync(hostMarkerDir, { recursive: true, force: true });
    fs.rmSync(path.join("/tmp", writeName), { force: true });
    if (t) await t.dispose().catch(() => undefined);
    sandbox?.cleanup();
  }, 300_000);

  function hostTmpdir(): string {
    return path.join(sandbox!.scratch, "host-tmpdir");
  }

  async function probe(option: string): Promise<string> {
    const r = await exec({ labDir, name: "g1" }, ["sh", "-c", PROBE, "sh", option], { timeoutMs: 120_000 });
    return r.stdout + r.stderr;
  }

  test("the secrets the attacks aim at exist on the host (else the test would prove nothing)", () => {
    expect(fs.readFileSync(path.join(g2Dir, "files/root/g2-secret"), "utf8")).toContain(g2Secret);
    expect(fs.existsSync(path.join(otherLab, "g/x/files/secret"))).toBe(true);
    expect(fs.existsSync(path.join(hostMarkerDir, "secret"))).toBe(true);
  });

  test("the guest's own contract works: exec, a file from `files`, its own folder over hostfs", async () => {
    expect((await exec({ labDir, name: "g1" }, ["cat", "/etc/escape-own"])).stdout).toBe("own-file\n");
    expect((await exec({ labDir, name: "g1" }, ["hostname"])).stdout.trim()).toBe("g1");
    const own = await probe("/");
    expect(own).toContain("MOUNTED /");
    expect(own).toContain("/config");
    expect(own).toContain("/files/etc/escape-own");
  }, 300_000);

  test("hostfs mounts of /etc, /, .., deep .., another guest's and another lab's paths reach none of their files", async () => {
    const options = [
      "/etc",
      "/",
      "..",
      "../..",
      "/../../etc",
      `${UP}/etc`,
      UP,
      `${UP}/tmp`,
      `${UP}/root`,
      `${UP}${hostMarkerDir}`,
      "../g2",
      g2Dir,
      `${UP}${g2Dir}`,
      `${UP}${labDir}`,
      `${UP}${labDir}/g`,
      `${UP}${labDir}/disk`,
      otherLab,
      `${UP}${otherLab}`,
      `${UP}${path.dirname(labDir)}`,
      hostMarkerDir,
    ];
    const hostShadow = fs.existsSync("/etc/shadow") ? fs.readFileSync("/etc/shadow", "utf8") : "";
    const shadowLines = hostShadow.split("\n").filter((l) => l.includes(":"));
    const outputs: Record<string, string> = {};
    for (const o of options) outputs[o] = await probe(o);
    const all = Object.values(outputs).join("\n");
    const lines = all.split("\n");
    for (const secret of [g2Secret, otherSecret, hostSecret, ...shadowLines])
      expect(all).not.toContain(secret);
    // No listed name inside another guest's folder or disk, another lab, the host's marker, /etc.
    // (Lines, not substrings: the running request's own cmd file, in g1's folder, holds the option.)
    for (const l of lines)
      for (const bad of [g2Dir, `${labDir}/disk/g2`, otherLab, hostMarkerDir, "/etc/shadow", "/etc/passwd"])
        expect(l.startsWith(bad) ? l : "").toBe("");
    // The climb itself is possible (UML joins the option as text), but it ends in the view.
    expect(outputs[UP]).toContain(`MOUNTED ${UP}`);
    expect(lines).toContain("/tmp");
    expect(lines).toContain(g1Dir);
    for (const o of [
      "/etc",
      "/../../etc",
      `${UP}/etc`,
      "../g2",
      g2Dir,
      otherLab,
      `${UP}${otherLab}`,
      hostMarkerDir,
    ])
      expect(outputs[o]).not.toContain("MOUNTED");
  }, 600_000);

  test("the UML process sees only its view and holds no capabilities (an escape from UML itself stays inside)", () => {
    const pid = Number(fs.readFileSync(path.join(labDir, "uml/g1/pid"), "utf8").trim());
    const status = fs.readFileSync(`/proc/${pid}/status`, "utf8");
    const field = (k: string) => (new RegExp(`^${k}:\\s*(\\S+)`, "m").exec(status) ?? [])[1];
    expect(fs.readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0")[0]).toMatch(/linux\.uml$/);
    for (const k of ["CapInh", "CapPrm", "CapEff", "CapBnd", "CapAmb"])
      expect([k, field(k)]).toEqual([k, "0000000000000000"]);
    expect(field("NoNewPrivs")).toBe("1");
    // Its root directory is the view: its own folder is there, the host's /etc and g2 are not.
    const root = `/proc/${pid}/root`;
    expect(fs.existsSync(`${root}${g1Dir}/config`)).toBe(true);
    expect(fs.existsSync(`${root}/etc`)).toBe(false);
    expect(fs.existsSync(`${root}${g2Dir}`)).toBe(false);
    expect(fs.existsSync(`${root}${otherLab}`)).toBe(false);
    // The user's TMPDIR (outside the view) did not reach it: UML's memory file is in the view's /tmp.
    const environ = fs.readFileSync(`/proc/${pid}/environ`, "utf8").split("\0");
    expect(environ).toContain("TMPDIR=/tmp");
  });

  test("the UML process runs as the lab's own uid: code that escaped UML cannot signal host or root processes", () => {
    const pid = Number(fs.readFileSync(path.join(labDir, "uml/g1/pid"), "utf8").trim());
    const status = fs.readFileSync(`/proc/${pid}/status`, "utf8");
    const ids = (k: string) =>
      ((new RegExp(`^${k}:[ \\t]*(.*)$`, "m").exec(status) ?? [])[1] ?? "").trim().split(/\s+/);
    const uid = labUid(labDir);
    expect(ids("Uid")).toEqual([uid, uid, uid, uid].map(String));
    expect(ids("Gid")).toEqual([uid, uid, uid, uid].map(String));
    expect(ids("Groups")).toEqual([""]);
    // An escape, played: a shell in the UML process's mount namespace and view, with its uid
    // and gid and no capabilities. It may signal its own UML process (the probe works), not
    // this test's process (root), not init, and it cannot read a root-only file it can see.
    const escaped = (script: string) =>
      spawnSync(
        "nsenter",
        [
          `--target=${pid}`,
          "--mount",
          "--root",
          `--setuid=${uid}`,
          `--setgid=${uid}`,
          "--",
          "/usr/bin/sh",
          "-c",
          script,
        ],
        { encoding: "utf8" },
      );
    const own = escaped(`kill -0 ${pid} && echo SIGNAL-OK`);
    expect(own.stdout).toContain("SIGNAL-OK");
    for (const target of [process.pid, 1]) {
      const r = escaped(`kill -0 ${target} 2>&1 && echo SIGNAL-OK`);
      expect(r.stdout).not.toContain("SIGNAL-OK");
      expect(r.stdout).toMatch(/not permitted/i);
    }
    expect(escaped(`cat ${labDir}/uml/.g1.root 2>&1; ls ${path.dirname(labDir)} 2>&1`).stdout).not.toContain(
      path.basename(otherLab),
    );
  });

  test("a write aimed at the host's /tmp does not create a host file", async () => {
    const script = `for o in /tmp ${UP}/tmp ../../../../tmp; do
      d=/mnt/w$$; mkdir -p "$d"
      if mount -t hostfs none "$d" -o "$o" 2>/dev/null; then echo pwned > "$d/$1" 2>/dev/null; sync; umount "$d"; fi
    done; true`;
    await exec({ labDir, name: "g1" }, ["sh", "-c", script, "sh", writeName], { timeoutMs: 120_000 });
    expect(fs.existsSync(path.join("/tmp", writeName))).toBe(false);
    expect(fs.existsSync(path.join(path.dirname(labDir), writeName))).toBe(false);
  }, 300_000);
});
