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
//   bfd   false to leave BFD off (dead interval only)
//
//   pulumi up                      # boots, waits for OSPF, checks every node reaches every VIPA
//   umlab exec node01 -- ping -R -c 1 192.168.100.3
//   umlab exec node01 -- vtysh -c 'show ip ospf neighbor'
import * as pulumi from "@pulumi/pulumi";
import * as umlab from "../../sdk";

const config = new pulumi.Config();
const down = new Set(
  (config.get("down") ?? "")
    .split(",")
    .map((s) => s.trim())
    .filter((s) => s !== ""),
);
const bfd = config.getBoolean("bfd") ?? true;

const N = 4;
const nodes = [1, 2, 3, 4];
/** The link before node n (its eth1): node01's is link 4. */
const prev = (n: number) => ((n + N - 2) % N) + 1;
const costOf = (link: number) => (link === 1 ? 100 : 10);

/** FRR's integrated config for node n. */
function frrConf(n: number): string {
  const iface = (eth: string, link: number) =>
    [
      `interface ${eth}`,
      ` ip ospf network point-to-point`,
      ` ip ospf hello-interval 1`,
      ` ip ospf dead-interval 3`,
      ` ip ospf cost ${costOf(link)}`,
      ...(bfd ? [` ip ospf bfd`, ` ip ospf bfd profile fast`] : []),
      "!",
    ].join("\n");
  return [
    "frr defaults traditional",
    `hostname node0${n}`,
    "service integrated-vtysh-config",
    "!",
    ...(bfd
      ? [
          "bfd",
          " profile fast",
          "  transmit-interval 100",
          "  receive-interval 100",
          "  detect-multiplier 3",
          "!",
        ]
      : []),
    iface("eth0", n),
    iface("eth1", prev(n)),
    "router ospf",
    ` ospf router-id 192.168.100.${n}`,
    " passive-interface dummy0",
    " network 192.168.0.0/16 area 0",
    // Recompute routes at once after a change (FRR's default initial SPF delay is 0 too).
    " timers throttle spf 0 50 1000",
    "!",
    "",
  ].join("\n");
}

const DAEMONS = [
  // zebra, mgmtd and staticd always run; these are the routing daemons on top.
  "ospfd=yes",
  `bfdd=${bfd ? "yes" : "no"}`,
  "vtysh_enable=yes",
  'zebra_options="  -A 127.0.0.1 -s 90000000"',
  'ospfd_options="  -A 127.0.0.1"',
  'bfdd_options="  -A 127.0.0.1"',
  'staticd_options="-A 127.0.0.1"',
  "",
].join("\n");

/**
 * The service address on dummy0, then FRR. A Debian image has no systemd running (PID 1 is
 * umlab-init): FRR starts with its own script (watchfrr, zebra, staticd, ospfd, bfdd).
 */
const startup = (n: number) =>
  [
    "modprobe dummy numdummies=0",
    "ip link show dummy0 >/dev/null 2>&1 || ip link add dummy0 type dummy",
    `ip addr add 192.168.100.${n}/32 dev dummy0`,
    "ip link set dummy0 up",
    "chown -R frr:frr /etc/frr",
    "/usr/lib/frr/frrinit.sh start",
    "",
  ].join("\n");

const lab = new umlab.Lab("lab");
const image = new umlab.Image("frr", {
  preset: "debian",
  packages: ["frr", "iproute2", "iputils-ping", "procps", "tcpdump"],
});
const switches = nodes.map((k) => new umlab.Switch(`switch${k}`, { lab }));

const routers = nodes.map((n) => {
  const name = `node0${n}`;
  const root = new umlab.CowDisk(`${name}-root`, { lab, backing: image.path, backingVersion: image.sha256 });
  return new umlab.Guest(name, {
    lab,
    memory: "128M",
    disks: [root],
    nics: [
      { switch: switches[n - 1], addresses: [`192.168.${n}.${n}/24`], linkDown: down.has(`${name}:eth0`) },
      {
        switch: switches[prev(n) - 1],
        addresses: [`192.168.${prev(n)}.${n}/24`],
        linkDown: down.has(`${name}:eth1`),
      },
    ],
    sysctls: { "net.ipv4.ip_forward": "1" },
    files: { "/etc/frr/frr.conf": frrConf(n), "/etc/frr/daemons": DAEMONS },
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

export const labDir = lab.dir;
export const nodeInfo = pulumi
  .all(routers.map((g) => pulumi.all([g.name, g.pid, g.guestDir, g.bootId])))
  .apply((rows) => rows.map(([name, pid, guestDir, bootId]) => ({ name, pid, guestDir, bootId })));
export const checks = converged.summary;
export const checksOk = converged.ok;
