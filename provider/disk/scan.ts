// The COW files on this host a merge must know about (reads only): every `<lab>/disks/*.cow`
// of every lab under the given runtime roots, each with the backing path its header names
// and the guest it belongs to. COW files kept elsewhere (another user's runtime root, a
// snapshot directory) are not found: an in-place merge also refuses any cache image.
import * as fs from "fs";
import * as path from "path";
import * as naming from "../core/naming";
import { COW_HEADER_MAX, parseCowHeader, type CowHeader } from "./cowheader";
import { guestOfDisk, type CowFact } from "./dependents";
import { processAlive, readPid } from "../host/process";
import { processesHolding } from "../host/holders";

/** device:inode of a file, or `path:<resolved>` when it cannot be stat'ed. */
export function fileId(p: string): string {
  try {
    const st = fs.statSync(p);
    return `${st.dev}:${st.ino}`;
  } catch {
    return `path:${path.resolve(p)}`;
  }
}

/** The header of the COW file at `p` (a regular file, no symlink followed). Throws naming it. */
export function readCowHeader(p: string): CowHeader {
  const fd = fs.openSync(p, fs.constants.O_RDONLY | fs.constants.O_NOFOLLOW | fs.constants.O_NONBLOCK);
  try {
    if (!fs.fstatSync(fd).isFile()) throw new Error(`${p} is not a regular file`);
    const buf = Buffer.alloc(COW_HEADER_MAX);
    const n = fs.readSync(fd, buf, 0, buf.length, 0);
    try {
      return parseCowHeader(buf.subarray(0, n));
    } catch (e) {
      throw new Error(`${p}: ${(e as Error).message}`);
    }
  } finally {
    fs.closeSync(fd);
  }
}

function entries(dir: string): string[] {
  try {
    return fs.readdirSync(dir).sort();
  } catch {
    return [];
  }
}

/** Every COW file of every lab under `roots` (unreadable or non-COW files are skipped). */
export function scanCowFiles(roots: string[]): CowFact[] {
  const facts: CowFact[] = [];
  for (const root of [...new Set(roots.map((r) => path.resolve(r)))]) {
    for (const labId of entries(root)) {
      const lab = path.join(root, labId);
      const { disksDir, guestsDir } = naming.labPaths(lab);
      const guests = entries(guestsDir);
      for (const f of entries(disksDir).filter((e) => e.endsWith(".cow"))) {
        const file = path.join(disksDir, f);
        let backing: string;
        try {
          backing = readCowHeader(file).backing;
        } catch {
          continue;
        }
        const guest = guestOfDisk(f.replace(/\.cow$/, ""), guests);
        facts.push({ lab, guest, file, backing, fileId: fileId(file), backingId: fileId(backing) });
      }
    }
  }
  return facts;
}

/**
 * Why the COW file may be written right now, or undefined when nothing writes it: a process
 * holds it open, or the guest it belongs to has a live UML process.
 */
export function cowInUse(cow: string, facts: CowFact[]): string | undefined {
  const holders = processesHolding(cow);
  if (holders.length)
    return `it is open in process ${holders.map((h) => `${h.pid} (${h.cmd.split(" ")[0]})`).join(", ")}`;
  const id = fileId(cow);
  for (const f of facts.filter((x) => x.fileId === id && x.lab && x.guest)) {
    const pid = readPid(`${naming.guestPaths(f.lab, f.guest).umidDir}/pid`);
    if (pid !== undefined && processAlive(pid)) return `its guest ${f.guest} is running (pid ${pid})`;
  }
  return undefined;
}
