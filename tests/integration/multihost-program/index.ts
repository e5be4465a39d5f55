// One lab over two hosts, for tests/integration/multihost.test.ts:
//   the lab runs on host A (`host`), and its part on host B is `lab.on(hostB)`;
//   swA + gA (10.0.0.1) on host A, swB + gB (10.0.0.2) on host B; busybox guests.
//   link: a HostLink swA <-> swB (a VDE cable over SSH, run on A, reaching B as `peerB`);
//   linkSuspended: that link stopped (SIGSTOP).
// Config: backing (a local busybox image: copied to B's cache by content), hostA, hostB,
// peerB (JSON: B as A reaches it), link, linkSuspended.
import * as pulumi from "@pulumi/pulumi";
import * as umlab from "../../../sdk";

const config = new pulumi.Config();
const backing = config.require("backing");
const hostA = config.requireObject<umlab.Host>("hostA");
const hostB = config.requireObject<umlab.Host>("hostB");
const link = config.getBoolean("link") ?? false;
const linkSuspended = config.getBoolean("linkSuspended") ?? false;

const lab = new umlab.Lab("lab", { host: hostA });
const labB = lab.on(hostB);

// floor (bench/multihost.ts): guest B on host A, on swA (the same two guests on one switch).
const floor = config.getBoolean("floor") ?? false;

const side = (l: umlab.Lab, tag: string, address: string, on?: umlab.Switch) => {
  const sw = on ?? new umlab.Switch(`sw${tag}`, { lab: l, engine: "vde" });
  const g = new umlab.Guest(`g${tag}`, {
    lab: l,
    disks: [new umlab.CowDisk(`g${tag}-root`, { lab: l, backing })],
    nics: [{ switch: sw, addresses: [address] }],
  });
  return { sw, g };
};
const a = side(lab, "a", "10.0.0.1/24");
const b = floor ? side(lab, "b", "10.0.0.2/24", a.sw) : side(labB, "b", "10.0.0.2/24");

const ab = link
  ? new umlab.HostLink("ab", {
      lab,
      a: a.sw,
      b: b.sw,
      peer: config.requireObject<umlab.Host>("peerB"),
      suspended: linkSuspended,
    })
  : undefined;

// vxlan: JSON {a, b}: the hosts' addresses between them; a VxlanLink swA <-> swB instead.
const vxlan = config.getObject<{ a: string; b: string }>("vxlan");
const vx = vxlan
  ? new umlab.VxlanLink("vx", { lab, a: a.sw, labB, b: b.sw, addresses: vxlan, suspended: linkSuspended })
  : undefined;
export const vxlanInfo = vx
  ? vx.ends.map((e) =>
      pulumi.all([e.devices, e.pid, e.vni]).apply(([devices, pid, vni]) => ({ devices, pid, vni })),
    )
  : undefined;

export const linkInfo = ab ? { pid: ab.pid, logPath: ab.logPath } : undefined;
export const labDirs = { a: lab.dir, b: labB.dir };
export const switches = [a.sw, b.sw].map((s) => ({ pid: s.pid, control: s.control }));
export const guestInfo = pulumi
  .all([a.g, b.g].map((g) => pulumi.all([g.name, g.pid, g.guestDir, g.bootId, g.disks])))
  .apply((rows) =>
    rows.map(([name, pid, guestDir, bootId, disks]) => ({ name, pid, guestDir, bootId, disks })),
  );
