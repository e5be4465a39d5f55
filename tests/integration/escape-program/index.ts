// Two busybox guests for tests/integration/escape.test.ts:
//   backing   the shared busybox image (built once by the test)
//   secret    a string g2's folder holds (files/root/g2-secret): g1 must never read it
import * as pulumi from "@pulumi/pulumi";
import * as umlab from "../../../sdk";

const config = new pulumi.Config();
const backing = config.require("backing");
const secret = config.require("secret");

const lab = new umlab.Lab("lab");
const sw = new umlab.Switch("sw0", { lab });
const guests = [1, 2].map((i) => {
  const name = `g${i}`;
  const root = new umlab.CowDisk(`${name}-root`, { lab, backing });
  return new umlab.Guest(name, {
    lab,
    disks: [root],
    nics: [{ switch: sw, addresses: [`10.0.0.${i}/24`] }],
    files: i === 1 ? { "/etc/escape-own": "own-file\n" } : { "/root/g2-secret": `${secret}\n` },
  });
});

export const labDir = lab.dir;
export const guestDirs = pulumi.all(guests.map((g) => g.guestDir));
