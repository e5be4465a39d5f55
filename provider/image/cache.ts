// The image cache: <cacheDir>/images/<key>.img, shared by every stack. Content hashes (of
// images and of the user's dir or tarball), what a cached image looks like as outputs, and
// pruning. A published image is never rewritten, so its hash is remembered beside it.
import * as crypto from "crypto";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { writeFileAtomic } from "../host/process";
import { defaultCacheDir, type ImageOutputs } from "./plan";

/** sha256 of a file, streamed. */
export function sha256File(p: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const h = crypto.createHash("sha256");
    fs.createReadStream(p)
      .on("data", (d) => h.update(d))
      .on("error", reject)
      .on("end", () => resolve(h.digest("hex")));
  });
}

/** Content hash of a directory tree: relative paths, types, modes, owners, contents, link targets. */
export function hashDirectory(root: string): string {
  const h = crypto.createHash("sha256");
  const walk = (rel: string) => {
    const abs = path.join(root, rel);
    const st = fs.lstatSync(abs);
    h.update(`${rel}\0${st.mode}\0${st.uid}:${st.gid}\0`);
    if (st.isSymbolicLink()) h.update(fs.readlinkSync(abs));
    else if (st.isFile()) h.update(fs.readFileSync(abs));
    else if (st.isDirectory()) for (const e of fs.readdirSync(abs).sort()) walk(path.join(rel, e));
    else h.update(`${st.rdev}`);
    h.update("\0");
  };
  walk(".");
  return h.digest("hex");
}

/**
 * sha256 of a published image, remembered in `<image>.sha256` beside it: a published image is
 * never rewritten, so a cache hit need not re-read hundreds of MB.
 */
export async function cachedSha256(p: string): Promise<string> {
  const side = `${p}.sha256`;
  try {
    const v = fs.readFileSync(side, "utf8").trim();
    if (/^[0-9a-f]{64}$/.test(v)) return v;
  } catch {
    // not recorded yet
  }
  const v = await sha256File(p);
  try {
    writeFileAtomic(side, v + "\n", 0o444);
  } catch {
    // a read-only cache still works, just slower
  }
  return v;
}

/** The outputs of the image published at `p`. */
export async function describeImage(p: string, key: string, kernelVersion: string): Promise<ImageOutputs> {
  const st = fs.statSync(p);
  return {
    path: p,
    sizeBytes: st.size,
    allocatedBytes: st.blocks * 512,
    sha256: await cachedSha256(p),
    kernelVersion,
    key,
  };
}

/** Free space under `dir` in MiB, or undefined when it cannot be told. */
export function freeSpaceMb(dir: string): number | undefined {
  try {
    const s = fs.statfsSync(dir);
    return Math.floor((s.bavail * s.bsize) / (1024 * 1024));
  } catch {
    return undefined;
  }
}

/**
 * Remove cached images not in `keep` (paths or keys) and leftover temp builds. The cache is
 * shared by every stack and COW disks depend on their backing files: run this only when no
 * lab uses the images you do not list.
 */
export function pruneImages(opts: { cacheDir?: string; keep?: string[] } = {}): string[] {
  const cacheDir = opts.cacheDir ?? defaultCacheDir(process.env, os.homedir());
  const dir = path.join(cacheDir, "images");
  const keep = new Set((opts.keep ?? []).map((k) => path.basename(k).replace(/\.img$/, "")));
  const removed: string[] = [];
  let entries: string[] = [];
  try {
    entries = fs.readdirSync(dir);
  } catch {
    return removed;
  }
  for (const e of entries) {
    const p = path.join(dir, e);
    const key = e.replace(/\.img(\.sha256)?$/, "");
    if (e.startsWith(".tmp-") || (/\.img(\.sha256)?$/.test(e) && !keep.has(key))) {
      fs.rmSync(p, { recursive: true, force: true });
      removed.push(p);
    }
  }
  return removed;
}
