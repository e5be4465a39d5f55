// Images on another host, by content: `<cache>/sha256/<sha256>.img` there. The sending side
// (stageImage) asks whether the host has that content and streams the file over ssh's stdin
// only when it does not; the receiving side (receiveImage, run by remote-main) writes a
// temporary file, checks size and sha256, and renames it into place last, so a broken
// transfer never leaves an image that looks whole.
import * as crypto from "crypto";
import * as fs from "fs";
import * as nodePath from "path";
import { callRemote } from "./remote";
import type { Host } from "./remote-argv";
import { cachedSha256, verifyImage, writeSidecar } from "../image/cache";

const SHA_RE = /^[0-9a-f]{64}$/;

/** Where content `sha256` lives in an image cache (pure). */
export function imagePathOn(cache: string, sha256: string): string {
  if (!SHA_RE.test(sha256)) throw new Error(`umlab: not a sha256: ${JSON.stringify(sha256)}`);
  return nodePath.join(cache, "sha256", `${sha256}.img`);
}

/** Remote side: is that content in the cache, whole (size and hash as its sidecar says)? */
export async function hasImage(cache: string, sha256: string): Promise<boolean> {
  const p = imagePathOn(cache, sha256);
  const st = fs.lstatSync(p, { throwIfNoEntry: false });
  if (!st?.isFile()) return false;
  const v = await verifyImage(p);
  return v.ok && v.sha256 === sha256;
}

/** Remote side: take `size` bytes from `chunks` as content `sha256`; its path in the cache. */
export async function receiveImage(
  cache: string,
  sha256: string,
  size: number,
  chunks: AsyncIterable<Buffer>,
): Promise<string> {
  const final = imagePathOn(cache, sha256);
  const dir = nodePath.dirname(final);
  fs.mkdirSync(dir, { recursive: true, mode: 0o755 });
  const tmp = nodePath.join(dir, `.in-${sha256.slice(0, 16)}-${process.pid}`);
  const fd = fs.openSync(
    tmp,
    fs.constants.O_WRONLY | fs.constants.O_CREAT | fs.constants.O_EXCL | fs.constants.O_NOFOLLOW,
    0o600,
  );
  const h = crypto.createHash("sha256");
  let n = 0;
  try {
    for await (const c of chunks) {
      n += c.length;
      if (n > size) break;
      h.update(c);
      fs.writeSync(fd, c);
    }
    const got = h.digest("hex");
    if (n !== size || got !== sha256)
      throw new Error(
        `the image arrived as ${n} bytes with sha256 ${got}, expected ${size} bytes with ${sha256} (nothing kept; run again)`,
      );
    fs.fchmodSync(fd, 0o444);
    fs.fsyncSync(fd);
  } catch (e) {
    fs.closeSync(fd);
    fs.rmSync(tmp, { force: true });
    throw e;
  }
  fs.closeSync(fd);
  // Never over a copy already there: two disks of one host (or two students' labs on a fresh
  // host) staging the same image at once would swap the file under a guest that booted over
  // the first (its COW records the backing's mtime: a mismatch, and the guest cannot mount its
  // root). link fails if it exists.
  try {
    fs.linkSync(tmp, final);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== "EEXIST") throw e;
  } finally {
    fs.rmSync(tmp, { force: true });
  }
  writeSidecar(final, sha256);
  return final;
}

/**
 * Local side: the path on the host of the image at `local`, copied there first when the
 * host's cache lacks its content. Returns the path and the content hash.
 */
export async function stageImage(h: Host, local: string): Promise<{ path: string; sha256: string }> {
  const st = fs.statSync(local, { throwIfNoEntry: false });
  if (!st?.isFile())
    throw new Error(`umlab: image ${local} is not a regular file here: nothing to copy to host "${h.name}"`);
  const sha256 = await cachedSha256(local);
  const has = await callRemote(h, { op: "hasImage", cache: h.cache, sha256 });
  if (has !== true)
    await callRemote(h, { op: "putImage", cache: h.cache, sha256, size: st.size }, { payload: local });
  return { path: imagePathOn(h.cache, sha256), sha256 };
}
