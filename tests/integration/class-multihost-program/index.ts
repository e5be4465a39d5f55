// A light class program, for tests/integration/class-multihost.test.ts: per student one switch,
// two busybox guests (64M each) on 10.0.0.0/24 and a ping check each way. No host in the
// program: `umlab class up --hosts` sets the stack config `umlab:host`, which `Lab` takes as
// its default host, so every component of the student's lab runs on that host.
import * as pulumi from "@pulumi/pulumi";
import * as umlab from "../../../sdk";

const lab = new umlab.Lab("lab");
const image = new umlab.Image("busybox", { preset: "busybox" });
const sw = new umlab.Switch("sw0", { lab });
const guests = [1, 2].map(
  (i) =>
    new umlab.Guest(`g${i}`, {
      lab,
      memory: "64M",
      disks: [new umlab.CowDisk(`g${i}-root`, { lab, backing: image.path, backingVersion: image.sha256 })],
      nics: [{ switch: sw, addresses: [`10.0.0.${i}/24`] }],
    }),
);
const reach = new umlab.Checks("reach", {
  checks: [umlab.check.ping(guests[0], "10.0.0.2"), umlab.check.ping(guests[1], "10.0.0.1")],
  deadlineSeconds: 90,
});

export const host = lab.host?.name ?? null;
export const labDir = lab.dir;
export const checksOk = reach.ok;
export const guestInfo = pulumi
  .all(guests.map((g) => pulumi.all([g.name, g.pid, g.guestDir])))
  .apply((rows) => rows.map(([name, pid, guestDir]) => ({ name, pid, guestDir })));
