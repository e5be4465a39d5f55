// The cluster's addressing and heartbeat configuration, shared by the program (index.ts) and
// the tests. Pure: no resources.

/** The Debian packages of the cluster image (bookworm: heartbeat 3.0.6, nfs-utils 2.6.2). */
export const PACKAGES = [
  "heartbeat",
  "iputils-ping",
  "netcat-openbsd",
  "nfs-common",
  "nfs-kernel-server",
  "psmisc",
  "rpcbind",
];

export const NODES = ["one", "two"] as const;
export type NodeName = (typeof NODES)[number];

/** Public network (eth0 of every host): nodes .1 and .2, the client .10, the service .100. */
export const PUBLIC = { one: "10.0.0.1", two: "10.0.0.2", client: "10.0.0.10", prefix: 24 };
export const SERVICE_ADDRESS = "10.0.0.100";
/** Private network (the nodes' eth1). */
export const PRIVATE = { one: "192.168.10.1", two: "192.168.10.2", prefix: 24 };

export interface HeartbeatTiming {
  /** Seconds between heartbeats. */
  keepalive: number;
  /** Seconds of silence before a node is declared dead. */
  deadtime: number;
  /** Seconds after start before the first deadtime applies. */
  initdead: number;
}
export const DEFAULT_TIMING: HeartbeatTiming = { keepalive: 1, deadtime: 10, initdead: 20 };

/** /etc/ha.d/ha.cf: heartbeats over the serial cable (ttyS1) and broadcasts on both Ethernets. */
export function haCf(t: HeartbeatTiming = DEFAULT_TIMING, autoFailback = true): string {
  return [
    "logfile /var/log/ha-log",
    "logfacility none",
    "use_logd no",
    `keepalive ${t.keepalive}`,
    `warntime ${Math.max(1, Math.floor(t.deadtime / 2))}`,
    `deadtime ${t.deadtime}`,
    `initdead ${t.initdead}`,
    "baud 19200",
    "serial /dev/ttyS1",
    "udpport 694",
    "bcast eth0 eth1",
    `auto_failback ${autoFailback ? "on" : "off"}`,
    "crm no",
    ...NODES.map((n) => `node ${n}`),
    "",
  ].join("\n");
}

/**
 * /etc/ha.d/haresources: node one prefers the service address (v1 resource manager).
 * IPaddr2 (iproute2), not IPaddr: bookworm's IPaddr calls `ifconfig` (net-tools).
 */
export function haResources(): string {
  return `one IPaddr2::${SERVICE_ADDRESS}/${PUBLIC.prefix}/eth0\n`;
}

/** /etc/ha.d/authkeys (mode 600 is set by the startup script). */
export function authKeys(secret: string): string {
  return `auth 1\n1 sha1 ${secret}\n`;
}

/**
 * A node's startup:
 * - /run/lock/subsys (the init script's lock; /var/lock -> /run/lock, a fresh tmpfs), without
 *   which heartbeat cannot take the UUCP lock of /dev/ttyS1 ("glib: cannot lock line
 *   /dev/ttyS1", then "Emergency Shutdown: Master Control process died");
 * - authkeys private (heartbeat refuses a readable one), then heartbeat.
 */
export function nodeStartup(start: boolean): string {
  return [
    "set -e",
    "mkdir -p /run/lock/subsys",
    "chmod 600 /etc/ha.d/authkeys",
    ...(start ? ["/etc/init.d/heartbeat start"] : []),
    "",
  ].join("\n");
}
