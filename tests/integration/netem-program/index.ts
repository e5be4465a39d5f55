// Two Debian guests (iproute2's tc) on one switch for tests/integration/netem.test.ts:
//   loss  netem loss percent on g2's eth0 (0 or unset: no netem), an in-place change
import * as pulumi from "@pulumi/pulumi";
import * as umlab from "../../../sdk";

const config = new pulumi.Config();
const loss = config.getNumber("loss") ?? 0;

const lab = new umlab.Lab("lab");
const image = new umlab.Image("deb", { preset: "debian", packages: ["iproute2", "iputils-ping"] });
const sw = new umlab.Switch("sw0", { lab });
const guests = [1, 2].map((i) => {
  const name = `g${i}`;
  const root = new umlab.CowDisk(`${name}-root`, { lab, backing: image.path, backingVersion: image.sha256 });
  return new umlab.Guest(name, {
    lab,
    memory: "128M",
    disks: [root],
    nics: [
      {
        switch: sw,
        addresses: [`10.0.0.${i}/24`],
        netem: i === 2 && loss > 0 ? { lossPercent: loss } : undefined,
      },
    ],
  });
});

export const labDir = lab.dir;
export const guestInfo = pulumi
  .all(guests.map((g) => pulumi.all([g.name, g.pid, g.guestDir, g.bootId])))
  .apply((rows) => rows.map(([name, pid, guestDir, bootId]) => ({ name, pid, guestDir, bootId })));
