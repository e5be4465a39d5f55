// Two busybox guests for tests/integration/mconsole.test.ts:
//   backing   the shared busybox image (built once by the test)
//   g1Disk    a disk file for g1's ubd1 (absent: g1 has only its root disk)
//   g2Disk    the same for g2
//   sharedMiB a SharedDisk of that size, attached to both guests after their other disks
import * as pulumi from "@pulumi/pulumi";
import * as umlab from "../../../sdk";

const config = new pulumi.Config();
const backing = config.require("backing");
const extra: Record<string, string | undefined> = { g1: config.get("g1Disk"), g2: config.get("g2Disk") };
const sharedMiB = config.getNumber("sharedMiB");

const lab = new umlab.Lab("lab");
const shared = sharedMiB ? new umlab.SharedDisk("data", { lab, sizeMiB: sharedMiB }) : undefined;
const guests = ["g1", "g2"].map((name) => {
  const root = new umlab.CowDisk(`${name}-root`, { lab, backing });
  const more = extra[name];
  const disks: umlab.DiskArgs[] = more ? [root, { path: more }] : [root];
  if (shared) disks.push(shared);
  return new umlab.Guest(name, { lab, disks });
});

export const labDir = lab.dir;
export const guestInfo = pulumi
  .all(guests.map((g) => pulumi.all([g.name, g.pid, g.guestDir, g.bootId, g.mconsole])))
  .apply((rows) =>
    rows.map(([name, pid, guestDir, bootId, mconsole]) => ({ name, pid, guestDir, bootId, mconsole })),
  );
export const sharedPath = shared?.path;
