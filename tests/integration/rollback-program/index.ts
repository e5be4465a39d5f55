// Two versions of one lab, for tests/integration/rollback.test.ts (the real workflow keeps
// them as two git commits; here the `version` config picks one):
//   version 1: g1 (10.0.0.1) and g2 (10.0.0.2) on sw0
//   version 2: the same, g2 readdressed to 10.0.0.22, and a router r1 (10.0.0.254) added
//   backing    the shared busybox image (built once by the test)
import * as pulumi from "@pulumi/pulumi";
import * as umlab from "../../../sdk";

const config = new pulumi.Config();
const backing = config.require("backing");
const version = config.getNumber("version") ?? 1;

const lab = new umlab.Lab("lab");
const sw = new umlab.Switch("sw0", { lab });
const shape: [string, string][] = [
  ["g1", "10.0.0.1/24"],
  ["g2", version === 2 ? "10.0.0.22/24" : "10.0.0.2/24"],
];
if (version === 2) shape.push(["r1", "10.0.0.254/24"]);

const guests = shape.map(
  ([name, address]) =>
    new umlab.Guest(name, {
      lab,
      disks: [new umlab.CowDisk(`${name}-root`, { lab, backing })],
      nics: [{ switch: sw, addresses: [address] }],
    }),
);

export const guestInfo = pulumi
  .all(guests.map((g) => pulumi.all([g.name, g.pid, g.guestDir, g.bootId])))
  .apply((rows) => rows.map(([name, pid, guestDir, bootId]) => ({ name, pid, guestDir, bootId })));
