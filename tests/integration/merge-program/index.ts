// Busybox guests over one backing, and optionally an Image merged from a COW disk, for
// tests/integration/merge.test.ts:
//   backing   the shared busybox image (built once by the test)
//   guests    comma-separated names of guests over `backing` (may be empty)
//   fromCow   a COW file: Image "merged" is it merged with `backing`; guest m1 boots on it
//   cacheDir  the image cache of the merged Image
import * as pulumi from "@pulumi/pulumi";
import * as umlab from "../../../sdk";

const config = new pulumi.Config();
const backing = config.require("backing");
const names = (config.get("guests") ?? "g1,g2,g3").split(",").filter(Boolean);
const fromCow = config.get("fromCow");
const cacheDir = config.get("cacheDir");

const lab = new umlab.Lab("lab");
const sw = new umlab.Switch("sw0", { lab });
const guests = names.map(
  (name, i) =>
    new umlab.Guest(name, {
      lab,
      disks: [new umlab.CowDisk(`${name}-root`, { lab, backing })],
      nics: [{ switch: sw, addresses: [`10.0.0.${i + 1}/24`] }],
    }),
);

let merged: umlab.Image | undefined;
if (fromCow) {
  merged = new umlab.Image("merged", { fromCow: { path: fromCow, backing }, cacheDir });
  const root = new umlab.CowDisk("m1-root", { lab, backing: merged.path, backingVersion: merged.sha256 });
  guests.push(
    new umlab.Guest("m1", { lab, disks: [root], nics: [{ switch: sw, addresses: ["10.0.0.100/24"] }] }),
  );
}

export const labDir = lab.dir;
export const guestInfo = pulumi
  .all(guests.map((g) => pulumi.all([g.name, g.pid, g.guestDir, g.bootId, g.mconsole])))
  .apply((rows) =>
    rows.map(([name, pid, guestDir, bootId, mconsole]) => ({ name, pid, guestDir, bootId, mconsole })),
  );
export const mergedImage = merged ? { path: merged.path, sha256: merged.sha256, key: merged.key } : undefined;
