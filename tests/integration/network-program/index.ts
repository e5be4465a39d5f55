// A small lab with every network piece and fault, for tests/integration/network.test.ts:
//   sw0       a vde hub (config `suspended`: the switch fault)
//   tap0      the host's side of sw0 in the lab's namespace, 10.0.0.254/24
//   capplug   a capture of sw0 without a tap (vde_plug + pcap writer)
//   captap    a capture on tap0 (tcpdump in the namespace)
//   lossy     an Impairment between g2 and sw0 (config `lossPercent`)
//   hb        a serial cable g1 ttyS1 <-> g2 ttyS1, logging the bytes
//   g1, g2    busybox guests 10.0.0.1 and 10.0.0.2 (config `paused`: g1 paused)
import * as pulumi from "@pulumi/pulumi";
import * as umlab from "../../../sdk";

const config = new pulumi.Config();
const backing = config.require("backing");
const suspended = config.getBoolean("suspended") ?? false;
const lossPercent = config.getNumber("lossPercent") ?? 0;
const paused = config.getBoolean("paused") ?? false;

const lab = new umlab.Lab("lab");
const sw0 = new umlab.Switch("sw0", { lab, engine: "vde", hub: true, suspended });
const tap0 = new umlab.Tap("tap0", { lab, switch: sw0, addresses: ["10.0.0.254/24"] });
const capplug = new umlab.Capture("capplug", { lab, switch: sw0 });
const captap = new umlab.Capture("captap", { lab, tap: tap0 });
const lossy = new umlab.Impairment("lossy", { lab, switch: sw0, lossPercent });
const hb = new umlab.SerialCable("hb", { lab, log: true });

const guest = (
  name: string,
  address: string,
  link: umlab.Pluggable,
  end: pulumi.Output<string>,
  pause = false,
) =>
  new umlab.Guest(name, {
    lab,
    disks: [new umlab.CowDisk(`${name}-root`, { lab, backing })],
    nics: [{ switch: link, addresses: [address] }],
    serial: ["null", end],
    paused: pause,
  });
const g1 = guest("g1", "10.0.0.1/24", sw0, hb.endA, paused);
const g2 = guest("g2", "10.0.0.2/24", lossy, hb.endB);

export const labDir = lab.dir;
export const tap = { namespace: tap0.namespace, device: tap0.device, pid: tap0.pid };
export const captures = { plug: capplug.path, tap: captap.path, plugPid: capplug.pid, tapPid: captap.pid };
export const cable = { log: hb.logPath, pid: hb.pid };
export const switchPid = sw0.pid;
export const lossyPids = { switch: lossy.pid, filter: lossy.filterPid };
export const guestInfo = pulumi
  .all([g1, g2].map((g) => pulumi.all([g.name, g.pid, g.instance, g.mconsole, g.guestDir, g.bootId])))
  .apply((rows) =>
    rows.map(([name, pid, instance, mconsole, guestDir, bootId]) => ({
      name,
      pid,
      instance,
      mconsole,
      guestDir,
      bootId,
    })),
  );
