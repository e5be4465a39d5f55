// The image cache's integrity (provider/image/cache.ts): a dir given as a symlink hashes the
// tree behind it, temps of dead builds are pruned but never a live build's, and a cache hit
// whose file was truncated or replaced is detected.
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import {
  hashDirectory,
  pruneImages,
  sha256File,
  sidecarPath,
  staleTemp,
  STALE_TEMP_MS,
  tempOwner,
  verifyImage,
  writeSidecar,
} from "../../../provider/image/cache";
import { imageProvider, resolveSpec } from "../../../provider/image/provider";
import { planImage } from "../../../provider/image/host";

let tmp: string;
beforeEach(() => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), "umlab-cache-unit-"));
});
afterEach(() => fs.rmSync(tmp, { recursive: true, force: true }));

describe("hashDirectory", () => {
  test("a symlink to a tree hashes the tree: a change in the tree changes the hash", () => {
    const tree = path.join(tmp, "tree");
    fs.mkdirSync(path.join(tree, "etc"), { recursive: true });
    fs.writeFileSync(path.join(tree, "etc/motd"), "one\n");
    const link = path.join(tmp, "link");
    fs.symlinkSync(tree, link);
    const before = hashDirectory(link);
    expect(before).toBe(hashDirectory(tree));
    fs.writeFileSync(path.join(tree, "etc/motd"), "two\n");
    expect(hashDirectory(link)).not.toBe(before);
  });

  test("the Image diff previews a change when the tree behind a symlinked dir changes", async () => {
    const tree = path.join(tmp, "tree");
    fs.mkdirSync(path.join(tree, "bin"), { recursive: true });
    fs.writeFileSync(path.join(tree, "bin/sh"), "#!/bin/false\n");
    const link = path.join(tmp, "link");
    fs.symlinkSync(tree, link);
    const args = { dir: link, cacheDir: path.join(tmp, "cache") };
    // Olds carry the key of the tree as it was built.
    const key = (await planImage(resolveSpec(args))).key;
    expect((await imageProvider.diff!("k", { ...args, key }, { ...args })).changes).toBe(false);
    fs.writeFileSync(path.join(tree, "bin/sh"), "#!/bin/true\n");
    const d1 = await imageProvider.diff!("k", { ...args, key }, { ...args });
    expect(d1.changes).toBe(true);
    expect(d1.replaces).toContain("key");
  });
});

describe("temps", () => {
  test("the builder's pid is read from a temp build's and an atomic write's name", () => {
    expect(tempOwner(".tmp-0123456789ab-4242-Xy12Zz")).toBe(4242);
    expect(tempOwner("abc.img.sha256.tmp-4343-1730000000000")).toBe(4343);
    expect(tempOwner(".tmp-0123456789ab-Xy12Zz")).toBeUndefined(); // from before pids in names
  });

  test("stale: a dead builder, or older than the limit; a live builder's recent temp is not", () => {
    const now = Date.now();
    const dead = () => false;
    const alive = () => true;
    expect(staleTemp(".tmp-0123456789ab-4242-Xy", now, now, dead)).toBe(true);
    expect(staleTemp(".tmp-0123456789ab-4242-Xy", now, now, alive)).toBe(false);
    expect(staleTemp(".tmp-0123456789ab-Xy", now, now, alive)).toBe(false);
    expect(staleTemp(".tmp-0123456789ab-4242-Xy", now - STALE_TEMP_MS - 1, now, alive)).toBe(true);
  });

  test("prune removes a killed build's temp and orphan sidecars, keeps a live build's temp and kept images", () => {
    const images = path.join(tmp, "images");
    fs.mkdirSync(images, { recursive: true });
    // A pid that is surely dead: above pid_max.
    const deadTemp = path.join(images, ".tmp-0123456789ab-99999999-aaaa");
    const liveTemp = path.join(images, `.tmp-0123456789ab-${process.pid}-bbbb`);
    const deadAtomic = path.join(images, "k1.img.sha256.tmp-99999999-1");
    for (const d of [deadTemp, liveTemp]) fs.mkdirSync(path.join(d, "root"), { recursive: true });
    fs.writeFileSync(deadAtomic, "x");
    fs.writeFileSync(path.join(images, "k1.img"), "image");
    fs.writeFileSync(path.join(images, "k1.img.sha256"), "side");
    fs.writeFileSync(path.join(images, "gone.img.sha256"), "orphan");
    const removed = pruneImages({ cacheDir: tmp, keep: ["k1"] });
    expect(removed.sort()).toEqual([deadTemp, deadAtomic, path.join(images, "gone.img.sha256")].sort());
    expect(fs.existsSync(liveTemp)).toBe(true);
    expect(fs.existsSync(path.join(images, "k1.img"))).toBe(true);
  });
});

describe("verifyImage", () => {
  const publish = async (p: string, text: string) => {
    fs.writeFileSync(p, text);
    writeSidecar(p, await sha256File(p));
  };

  test("an intact image passes from its sidecar", async () => {
    const p = path.join(tmp, "a.img");
    await publish(p, "image bytes");
    expect(await verifyImage(p)).toEqual({ ok: true, sha256: await sha256File(p) });
    expect(fs.readFileSync(sidecarPath(p), "utf8")).toMatch(/^[0-9a-f]{64} 11 \d+ \d+\n$/);
  });

  test("a truncated image is caught by its size", async () => {
    const p = path.join(tmp, "a.img");
    await publish(p, "image bytes");
    fs.truncateSync(p, 5);
    expect(await verifyImage(p)).toEqual({
      ok: false,
      why: expect.stringMatching(/size is 5 bytes, 11 were published/),
    });
  });

  test("a replaced image of the same size is caught by its hash", async () => {
    const p = path.join(tmp, "a.img");
    await publish(p, "image bytes");
    const other = path.join(tmp, "other");
    fs.writeFileSync(other, "IMAGE BYTES");
    fs.renameSync(other, p); // a new inode
    expect(await verifyImage(p)).toEqual({
      ok: false,
      why: expect.stringMatching(/sha256 is [0-9a-f]{64}, [0-9a-f]{64} was/),
    });
  });

  test("an image rewritten in place keeping size and inode is caught by a full check", async () => {
    const p = path.join(tmp, "a.img");
    await publish(p, "image bytes");
    const st = fs.statSync(p);
    fs.writeFileSync(p, "IMAGE BYTES");
    fs.utimesSync(p, st.atime, st.mtime);
    expect((await verifyImage(p, { full: true })).ok).toBe(false);
  });

  test("an image from before sidecars is trusted once and recorded", async () => {
    const p = path.join(tmp, "a.img");
    fs.writeFileSync(p, "old image");
    expect((await verifyImage(p)).ok).toBe(true);
    expect(fs.existsSync(sidecarPath(p))).toBe(true);
  });
});
