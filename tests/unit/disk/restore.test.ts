// Restoring a COW file from a snapshot (provider/disk/restore.ts) with real files and cp, no
// UML: a damaged snapshot or another backing image is refused with nothing left at the target;
// a good one is copied sparsely, byte for byte.
import * as crypto from "crypto";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { restoreCow } from "../../../provider/disk/restore";
import { fakeSnapshot } from "../lab/fake-snapshot";

const sha = (b: Buffer) => crypto.createHash("sha256").update(b).digest("hex");

describe("CowDisk fromSnapshot", () => {
  let work: string;
  let backing: string;
  let backingSha: string;
  beforeAll(() => {
    work = fs.mkdtempSync(path.join(os.tmpdir(), "umlab-restore-"));
    backing = path.join(work, "backing.img");
    fs.writeFileSync(backing, "the backing image");
    backingSha = sha(fs.readFileSync(backing));
  });
  afterAll(() => fs.rmSync(work, { recursive: true, force: true }));

  /** A sparse COW-like file: a header, a hole of 8 MiB, a tail. */
  function sparseContent(): Buffer {
    const b = Buffer.alloc(8 * 1024 * 1024 + 8);
    b.write("COWHEAD", 0);
    b.write("TAIL", b.length - 4);
    return b;
  }

  test("a good snapshot disk is copied byte for byte, sparsely", async () => {
    const content = sparseContent();
    const { dir } = fakeSnapshot(content, backingSha);
    // Make the snapshot's file sparse itself (fakeSnapshot wrote every byte).
    const f = path.join(dir, "disks/g1.0.cow");
    fs.rmSync(f);
    const fd = fs.openSync(f, "w");
    fs.writeSync(fd, content.subarray(0, 7), 0, 7, 0);
    fs.writeSync(fd, content.subarray(content.length - 4), 0, 4, content.length - 4);
    fs.closeSync(fd);
    const target = path.join(work, "good.cow");
    await restoreCow({ dir, guest: "g1", index: 0 }, backing, target, "CowDisk g1-root");
    expect(fs.readFileSync(target).equals(content)).toBe(true);
    expect(fs.statSync(target).blocks * 512).toBeLessThan(1024 * 1024);
    expect(fs.statSync(target).mode & 0o777).toBe(0o600);
    fs.rmSync(dir, { recursive: true });
  });

  test("a damaged snapshot disk is refused; nothing is left at the target", async () => {
    const { dir } = fakeSnapshot(Buffer.from("cow"), backingSha);
    fs.writeFileSync(path.join(dir, "disks/g1.0.cow"), "cox");
    const target = path.join(work, "damaged.cow");
    await expect(
      restoreCow({ dir, guest: "g1", index: 0 }, backing, target, "CowDisk g1-root"),
    ).rejects.toThrow(/^CowDisk g1-root: fromSnapshot: snapshot .* disks\/g1\.0\.cow has sha256 .* damaged/);
    expect(fs.readdirSync(work).filter((f) => f.startsWith("damaged"))).toEqual([]);
    fs.rmSync(dir, { recursive: true });
  });

  test("a disk over another backing image is refused, naming both hashes and the fix", async () => {
    const { dir } = fakeSnapshot(Buffer.from("cow"), "c".repeat(64));
    const target = path.join(work, "other.cow");
    await expect(
      restoreCow({ dir, guest: "g1", index: 0 }, backing, target, "CowDisk g1-root"),
    ).rejects.toThrow(
      new RegExp(
        `made over a backing image with sha256 c{64} .*has sha256 ${backingSha}: give the CowDisk the same image`,
      ),
    );
    expect(fs.existsSync(target)).toBe(false);
    await expect(restoreCow({ dir, guest: "g7", index: 0 }, backing, target, "CowDisk x")).rejects.toThrow(
      /CowDisk x: fromSnapshot: snapshot .* has no guest "g7" \(it has: g1\)/,
    );
    fs.rmSync(dir, { recursive: true });
  });
});
