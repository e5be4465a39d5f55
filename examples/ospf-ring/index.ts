// The seed's case study 2: four routers in a ring running OSPF (FRR), each with a service
// address (VIPA) on dummy0 that every other router must reach.
//
//            switch1 (192.168.1.0/24, cost 100)
//   node01 ------------------------------------ node02
//     |  eth1                                eth0 |
//     | switch4 (192.168.4.0/24)  switch2 (192.168.2.0/24)
//     |  eth0                                eth1 |
//   node04 ------------------------------------ node03
//            switch3 (192.168.3.0/24)
//
// Link N is switchN between node0N (its eth0) and node0(N+1) (its eth1; node04's eth0 goes to
// node01). On link N, node0K has 192.168.N.K; node0K's service address is 192.168.100.K/32.
// Link 1 costs 100 (others 10), so node01 reaches node03 through node04, as in the seed.
// OSPF: point-to-point, hello 1 s / dead 3 s, and BFD (100 ms x 3) to notice a dead
// neighbour in a fraction of a second.
//
// Config (all optional):
//   down  comma-separated <node>:<ethN> whose link is taken down, e.g. "node04:eth1"
//   profile  fast (default: BFD 100 ms x 3) or class (no BFD: a dead neighbour is noticed by
//            the 3 s dead interval; an idle router costs about a fifth of the CPU, for a class
//            of many rings on one host: umlab class up examples/ospf-ring --set profile=class)
//   bfd   false to leave BFD off (dead interval only); true to run it whatever the profile
//
//   hostA, hostB, peerB, onB, cables  the ring over two machines (placement.ts): e.g. node01/02
//         here and node03/04 on host B, the two links between them HostLinks over ssh
//
//   pulumi up                      # boots, waits for OSPF, checks every node reaches every VIPA
//   umlab exec node01 -- ping -R -c 1 192.168.100.3
//   umlab exec node01 -- vtysh -c 'show ip ospf neighbor'
import * as pulumi from "@pulumi/pulumi";
import * as umlab from "../../sdk";
import {
  daemons,
  frrConf,
  nicAddresses,
  nodes,
  prev,
  startup,
  parseProfile,
  profileBfd,
  PACKAGES,
} from "./ring";
import { parsePlacement } from "./placement";

const config = new pulumi.Config();
const down = new Set(
  (config.get("down") ?? "")
    .split(",")
    .map((s) => s.trim())
    .filter((s) => s !== ""),
);
const bfd = config.getBoolean("bfd") ?? profileBfd(parseProfile(config.get("profile")));

const place = parsePlacement((k) => config.get(k));
const lab = new umlab.Lab("lab", place.hostA ? { host: place.hostA } : {});
const labB = place.hostB ? lab.on(place.hostB) : lab;
const labOf = (n: number) => (place.onB.has(`node0${n}`) ? labB : lab);
const image = new umlab.Image("frr", {
  preset: "debian",
  packages: PACKAGES,
});
// Link k joins node0k (eth0) and the next router (eth1). Split over hosts: a vde switch on
// each side, joined by a HostLink run on host A (the side of lab) to host B (peerB).
const next = (k: number) => (k % nodes.length) + 1;
const cables: umlab.HostLink[] = [];
const linkSwitches = nodes.map((k) => {
  const [l0, l1] = [labOf(k), labOf(next(k))];
  if (l0 === l1) return { [k]: new umlab.Switch(`switch${k}`, { lab: l0 }), [next(k)]: undefined };
  const here = new umlab.Switch(`switch${k}`, { lab: l0, engine: "vde" });
  const there = new umlab.Switch(`switch${k}-b`, { lab: l1, engine: "vde" });
  const [onA, onB] = l0 === lab ? [here, there] : [there, here];
  cables.push(
    new umlab.HostLink(`link${k}`, { lab, a: onA, b: onB, peer: place.peerB!, ...place.cables[`link${k}`] }),
  );
  return { [k]: here, [next(k)]: there };
});
/** The switch of link k that node n (one of its two routers) plugs into. */
const switchOf = (k: number, n: number) => linkSwitches[k - 1][n] ?? linkSwitches[k - 1][k]!;

const routers = nodes.map((n) => {
  const name = `node0${n}`;
  const root = new umlab.CowDisk(`${name}-root`, {
    lab: labOf(n),
    backing: image.path,
    backingVersion: image.sha256,
  });
  return new umlab.Guest(name, {
    lab: labOf(n),
    // No memory: a Debian image's default (128M) runs FRR without the OOM killer.
    disks: [root],
    nics: [
      { switch: switchOf(n, n), addresses: [nicAddresses(n)[0]], linkDown: down.has(`${name}:eth0`) },
      {
        switch: switchOf(prev(n), n),
        addresses: [nicAddresses(n)[1]],
        linkDown: down.has(`${name}:eth1`),
      },
    ],
    sysctls: { "net.ipv4.ip_forward": "1" },
    files: { "/etc/frr/frr.conf": frrConf(n, bfd), "/etc/frr/daemons": daemons(bfd) },
    startup: startup(n),
  });
});

// Converged: every router has both adjacencies Full and reaches every other router's service
// address, and node01's route to node03 goes through node04 (192.168.4.4), as in the seed.
const converged = new umlab.Checks("converged", {
  checks: [
    ...routers.map((g, i) =>
      umlab.check.command(g, ["vtysh", "-c", "show ip ospf neighbor"], /Full\/[\s\S]*Full\//, {
        name: `node0${i + 1} has two Full OSPF neighbours`,
      }),
    ),
    ...routers.flatMap((g, i) =>
      nodes.filter((m) => m !== i + 1).map((m) => umlab.check.ping(g, `192.168.100.${m}`)),
    ),
    umlab.check.route(routers[0], "192.168.100.3/32", { via: "192.168.4.4", proto: "ospf" }),
  ],
  deadlineSeconds: 90,
  failOnError: true,
});

// Split over hosts: what the first router on host B sees of its neighbours, run there (an Exec
// of a guest on another host runs on that host, like the checks of its guests).
const firstOnB = routers.find((_, i) => labOf(i + 1) === labB && labB !== lab);
export const hostBNeighbours = firstOnB
  ? new umlab.Exec(
      "hostb-neighbours",
      { guest: firstOnB, command: ["vtysh", "-c", "show ip ospf neighbor"] },
      { dependsOn: [converged] },
    ).stdout
  : undefined;

export const labDir = lab.dir;
export const labDirB = labB.dir;
export const cableInfo = pulumi
  .all(cables.map((c) => pulumi.all([c.urn, c.pid, c.suspended])))
  .apply((rows) => rows.map(([urn, pid, suspended]) => ({ name: urn.split("::").pop(), pid, suspended })));
export const nodeInfo = pulumi
  .all(routers.map((g) => pulumi.all([g.name, g.pid, g.guestDir, g.bootId])))
  .apply((rows) => rows.map(([name, pid, guestDir, bootId]) => ({ name, pid, guestDir, bootId })));
export const checks = converged.summary;
export const checksOk = converged.ok;
