// Restoring a COW file from a snapshot (provider/disk/restore.ts) with real files and cp, no
// UML: a damaged snapshot or another backing image is refused with nothing left at the target;
// a good one is copied sparsely, byte for byte.
import * as crypto from "crypto";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { restoreCow } from "../../../provider/disk/restore";
import {
  parseCowHeader,
  rebindCowHeader,
  COW_MAGIC,
  COW_V3_BYTES as COW_HEADER_BYTES,
} from "../../../provider/disk/cowheader";
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

  /** A v3 COW header as uml_mkcow writes it, over a backing file of `size` bytes. */
  function cowHeader(size: number, backingPath = "/old/cache/images/x.img", mtime = 1234): Buffer {
    const h = Buffer.alloc(COW_HEADER_BYTES);
    h.writeUInt32BE(COW_MAGIC, 0);
    h.writeUInt32BE(3, 4);
    h.writeUInt32BE(mtime, 8);
    h.writeBigUInt64BE(BigInt(size), 12);
    h.writeUInt32BE(512, 20);
    h.writeUInt32BE(4096, 24);
    h.write(backingPath, 32);
    return h;
  }

  /** A sparse COW file: a header, a hole of 8 MiB, a tail. */
  function sparseContent(): Buffer {
    const b = Buffer.alloc(8 * 1024 * 1024 + 8);
    cowHeader(fs.statSync(backing).size).copy(b);
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
    fs.writeSync(fd, content.subarray(0, COW_HEADER_BYTES), 0, COW_HEADER_BYTES, 0);
    fs.writeSync(fd, content.subarray(content.length - 4), 0, 4, content.length - 4);
    fs.closeSync(fd);
    const target = path.join(work, "good.cow");
    await restoreCow({ dir, guest: "g1", index: 0 }, backing, target, "CowDisk g1-root");
    // Byte for byte after the header; the header is re-bound to this backing file (UML checks
    // its mtime and size against the backing file's).
    const got = fs.readFileSync(target);
    expect(got.subarray(COW_HEADER_BYTES).equals(content.subarray(COW_HEADER_BYTES))).toBe(true);
    expect(parseCowHeader(got)).toEqual({
      version: 3,
      backing,
      mtime: Math.floor(fs.statSync(backing).mtimeMs / 1000),
      size: fs.statSync(backing).size,
      sectorSize: 512,
    });
    expect(got.subarray(12, 32).equals(content.subarray(12, 32))).toBe(true);
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

  test("COW headers: anything but a v3 COW file, or one over another size, is refused", () => {
    const h = cowHeader(100);
    const v3 = { version: 3, sectorSize: 512 };
    expect(parseCowHeader(h)).toEqual({ ...v3, mtime: 1234, size: 100, backing: "/old/cache/images/x.img" });
    expect(() => parseCowHeader(Buffer.alloc(64))).toThrow(/not a COW file/);
    const v2 = Buffer.from(h);
    v2.writeUInt32BE(2, 4);
    expect(() => rebindCowHeader(v2, "/b", 1, 100)).toThrow(/COW v2|cannot be re-bound/);
    expect(() => rebindCowHeader(h, "/b", 1, 101)).toThrow(
      /made over a 100-byte backing file, this one has 101/,
    );
    const r = rebindCowHeader(h, "/b", 99, 100);
    expect(parseCowHeader(r)).toEqual({ ...v3, mtime: 99, size: 100, backing: "/b" });
    // The old, longer path leaves no tail behind.
    expect(r.subarray(34, COW_HEADER_BYTES).every((x) => x === 0)).toBe(true);
  });

  test("a snapshot disk that is not a COW file is refused; nothing is left at the target", async () => {
    const { dir } = fakeSnapshot(Buffer.from("not a cow file at all"), backingSha);
    const target = path.join(work, "notcow.cow");
    await expect(
      restoreCow({ dir, guest: "g1", index: 0 }, backing, target, "CowDisk g1-root"),
    ).rejects.toThrow(/CowDisk g1-root: fromSnapshot: .*disks\/g1\.0\.cow: not a COW file/);
    expect(fs.readdirSync(work).filter((f) => f.startsWith("notcow"))).toEqual([]);
    fs.rmSync(dir, { recursive: true });
  });
});
