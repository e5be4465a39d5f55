// The ring's addressing and per-router configuration (FRR config, daemons, startup), shared by
// the program (index.ts) and the plain-script baseline of bench/ospf.ts. Pure: no resources.

/** The Debian packages of the router image. */
export const PACKAGES = ["frr", "iproute2", "iputils-ping", "procps", "tcpdump"];

export const N = 4;
export const nodes = [1, 2, 3, 4];
/** The link before node n (its eth1): node01's is link 4. */
export const prev = (n: number) => ((n + N - 2) % N) + 1;
export const costOf = (link: number) => (link === 1 ? 100 : 10);

/**
 * The ring's timer profiles (config `profile`). `fast` (the default): OSPF hello 1 s / dead 3 s
 * and BFD at 100 ms x 3, a dead neighbour noticed in a fraction of a second. `class`: the same
 * OSPF timers without BFD (no bfdd): a dead neighbour is noticed by the dead interval (3 s),
 * and an idle router costs about a fifth of the CPU (BFD's 10 packets a second per neighbour
 * are host round trips under UML). Figures: README "A class on one host", cli/class-plan.ts.
 */
export const PROFILES = ["fast", "class"] as const;
export type Profile = (typeof PROFILES)[number];
/** Whether a profile runs BFD. */
export const profileBfd = (p: Profile) => p === "fast";
/** The profile named by config `profile` (undefined: fast); anything else is refused by name. */
export function parseProfile(v: string | undefined): Profile {
  if (v === undefined || v === "") return "fast";
  if ((PROFILES as readonly string[]).includes(v)) return v as Profile;
  throw new Error(
    `ospf-ring: config profile "${v}" is not a profile; use ${PROFILES.join(" or ")} ` +
      `(pulumi config set profile class)`,
  );
}

/** FRR's integrated config for node n. */
export function frrConf(n: number, bfd = true): string {
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

/** /etc/frr/daemons: zebra and staticd always run; ospfd (and bfdd) on top. */
export const daemons = (bfd = true) =>
  [
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
export const startup = (n: number) =>
  [
    "modprobe dummy numdummies=0",
    "ip link show dummy0 >/dev/null 2>&1 || ip link add dummy0 type dummy",
    `ip addr add 192.168.100.${n}/32 dev dummy0`,
    "ip link set dummy0 up",
    "chown -R frr:frr /etc/frr",
    "/usr/lib/frr/frrinit.sh start",
    "",
  ].join("\n");

/** The addresses of node n: eth0 on link n, eth1 on the link before it. */
export const nicAddresses = (n: number): [string, string] => [
  `192.168.${n}.${n}/24`,
  `192.168.${prev(n)}.${n}/24`,
];
