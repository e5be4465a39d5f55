// The merge on real files with the real host tools (uml_mkcow, uml_moo; no guest boots):
// a new image is published content-addressed and the backing is never written; the
// in-place merge is refused naming every dependent; a COW file still open, or whose guest
// runs, is refused and nothing is left behind.
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { execFileSync } from "child_process";
import * as naming from "../../../provider/core/naming";
import { mergeCow, mergeInPlace, MergeError } from "../../../provider/image/merge";
import { sha256File } from "../../../provider/image/cache";

describe("merge a COW file (uml_moo)", () => {
  let dir: string;
  let root: string;
  let cacheDir: string;
  let backing: string;
  let backingSha: string;
  const cow = (lab: string, disk: string, back = backing) => {
    const d = naming.labPaths(path.join(root, lab));
    fs.mkdirSync(d.disksDir, { recursive: true });
    fs.mkdirSync(path.join(d.guestsDir, disk.replace(/-root$/, "")), { recursive: true });
    const f = naming.cowPath(path.join(root, lab), disk);
    execFileSync("uml_mkcow", [f, back]);
    return f;
  };
  const listCache = () => fs.readdirSync(path.join(cacheDir, "images")).sort();

  beforeEach(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "umlab-merge-"));
    root = path.join(dir, "rt");
    cacheDir = path.join(dir, "cache");
    backing = path.join(dir, "base.img");
    fs.writeFileSync(backing, Buffer.alloc(2 * 1024 * 1024, 7));
    backingSha = await sha256File(backing);
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  test("into the cache under the sha256 of its bytes; twice is one file; the backing unchanged", async () => {
    const g1 = cow("lab-a", "g1-root");
    const r = await mergeCow({ cow: g1, cacheDir, roots: [root] });
    expect(r.path).toBe(path.join(cacheDir, "images", `${r.sha256}.img`));
    expect(await sha256File(r.path)).toBe(r.sha256);
    expect(r.key).toBe(r.sha256);
    expect(fs.readFileSync(`${r.path}.sha256`, "utf8").split(" ")[0]).toBe(r.sha256);
    expect(r.backing).toBe(backing);
    const again = await mergeCow({ cow: g1, cacheDir, roots: [root] });
    expect(again.path).toBe(r.path);
    expect(listCache()).toEqual([`${r.sha256}.img`, `${r.sha256}.img.sha256`]); // no temp left
    expect(await sha256File(backing)).toBe(backingSha);
  });

  test("--into writes a new file and never overwrites one", async () => {
    const g1 = cow("lab-a", "g1-root");
    const into = path.join(dir, "out", "new.img");
    const r = await mergeCow({ cow: g1, cacheDir, roots: [root], into });
    expect(r.path).toBe(into);
    expect(r.key).toBe("");
    await expect(mergeCow({ cow: g1, cacheDir, roots: [root], into })).rejects.toThrow(
      /exists; give a new path/,
    );
    expect(fs.readdirSync(path.dirname(into))).toEqual(["new.img"]);
  });

  test("in place is refused naming every dependent in every lab; the backing unchanged", async () => {
    const g1 = cow("lab-a", "g1-root");
    const g2 = cow("lab-a", "g2-root");
    const g3 = cow("lab-b", "g3-root");
    // The same backing through a symlink is the same file (compared by device and inode).
    fs.symlinkSync(backing, path.join(dir, "link.img"));
    const g4 = cow("lab-b", "g4-root", path.join(dir, "link.img"));
    const err = await mergeInPlace({ cow: g1, cacheDir, roots: [root] }).catch((e) => e);
    expect(err).toBeInstanceOf(MergeError);
    expect(err.message).toContain(`lab lab-a, guest g2: ${g2}`);
    expect(err.message).toContain(`lab lab-b, guest g3: ${g3}`);
    expect(err.message).toContain(`lab lab-b, guest g4: ${g4}`);
    expect(err.message).toContain("3 other COW file(s)");
    expect(err.message).not.toContain(`guest g1:`);
    expect(await sha256File(backing)).toBe(backingSha);
  });

  test("in place is refused for a cache image even with no other COW file", async () => {
    const r = await mergeCow({ cow: cow("lab-a", "g1-root"), cacheDir, roots: [root] });
    const solo = cow("lab-c", "g9-root", r.path);
    await expect(mergeInPlace({ cow: solo, cacheDir, roots: [root] })).rejects.toThrow(
      /published image in the image cache/,
    );
    expect(await sha256File(r.path)).toBe(r.sha256);
  });

  test("in place is allowed when nothing else depends on a backing outside the cache", async () => {
    const own = path.join(dir, "own.img");
    fs.copyFileSync(backing, own);
    const g = cow("lab-a", "g1-root", own);
    const r = await mergeInPlace({ cow: g, cacheDir, roots: [root] }).catch((e) => e);
    expect(r).toEqual({ backing: own });
  });

  test("a COW file held open (its guest writing) is refused, and nothing is published", async () => {
    const g1 = cow("lab-a", "g1-root");
    const fd = fs.openSync(g1, "r+");
    try {
      await expect(mergeCow({ cow: g1, cacheDir, roots: [root] })).rejects.toThrow(
        new RegExp(`open in process ${process.pid}.*must not change while it is merged`),
      );
    } finally {
      fs.closeSync(fd);
    }
    expect(fs.existsSync(path.join(cacheDir, "images")) ? listCache() : []).toEqual([]);
  });

  test("a COW file whose guest has a live pid is refused", async () => {
    const g1 = cow("lab-a", "g1-root");
    const umid = naming.guestPaths(path.join(root, "lab-a"), "g1").umidDir;
    fs.mkdirSync(umid, { recursive: true });
    fs.writeFileSync(path.join(umid, "pid"), `${process.pid}\n`);
    await expect(mergeCow({ cow: g1, cacheDir, roots: [root] })).rejects.toThrow(/its guest g1 is running/);
  });

  test("a file that is not a COW file, or a missing backing, is refused saying so", async () => {
    await expect(mergeCow({ cow: backing, cacheDir, roots: [root] })).rejects.toThrow(/not a COW file/);
    const g1 = cow("lab-a", "g1-root");
    await expect(mergeCow({ cow: g1, backing: "/nonexistent.img", cacheDir, roots: [root] })).rejects.toThrow(
      /backing file \/nonexistent.img is not a regular file/,
    );
  });
});
