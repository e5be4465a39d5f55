// A snapshot directory made by hand, for the manifest and restore tests.
import * as crypto from "crypto";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { diskFileName, Manifest } from "../../../provider/lab/snapshot-manifest";

const sha = (b: Buffer | string) => crypto.createHash("sha256").update(b).digest("hex");

// Every fake snapshot is removed after the test file that made it, whether it passed or not.
const made: string[] = [];
afterAll(() => {
  for (const d of made.splice(0)) fs.rmSync(d, { recursive: true, force: true });
});

/** A snapshot dir with one guest "g1" of one disk holding `content`. */
export function fakeSnapshot(
  content: Buffer,
  backingSha = "b".repeat(64),
): { dir: string; manifest: Manifest } {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "umlab-snapm-"));
  made.push(dir);
  fs.mkdirSync(path.join(dir, "disks"));
  fs.writeFileSync(path.join(dir, diskFileName("g1", 0)), content);
  const manifest: Manifest = {
    format: 1,
    name: "base",
    createdAt: new Date().toISOString(),
    project: "p",
    stack: "s",
    outputs: { a: 1 },
    guests: [
      {
        name: "g1",
        image: { path: "/cache/images/x.img", sha256: backingSha },
        disks: [
          {
            index: 0,
            file: diskFileName("g1", 0),
            sha256: sha(content),
            bytes: content.length,
            allocated: 4096,
            backing: { path: "/cache/images/x.img", sha256: backingSha },
          },
        ],
      },
    ],
  };
  fs.writeFileSync(path.join(dir, "manifest.json"), JSON.stringify(manifest));
  return { dir, manifest };
}
