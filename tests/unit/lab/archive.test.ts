// Export and import of a snapshot with real tar and files (no UML): a round trip keeps every
// byte and sparseness; a damaged archive, a hash mismatch or a planted link is refused and
// nothing is left at the destination; carried images land in the cache by key.
import * as child_process from "child_process";
import * as crypto from "crypto";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { exportSnapshot, importSnapshot } from "../../../provider/lab/archive";
import { withRestoreFrom } from "../../../provider/lab/program";
import { verifySnapshot } from "../../../provider/lab/snapshot-manifest";
import { fakeSnapshot } from "./fake-snapshot";

const sha = (b: Buffer) => crypto.createHash("sha256").update(b).digest("hex");

describe("umlab export / import", () => {
  let work: string;
  beforeAll(() => (work = fs.mkdtempSync(path.join(os.tmpdir(), "umlab-archive-"))));
  afterAll(() => fs.rmSync(work, { recursive: true, force: true }));

  /** A lab folder: program, sources in a subfolder, a stack config, and what must stay out. */
  function labFolder(): string {
    const dir = fs.mkdtempSync(path.join(work, "lab-"));
    fs.writeFileSync(path.join(dir, "Pulumi.yaml"), "name: p\nruntime: nodejs\n");
    fs.writeFileSync(path.join(dir, "index.ts"), 'import "./lib/ring";\n');
    fs.mkdirSync(path.join(dir, "lib"));
    fs.writeFileSync(path.join(dir, "lib/ring.ts"), "export const x = 1;\n");
    fs.writeFileSync(path.join(dir, "package.json"), "{}\n");
    fs.writeFileSync(path.join(dir, "Pulumi.s.yaml"), "config:\n  p:from: /old\n  umlab:restoreFrom: /old\n");
    fs.writeFileSync(path.join(dir, "Pulumi.other.yaml"), "config: {}\n");
    for (const skip of ["node_modules", ".pulumi-state"]) {
      fs.mkdirSync(path.join(dir, skip));
      fs.writeFileSync(path.join(dir, skip, "x.js"), "state\n");
    }
    return dir;
  }
  const program = labFolder;

  /** A snapshot whose disk is a sparse 2 GiB file with 10 MiB of data, over a real "image". */
  function sparseSnapshot(key = "k".repeat(64)) {
    const image = path.join(work, `img-${Math.random().toString(36).slice(2)}.img`);
    fs.writeFileSync(image, "an image");
    const imageSha = sha(fs.readFileSync(image));
    const { dir, manifest } = fakeSnapshot(Buffer.from("x"), imageSha);
    const disk = path.join(dir, "disks/g1.0.cow");
    const fd = fs.openSync(disk, "w");
    const data = crypto.randomBytes(10 * 1048576);
    fs.writeSync(fd, data, 0, data.length, 1024 * 1048576);
    fs.ftruncateSync(fd, 2048 * 1048576);
    fs.closeSync(fd);
    const h = crypto.createHash("sha256");
    // sha256 of the whole file: zeros, the data, zeros.
    const zeros = Buffer.alloc(1048576);
    for (let i = 0; i < 1024; i++) h.update(zeros);
    h.update(data);
    for (let i = 0; i < 1014; i++) h.update(zeros);
    const d = manifest.guests[0].disks[0];
    Object.assign(d, { sha256: h.digest("hex"), bytes: 2048 * 1048576 });
    manifest.guests[0].image = { path: image, sha256: imageSha, key };
    d.backing = { path: image, sha256: imageSha };
    fs.writeFileSync(path.join(dir, "manifest.json"), JSON.stringify(manifest));
    return { dir, image, imageSha, key };
  }

  test("round trip: every hash checked, a 2 GiB sparse disk with 10 MiB of data stays ~10 MiB, images go to the cache", async () => {
    const s = sparseSnapshot();
    const archive = path.join(work, "lab.tar.gz");
    await exportSnapshot(s.dir, archive, { images: true, program: program() });
    expect(fs.statSync(archive).size).toBeLessThan(12 * 1048576);
    const cache = path.join(work, "cache");
    const lab = path.join(work, "imported", "base");
    const r = await importSnapshot(archive, lab, cache, { stack: "alice" });
    const dest = path.join(lab, "snapshot");
    expect(r.snapshot).toBe(dest);
    await verifySnapshot(dest);
    expect(fs.statSync(path.join(dest, "disks/g1.0.cow")).blocks * 512).toBeLessThan(12 * 1048576);
    // The program and the stack's config (under the new stack's name), pointed at the snapshot.
    expect(fs.readdirSync(lab).sort()).toEqual([
      "Pulumi.alice.yaml",
      "Pulumi.yaml",
      "index.ts",
      "lib",
      "package.json",
      "snapshot",
    ]);
    expect(fs.readFileSync(path.join(lab, "lib/ring.ts"), "utf8")).toBe("export const x = 1;\n");
    expect(fs.readFileSync(path.join(lab, "Pulumi.alice.yaml"), "utf8")).toBe(
      `config:\n  umlab:restoreFrom: ${JSON.stringify(dest)}\n  p:from: /old\n`,
    );
    const cached = path.join(cache, "images", `${s.key}.img`);
    expect(sha(fs.readFileSync(cached))).toBe(s.imageSha);
    // Read-only for everyone, like every published image: a guest running as its lab's own uid reads it.
    expect(fs.statSync(cached).mode & 0o777).toBe(0o444);
    expect(fs.readdirSync(path.dirname(lab))).toEqual(["base"]);
    console.log(
      `archive ${(fs.statSync(archive).size / 1048576).toFixed(1)} MiB, imported disk ` +
        `${((fs.statSync(path.join(dest, "disks/g1.0.cow")).blocks * 512) / 1048576).toFixed(1)} MiB on disk (2048 MiB apparent)`,
    );
    // Importing onto an existing directory is refused.
    await expect(importSnapshot(archive, lab, cache)).rejects.toThrow(/exists already/);
  }, 120_000);

  test("a truncated archive, a damaged disk inside it, a planted link: refused, nothing left", async () => {
    const s = sparseSnapshot();
    const archive = path.join(work, "ok.tar.gz");
    await exportSnapshot(s.dir, archive, { images: true, program: program() });
    const cut = path.join(work, "cut.tar.gz");
    fs.writeFileSync(cut, fs.readFileSync(archive).subarray(0, 100_000));
    const parent = path.join(work, "bad");
    await expect(importSnapshot(cut, path.join(parent, "x"), path.join(work, "c2"))).rejects.toThrow(
      /is not a readable umlab archive/,
    );
    // A disk changed after the manifest was written: its hash no longer matches.
    fs.appendFileSync(path.join(s.dir, "disks/g1.0.cow"), "!");
    const bad = path.join(work, "bad.tar.gz");
    await expect(exportSnapshot(s.dir, bad, { program: program() })).rejects.toThrow(/manifest says/);
    expect(fs.existsSync(bad)).toBe(false);
    child_process.execFileSync("tar", ["--sparse", "-czf", bad, "-C", s.dir, "manifest.json", "disks"]);
    await expect(importSnapshot(bad, path.join(parent, "y"), path.join(work, "c2"))).rejects.toThrow(
      /import: .*disks\/g1\.0\.cow is 2147483649 bytes, the manifest says 2147483648: damaged/,
    );
    // A link in place of the disks folder.
    const linkDir = fs.mkdtempSync(path.join(work, "link-"));
    fs.copyFileSync(path.join(s.dir, "manifest.json"), path.join(linkDir, "manifest.json"));
    fs.symlinkSync("/etc", path.join(linkDir, "disks"));
    const linked = path.join(work, "link.tar.gz");
    child_process.execFileSync("tar", ["-czf", linked, "-C", linkDir, "manifest.json", "disks"]);
    await expect(importSnapshot(linked, path.join(parent, "z"), path.join(work, "c2"))).rejects.toThrow(
      /holds disks, which is not a plain file or folder/,
    );
    expect(fs.readdirSync(parent)).toEqual([]);
    expect(fs.existsSync(path.join(work, "c2"))).toBe(false);
  }, 120_000);

  /** A small snapshot (one tiny disk) over a real "image": for the refusals that need no 2 GiB disk. */
  function smallSnapshot() {
    const image = path.join(work, `img-${Math.random().toString(36).slice(2)}.img`);
    fs.writeFileSync(image, "an image");
    const imageSha = sha(fs.readFileSync(image));
    const { dir, manifest } = fakeSnapshot(Buffer.from("cow bytes"), imageSha);
    manifest.guests[0].image = { path: image, sha256: imageSha, key: "s".repeat(64) };
    fs.writeFileSync(path.join(dir, "manifest.json"), JSON.stringify(manifest));
    return { dir };
  }

  test("a changed program file, a damaged carried image, an archive without a program: refused, nothing left", async () => {
    const s = smallSnapshot();
    const archive = path.join(work, "small.tar.gz");
    await exportSnapshot(s.dir, archive, { images: true, program: program() });
    const parent = path.join(work, "bad-small");
    // A program file changed inside a well-formed archive: its hash no longer matches.
    const x = fs.mkdtempSync(path.join(work, "x-"));
    child_process.execFileSync("tar", ["--sparse", "-xzf", archive, "-C", x]);
    fs.appendFileSync(path.join(x, "program/index.ts"), "evil();\n");
    const tampered = path.join(work, "tampered.tar.gz");
    child_process.execFileSync("tar", ["--sparse", "-czf", tampered, "-C", x, "."]);
    await expect(importSnapshot(tampered, path.join(parent, "w"), path.join(work, "c3"))).rejects.toThrow(
      /import: .*program\/index\.ts has sha256 [0-9a-f]{64}, program\.json says [0-9a-f]{64}: damaged/,
    );
    // A damaged carried image: refused, and no cache entry is made.
    fs.rmSync(path.join(x, "program/index.ts"));
    child_process.execFileSync("tar", ["--sparse", "-xzf", archive, "-C", x, "program/index.ts"]);
    const img = fs.readdirSync(path.join(x, "images"))[0];
    fs.appendFileSync(path.join(x, "images", img), "!");
    child_process.execFileSync("tar", ["--sparse", "-czf", tampered, "-C", x, "."]);
    await expect(importSnapshot(tampered, path.join(parent, "v"), path.join(work, "c3"))).rejects.toThrow(
      /images\/[0-9a-f]{64}\.img is damaged/,
    );
    // No program in the archive (a snapshot-only tar): refused.
    child_process.execFileSync("tar", ["--sparse", "-czf", tampered, "-C", x, "manifest.json", "disks"]);
    await expect(importSnapshot(tampered, path.join(parent, "u"), path.join(work, "c3"))).rejects.toThrow(
      /has no readable program\.json/,
    );
    expect(fs.readdirSync(parent)).toEqual([]);
    expect(fs.existsSync(path.join(work, "c3"))).toBe(false);
  }, 120_000);

  test("export refuses a folder that is not a lab's", async () => {
    const s = sparseSnapshot();
    await expect(exportSnapshot(s.dir, path.join(work, "n.tar.gz"), { program: work })).rejects.toThrow(
      /has no Pulumi\.yaml: run in the lab's folder or give --program/,
    );
    expect(fs.existsSync(path.join(work, "n.tar.gz"))).toBe(false);
  });

  test("withRestoreFrom sets umlab:restoreFrom once, whatever the config held", () => {
    expect(withRestoreFrom(undefined, "/s")).toBe('config:\n  umlab:restoreFrom: "/s"\n');
    expect(withRestoreFrom("config: {}\n", "/s")).toBe('config:\n  umlab:restoreFrom: "/s"\n');
    expect(withRestoreFrom("encryptionsalt: v1:x\nconfig:\n  a:b: c\n  umlab:restoreFrom: /t\n", "/s")).toBe(
      'encryptionsalt: v1:x\nconfig:\n  umlab:restoreFrom: "/s"\n  a:b: c\n',
    );
    expect(withRestoreFrom("encryptionsalt: v1:x\n", "/s")).toBe(
      'encryptionsalt: v1:x\nconfig:\n  umlab:restoreFrom: "/s"\n',
    );
  });
});
