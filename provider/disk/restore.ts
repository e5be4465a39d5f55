// A COW disk restored from a snapshot (lab/snapshot-manifest.ts): the snapshot's COW file is
// copied sparsely after its sha256 is checked, and only over the backing image it was made
// over (same sha256): a COW file over other backing content would read as garbage.
import * as fs from "fs";
import * as host from "../host/process";
import { sha256File, cachedSha256 } from "../image/cache";
import { readManifest, findDisk, verifyDisk } from "../lab/snapshot-manifest";
import { rebindCowHeader, COW_V3_BYTES as COW_HEADER_BYTES } from "./cowheader";

export interface FromSnapshot {
  dir: string;
  guest: string;
  index: number;
}

/** A cached image's hash comes from its sidecar (checked against stat); anything else is hashed. */
async function backingSha256(p: string): Promise<string> {
  return /\/images\/[0-9a-f]{64}\.img$/.test(p) ? cachedSha256(p) : sha256File(p);
}

/**
 * Bind the copied COW file to `backing` (same content, checked): UML refuses a COW file whose
 * header records another mtime for its backing file (an image rebuilt or imported since).
 */
function rebind(cow: string, backing: string): void {
  const st = fs.statSync(backing);
  const fd = fs.openSync(cow, "r+");
  try {
    const head = Buffer.alloc(COW_HEADER_BYTES);
    fs.readSync(fd, head, 0, head.length, 0);
    const out = rebindCowHeader(head, backing, Math.floor(st.mtimeMs / 1000), st.size);
    fs.writeSync(fd, out, 0, out.length, 0);
  } finally {
    fs.closeSync(fd);
  }
}

/** Copy the snapshot's disk to `target` (which must not exist); `who` names the resource in errors. */
export async function restoreCow(
  from: FromSnapshot,
  backing: string,
  target: string,
  who: string,
): Promise<void> {
  let disk;
  try {
    disk = findDisk(readManifest(from.dir), from.dir, from.guest, from.index);
    await verifyDisk(from.dir, disk);
  } catch (e) {
    throw new Error(`${who}: fromSnapshot: ${(e as Error).message}`);
  }
  const have = await backingSha256(backing);
  if (have !== disk.backing.sha256)
    throw new Error(
      `${who}: fromSnapshot: the snapshot's disk ${disk.file} was made over a backing image with sha256 ` +
        `${disk.backing.sha256} (${disk.backing.path}), but this disk's backing ${backing} has sha256 ${have}: ` +
        "give the CowDisk the same image as the snapshot's guest (same Image args), or take a new snapshot",
    );
  const tmp = `${target}.restore-tmp`;
  fs.rmSync(tmp, { force: true });
  try {
    await host.run("cp", ["--reflink=auto", "--sparse=always", "--", `${from.dir}/${disk.file}`, tmp], {
      timeoutMs: 600_000,
    });
    fs.chmodSync(tmp, 0o600);
    try {
      rebind(tmp, backing);
    } catch (e) {
      throw new Error(`${who}: fromSnapshot: ${from.dir}/${disk.file}: ${(e as Error).message}`);
    }
    fs.renameSync(tmp, target);
  } catch (e) {
    fs.rmSync(tmp, { force: true });
    throw e;
  }
}
