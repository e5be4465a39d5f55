// Two busybox guests joined by a serial cable (g1 ttyS1 <-> g2 ttyS1), for
// tests/integration/serial.test.ts. Config `cut`: the cable is suspended (its relay stopped).
import * as pulumi from "@pulumi/pulumi";
import * as umlab from "../../../sdk";

const config = new pulumi.Config();
const backing = config.require("backing");
const cut = config.getBoolean("cut") ?? false;

const lab = new umlab.Lab("lab");
const hb = new umlab.SerialCable("hb", { lab, log: true, suspended: cut });
const guest = (name: string, end: pulumi.Output<string>) =>
  new umlab.Guest(name, {
    lab,
    disks: [new umlab.CowDisk(`${name}-root`, { lab, backing })],
    serial: ["null", end],
  });
const g1 = guest("g1", hb.endA);
const g2 = guest("g2", hb.endB);

export const labDir = lab.dir;
export const cable = { log: hb.logPath, pid: hb.pid };
export const guestDirs = [g1.guestDir, g2.guestDir];
export const guestPids = [g1.pid, g2.pid];
