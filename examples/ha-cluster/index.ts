// The seed's case study 1: a high-availability cluster of two nodes (`one`, `two`) and a
// client. The nodes heartbeat (heartbeat 3.0.6, v1 haresources manager) over three paths: a
// serial cross-over cable between their /dev/ttyS1, the public switch (eth0) and the private
// switch (eth1). Node one holds the service address 10.0.0.100; when it dies, two takes it
// over, and gives it back when one returns (auto_failback).
//
//              public switch 10.0.0.0/24
//     +-------------+-------------+
//   eth0 .1       eth0 .2       eth0 .10
//    one ==ttyS1== two           client
//   eth1 .1       eth1 .2
//     +-------------+
//     private switch 192.168.10.0/24
//
// Config (all optional):
//   heartbeat   false: do not start heartbeat at boot
//   cut         true: the serial cable is suspended (a fault)
//   publicDown / privateDown   true: that switch is suspended (a fault)
//   publicHub   true: the public switch is a vde hub instead of a uml_switch, captured (see below)
//   sniff       false: no pcap of the public hub (default: captured while it is a hub)
//
//   pulumi up                                   # boots; checks: 3 heartbeat links up, the service answers
//   umlab exec one -- cl_status listnodes       # two, one
//   umlab exec one -- cl_status hblinkstatus two /dev/ttyS1    # up (also eth0, eth1)
//   uml_mconsole $(pulumi stack output guests | jq -r '.[0].mconsole') halt   # two takes 10.0.0.100
import * as pulumi from "@pulumi/pulumi";
import * as umlab from "../../sdk";
import {
  PACKAGES,
  PUBLIC,
  PRIVATE,
  SERVICE_ADDRESS,
  haCf,
  haResources,
  authKeys,
  nodeStartup,
  CLUSTERMSG_FILE,
  clusterMsgFix,
  SHARED,
  EXPORT_DIR,
  CLIENT_MOUNT,
  WATCHDOG_SECONDS,
  WRITER,
  exportsFile,
  hanfsScript,
  clientStartup,
  writerScript,
} from "./cluster";

const config = new pulumi.Config();
const startHeartbeat = config.getBoolean("heartbeat") ?? true;

const lab = new umlab.Lab("lab");
const image = new umlab.Image("ha", { preset: "debian", packages: PACKAGES });
// publicHub: the public switch is a vde hub: every frame goes to every port, so a Capture (a
// port of its own, no privilege) records the heartbeats and the client's NFS traffic
// (`tcpdump -r`). Off by default. (One's initial resource acquisition once failed with it; the
// cause was heartbeat's, not the hub's: cluster.ts clusterMsgFix, README "Sniffing".)
const publicHub = config.getBoolean("publicHub") ?? false;
const publicSw = new umlab.Switch("public", {
  lab,
  ...(publicHub ? { engine: "vde" as const, hub: true } : {}),
  suspended: config.getBoolean("publicDown") ?? false,
});
const sniff = publicHub && (config.getBoolean("sniff") ?? true);
const capture = sniff ? new umlab.Capture("public-cap", { lab, switch: publicSw }) : undefined;
const privateSw = new umlab.Switch("private", { lab, suspended: config.getBoolean("privateDown") ?? false });
const cable = new umlab.SerialCable("hb", { lab, log: true, suspended: config.getBoolean("cut") ?? false });

// The shared disk: each node's ubd1 (/dev/ubdb). Both nodes attach it (attaching takes no
// lock); whoever mounts it holds UML's lock on the file, and the other's mount fails.
const shared = new umlab.SharedDisk("shared", { lab, sizeMiB: SHARED.sizeMiB, filesystem: "ext4" });

const rootOf = (name: string) =>
  new umlab.CowDisk(`${name}-root`, { lab, backing: image.path, backingVersion: image.sha256 });

