// Sharing a snapshot: one archive (tar, sparse-aware, gzip) holding its manifest, its COW files
// and, optionally, its backing images (`images/<sha256>.img`, one per content). Import extracts
// into a temp dir beside the destination, verifies every hash, puts the images it carries into
// the image cache, and renames the snapshot into place last: a damaged archive or a hash
// mismatch leaves nothing behind. Bring the lab up from it with CowDisk `fromSnapshot`.
import * as fs from "fs";
import * as path from "path";
import * as host from "../host/process";
import { sha256File, writeSidecar } from "../image/cache";
import { verifySnapshot, MANIFEST_FILE, Manifest } from "./snapshot-manifest";

/** The distinct backing images of a snapshot, by sha256. */
function imagesOf(m: Manifest): Map<string, { path: string; key?: string }> {
  const out = new Map<string, { path: string; key?: string }>();
  for (const g of m.guests) out.set(g.image.sha256, { path: g.image.path, key: g.image.key });
  return out;
}

/** Write the snapshot at `dir` (verified first) to the archive `file`; `images`: carry the backing images. */
export async function exportSnapshot(
  dir: string,
  file: string,
  opts: { images?: boolean } = {},
): Promise<Manifest> {
  const m = await verifySnapshot(dir);
  const tmp = `${file}.tmp-${process.pid}`;
  const stage = fs.mkdtempSync(path.join(path.dirname(path.resolve(file)), ".umlab-export-"));
  try {
    const parts: string[] = ["-C", dir, MANIFEST_FILE, "disks"];
    if (opts.images) {
      fs.mkdirSync(path.join(stage, "images"));
      for (const [sha, img] of imagesOf(m)) {
        if ((await sha256File(img.path)) !== sha)
          throw new Error(
            `export: the backing image ${img.path} is not the one the snapshot was made over (sha256 differs)`,
          );
        await host.run("cp", [
          "--reflink=auto",
          "--sparse=always",
          "--",
          img.path,
          path.join(stage, "images", `${sha}.img`),
        ]);
      }
      parts.push("-C", stage, "images");
    }
    await host.run("tar", ["--sparse", "-czf", tmp, ...parts], { timeoutMs: 3_600_000 });
    fs.renameSync(tmp, file);
    return m;
  } finally {
    fs.rmSync(tmp, { force: true });
    fs.rmSync(stage, { recursive: true, force: true });
  }
}

/**
 * Import the archive `file` as the snapshot `dest` (which must not exist): every hash checked;
 * carried images go to `<cacheDir>/images/<key>.img` when absent there (kept if already there).
 */
export async function importSnapshot(file: string, dest: string, cacheDir: string): Promise<Manifest> {
  if (fs.existsSync(dest)) throw new Error(`import: ${dest} exists already: choose another directory`);
  const parent = path.dirname(path.resolve(dest));
  fs.mkdirSync(parent, { recursive: true, mode: 0o700 });
  const tmp = fs.mkdtempSync(path.join(parent, `.${path.basename(dest)}.import-`));
  try {
    const r = await host.run("tar", ["--sparse", "--no-same-owner", "-xzf", file, "-C", tmp], {
      allowFailure: true,
      timeoutMs: 3_600_000,
    });
    if (r.code !== 0)
      throw new Error(`import: ${file} is not a readable umlab archive (tar: ${r.stderr.trim()})`);
    // Only plain files and folders: a link planted in the archive is never followed.
    for (const e of fs.readdirSync(tmp, { recursive: true }) as string[]) {
      const st = fs.lstatSync(path.join(tmp, e));
      if (!st.isFile() && !st.isDirectory())
        throw new Error(`import: ${file} holds ${e}, which is not a plain file or folder: refused`);
    }
    const m = await verifySnapshot(tmp).catch((e) => {
      throw new Error(`import: ${file}: ${(e as Error).message.replace(tmp, "the archive")}`);
    });
    const carried = path.join(tmp, "images");
    for (const [sha, img] of imagesOf(m)) {
      const f = path.join(carried, `${sha}.img`);
      if (!fs.lstatSync(f, { throwIfNoEntry: false })?.isFile()) continue;
      if ((await sha256File(f)) !== sha)
        throw new Error(`import: ${file}: images/${sha}.img is damaged (sha256 differs)`);
      if (!img.key) continue;
      const target = path.join(cacheDir, "images", `${img.key}.img`);
      if (fs.existsSync(target)) continue;
      fs.mkdirSync(path.dirname(target), { recursive: true });
      await host.run("cp", ["--reflink=auto", "--sparse=always", "--", f, `${target}.tmp`]);
      // Read-only for all, as every published image (guests may run as a user of their own).
      fs.chmodSync(`${target}.tmp`, 0o444);
      fs.renameSync(`${target}.tmp`, target);
      writeSidecar(target, sha);
    }
    fs.rmSync(carried, { recursive: true, force: true });
    fs.renameSync(tmp, dest);
    return m;
  } catch (e) {
    fs.rmSync(tmp, { recursive: true, force: true });
    throw e;
  }
}
