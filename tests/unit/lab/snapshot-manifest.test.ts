// The snapshot manifest contract: a valid manifest reads back; anything else is refused naming
// the field; every hash is checked (a flipped byte, a truncated or missing file is found).
import * as fs from "fs";
import * as path from "path";
import {
  readManifest,
  parseManifest,
  verifySnapshot,
  findDisk,
  disksByName,
} from "../../../provider/lab/snapshot-manifest";
import { fakeSnapshot } from "./fake-snapshot";

describe("snapshot manifest", () => {
  const made: string[] = [];
  afterAll(() => made.forEach((d) => fs.rmSync(d, { recursive: true, force: true })));
  const snap = (c = Buffer.from("cow bytes")) => {
    const s = fakeSnapshot(c);
    made.push(s.dir);
    return s;
  };

  test("a valid snapshot reads back and verifies", async () => {
    const { dir, manifest } = snap();
    expect(readManifest(dir)).toEqual(manifest);
    expect(await verifySnapshot(dir)).toEqual(manifest);
    expect(findDisk(manifest, dir, "g1", 0).file).toBe("disks/g1.0.cow");
  });

  test("bad manifests are refused naming the field", () => {
    const { manifest } = snap();
    const bad = (m: unknown) => () => parseManifest(JSON.stringify(m), "/s");
    expect(bad({ ...manifest, format: 2 })).toThrow(/format: this umlab reads snapshot format 1/);
    expect(bad({ ...manifest, createdAt: "yesterday" })).toThrow(/createdAt/);
    const withDisk = (d: object) => ({
      ...manifest,
      guests: [{ ...manifest.guests[0], disks: [{ ...manifest.guests[0].disks[0], ...d }] }],
    });
    expect(bad(withDisk({ sha256: "xyz" }))).toThrow(/guests\.0\.disks\.0\.sha256/);
    // A file outside the snapshot's disks/ folder is never read.
    expect(bad(withDisk({ file: "../../etc/passwd" }))).toThrow(/guests\.0\.disks\.0\.file/);
    expect(bad(withDisk({ file: "disks/g2.0.cow" }))).toThrow(/expected disks\/g1\.0\.cow/);
    expect(() => parseManifest("{", "/s")).toThrow(/not JSON/);
    expect(() => readManifest("/nonexistent-snapshot")).toThrow(/cannot read .*manifest\.json \(ENOENT\)/);
  });

  test("a flipped byte, a truncated or a missing COW file is found", async () => {
    const flipped = snap(Buffer.from("0123456789"));
    fs.writeFileSync(path.join(flipped.dir, "disks/g1.0.cow"), "0123456780");
    await expect(verifySnapshot(flipped.dir)).rejects.toThrow(/disks\/g1\.0\.cow has sha256 .* damaged/);
    const cut = snap(Buffer.from("0123456789"));
    fs.truncateSync(path.join(cut.dir, "disks/g1.0.cow"), 5);
    await expect(verifySnapshot(cut.dir)).rejects.toThrow(/is 5 bytes, the manifest says 10/);
    const gone = snap();
    fs.rmSync(path.join(gone.dir, "disks/g1.0.cow"));
    await expect(verifySnapshot(gone.dir)).rejects.toThrow(/disks\/g1\.0\.cow is missing/);
    // A symlink planted in place of a disk is not followed.
    const link = snap();
    fs.rmSync(path.join(link.dir, "disks/g1.0.cow"));
    fs.symlinkSync("/etc/hostname", path.join(link.dir, "disks/g1.0.cow"));
    await expect(verifySnapshot(link.dir)).rejects.toThrow(/missing \(or not a regular file\)/);
  });

  test("a guest or disk the snapshot does not have is named with what it has", () => {
    const { dir, manifest } = snap();
    expect(() => findDisk(manifest, dir, "g9", 0)).toThrow(/no guest "g9" \(it has: g1\)/);
    expect(() => findDisk(manifest, dir, "g1", 1)).toThrow(/guest "g1" has no disk 1 \(it has: 0\)/);
  });

  test("disk names (what umlab:restoreFrom matches) read back; an older manifest has none", () => {
    const { manifest } = snap();
    expect(disksByName(manifest).size).toBe(0);
    manifest.guests[0].disks[0].name = "g1-root";
    const m = parseManifest(JSON.stringify(manifest), "x");
    expect([...disksByName(m)]).toEqual([["g1-root", { guest: "g1", index: 0 }]]);
    expect(() =>
      parseManifest(
        JSON.stringify({
          ...manifest,
          guests: [{ ...manifest.guests[0], disks: [{ ...manifest.guests[0].disks[0], name: "" }] }],
        }),
        "x",
      ),
    ).toThrow(/guests\.0\.disks\.0\.name/);
  });
});