const nodes = (["one", "two"] as const).map(
  (name, i) =>
    new umlab.Guest(name, {
      lab,
      disks: [rootOf(name), shared],
      nics: [
        { switch: publicSw, addresses: [`${PUBLIC[name]}/${PUBLIC.prefix}`] },
        { switch: privateSw, addresses: [`${PRIVATE[name]}/${PRIVATE.prefix}`] },
      ],
      serial: ["null", i === 0 ? cable.endA : cable.endB],
      files: {
        "/etc/ha.d/ha.cf": haCf(),
        "/etc/ha.d/haresources": haResources(),
        "/etc/ha.d/authkeys": authKeys("umlab-ha-lab"),
        "/etc/ha.d/resource.d/hanfs": hanfsScript(),
        "/etc/exports": exportsFile(),
        // heartbeat's ha_clustermsg in one write (cluster.ts clusterMsgFix; nodeStartup sources it)
        [CLUSTERMSG_FILE]: clusterMsgFix(),
      },
      // softdog, fed by heartbeat (ha.cf `watchdog /dev/umlab-watchdog`).
      watchdog: { timeoutSeconds: WATCHDOG_SECONDS },
      startup: nodeStartup(startHeartbeat),
    }),
);
const client = new umlab.Guest("client", {
  lab,
  disks: [rootOf("client")],
  nics: [{ switch: publicSw, addresses: [`${PUBLIC.client}/${PUBLIC.prefix}`] }],
  files: { [WRITER.script]: writerScript() },
  startup: `chmod 755 ${WRITER.script}\n${clientStartup()}`,
});

const hasAddress = new RegExp(`inet ${SERVICE_ADDRESS.replace(/\./g, "\\.")}/`);
const holding = `echo address=$(ip -4 -o addr show dev eth0 | grep -c 'inet ${SERVICE_ADDRESS}/') mount=$(grep -c ' ${SHARED.mountPoint} ' /proc/mounts)`;

// Up: node one sees all three heartbeat paths to two, holds the service address, and the
// client reaches it. (Not checked when heartbeat is not started.)
const ready = startHeartbeat
  ? new umlab.Checks("cluster", {
      checks: [
        ...["/dev/ttyS1", "eth0", "eth1"].map((link) =>
          umlab.check.command(nodes[0], ["cl_status", "hblinkstatus", "two", link], /^up$/m, {
            name: `one hears two over ${link}`,
          }),
        ),
        umlab.check.command(nodes[0], ["ip", "-4", "-o", "addr", "show", "dev", "eth0"], hasAddress, {
          name: `one holds ${SERVICE_ADDRESS}`,
        }),
        umlab.check.ping(client, SERVICE_ADDRESS, { name: `the client reaches ${SERVICE_ADDRESS}` }),
        // Exactly one node holds the resources: one has the address and the shared disk, two neither.
        umlab.check.command(nodes[0], holding, /^address=1 mount=1$/m, {
          name: `one holds ${SERVICE_ADDRESS} and ${SHARED.mountPoint}`,
        }),
        umlab.check.command(nodes[1], holding, /^address=0 mount=0$/m, {
          name: `two holds neither ${SERVICE_ADDRESS} nor ${SHARED.mountPoint}`,
        }),
        umlab.check.command(
          client,
          `grep -c '^${SERVICE_ADDRESS}:${EXPORT_DIR} ${CLIENT_MOUNT} nfs ' /proc/mounts`,
          /^1$/m,
          {
            name: `the client has ${SERVICE_ADDRESS}:${EXPORT_DIR} mounted at ${CLIENT_MOUNT}`,
          },
        ),
      ],
      // Generous: on a loaded host, heartbeat takes minutes to mount, start NFS and add the address.
      deadlineSeconds: 420,
      failOnError: true,
    })
  : undefined;

export const checks = ready?.summary;
export const checksOk = ready?.ok;
export const labDir = lab.dir;
export const imagePath = image.path;
export const serviceAddress = SERVICE_ADDRESS;
export const cableLog = cable.logPath;
/** The pcap of the public switch (`tcpdump -r`), when it is captured. */
export const publicPcap = capture?.path;
export const sharedDisk = shared.path;
export const exportPath = `${SERVICE_ADDRESS}:${EXPORT_DIR}`;
export const guests = pulumi
  .all(
    [...nodes, client].map((g) => pulumi.all([g.name, g.pid, g.instance, g.mconsole, g.guestDir, g.bootId])),
  )
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
