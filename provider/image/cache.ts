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
export function hashDirectory(given: string): string {
  // A symlink to the tree hashes the tree (as `cp -a <dir>/.` copies it), not the link.
  const root = fs.realpathSync(given);
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
 * The sidecar `<image>.sha256` beside a published image: `<sha256> <size> <inode> <mtime ms>`.
 * A published image is never rewritten, so a cache hit checks only what stat says (size,
 * inode, mtime); any difference re-hashes it, and a hash that differs means the file was
 * truncated or replaced (`verifyImage` then reports it; the build removes it and rebuilds).
 * UMLAB_VERIFY_IMAGES=1 re-hashes on every hit.
 */
interface Sidecar {
  sha256: string;
  size?: number;
  ino?: number;
  mtimeMs?: number;
}

export function sidecarPath(p: string): string {
  return `${p}.sha256`;
}

function readSidecar(p: string): Sidecar | undefined {
  try {
    const [sha256, size, ino, mtimeMs] = fs.readFileSync(sidecarPath(p), "utf8").trim().split(/\s+/);
    if (!/^[0-9a-f]{64}$/.test(sha256)) return undefined;
    const num = (v: string | undefined) => (v !== undefined && /^[0-9.]+$/.test(v) ? Number(v) : undefined);
    return { sha256, size: num(size), ino: num(ino), mtimeMs: num(mtimeMs) };
  } catch {
    return undefined; // not recorded yet (an older cache)
  }
}

/** Record the sidecar of the image at `p` (its sha256 and what stat says now). */
export function writeSidecar(p: string, sha256: string, side = sidecarPath(p)): void {
  const st = fs.statSync(p);
  try {
    fs.rmSync(side, { force: true });
    writeFileAtomic(side, `${sha256} ${st.size} ${st.ino} ${Math.floor(st.mtimeMs)}\n`, 0o444);
  } catch {
    // a read-only cache still works, just slower
  }
}

export type ImageCheck = { ok: true; sha256: string } | { ok: false; why: string };

/** Is the published image at `p` the one its sidecar records? Cheap unless stat disagrees. */
export async function verifyImage(p: string, opts: { full?: boolean } = {}): Promise<ImageCheck> {
  const st = fs.statSync(p);
  const side = readSidecar(p);
  if (side === undefined) {
    // Trust on first use (caches from before sidecars): record it now.
    const sha256 = await sha256File(p);
    writeSidecar(p, sha256);
    return { ok: true, sha256 };
  }
  if (side.size !== undefined && side.size !== st.size)
    return {
      ok: false,
      why: `its size is ${st.size} bytes, ${side.size} were published (truncated or replaced)`,
    };
  const full = opts.full ?? process.env.UMLAB_VERIFY_IMAGES === "1";
  const statSame = side.ino === st.ino && side.mtimeMs === Math.floor(st.mtimeMs);
  if (statSame && !full) return { ok: true, sha256: side.sha256 };
  const sha256 = await sha256File(p);
  if (sha256 !== side.sha256)
    return { ok: false, why: `its sha256 is ${sha256}, ${side.sha256} was published` };
  if (!statSame) writeSidecar(p, sha256); // e.g. the cache was copied: same content
  return { ok: true, sha256 };
}

/** sha256 of a published image, from its sidecar when stat agrees (see verifyImage). */
export async function cachedSha256(p: string): Promise<string> {
  const v = await verifyImage(p);
  return v.ok ? v.sha256 : sha256File(p);
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

/** Temp builds are named `.tmp-<key12>-<pid>-<random>`; `<file>.tmp-<pid>-<ms>` are atomic writes. */
export function tempOwner(name: string): number | undefined {
  const m = /^\.tmp-[0-9a-f]+-([0-9]+)-/.exec(name) ?? /\.tmp-([0-9]+)-[0-9]+$/.exec(name);
  return m ? Number(m[1]) : undefined;
}

function pidAlive(pid: number): boolean {
  try {
    return fs.existsSync(`/proc/${pid}`);
  } catch {
    return true;
  }
}

/** Temps older than this are stale whoever made them (a pid may be reused). */
export const STALE_TEMP_MS = 6 * 3600 * 1000;

/** A temp whose builder is gone (its pid is dead, or no pid and old), or older than STALE_TEMP_MS. */
export function staleTemp(name: string, mtimeMs: number, now = Date.now(), alive = pidAlive): boolean {
  if (now - mtimeMs > STALE_TEMP_MS) return true;
  const pid = tempOwner(name);
  return pid !== undefined && pid !== process.pid && !alive(pid);
}

/**
 * Remove cached images not in `keep` (paths or keys), sidecars without an image, and temp
 * builds left by builds that died (never one still in progress: see staleTemp). The cache is
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
  const remove = (p: string) => {
    fs.rmSync(p, { recursive: true, force: true });
    removed.push(p);
  };
  for (const e of entries) {
    const p = path.join(dir, e);
    let st: fs.Stats;
    try {
      st = fs.lstatSync(p);
    } catch {
      continue;
    }
    if (e.startsWith(".tmp-") || /\.tmp-[0-9]+-[0-9]+$/.test(e)) {
      if (staleTemp(e, st.mtimeMs)) remove(p);
      continue;
    }
    const key = e.replace(/\.img(\.sha256)?$/, "");
    if (/\.img(\.sha256)?$/.test(e) && !keep.has(key)) remove(p);
    else if (e.endsWith(".img.sha256") && !entries.includes(e.replace(/\.sha256$/, ""))) remove(p);
  }
  return removed;
}
