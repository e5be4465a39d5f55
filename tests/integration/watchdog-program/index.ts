// One busybox guest with the softdog dead-man switch for tests/integration/watchdog.test.ts:
//   backing          the shared busybox image (built once by the test)
//   timeoutSeconds   the watchdog's timeout (default 5)
import * as pulumi from "@pulumi/pulumi";
import * as umlab from "../../../sdk";

const config = new pulumi.Config();
const backing = config.require("backing");
const timeoutSeconds = config.getNumber("timeoutSeconds") ?? 5;

const lab = new umlab.Lab("lab");
const root = new umlab.CowDisk("g1-root", { lab, backing });
const g1 = new umlab.Guest("g1", { lab, disks: [root], watchdog: { timeoutSeconds } });

export const labDir = lab.dir;
export const guest = pulumi
  .all([g1.name, g1.pid, g1.guestDir, g1.bootId, g1.mconsole])
  .apply(([name, pid, guestDir, bootId, mconsole]) => ({ name, pid, guestDir, bootId, mconsole }));
