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

/** The Guest's softdog (the `watchdog` option links it here); heartbeat feeds it. */
export const WATCHDOG_DEVICE = "/dev/umlab-watchdog";

/** /etc/ha.d/ha.cf: heartbeats over the serial cable (ttyS1) and broadcasts on both Ethernets. */
export function haCf(
  t: HeartbeatTiming = DEFAULT_TIMING,
  autoFailback = true,
  watchdog: string | null = WATCHDOG_DEVICE,
): string {
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
    ...(watchdog ? [`watchdog ${watchdog}`] : []),
    `auto_failback ${autoFailback ? "on" : "off"}`,
    "crm no",
    ...NODES.map((n) => `node ${n}`),
    "",
  ].join("\n");
}

/** The shared disk (SharedDisk, each node's ubd1) and where the holder mounts it. */
export const SHARED = { device: "/dev/ubdb", mountPoint: "/srv/ha", fstype: "ext4", sizeMiB: 64 };
/** The NFS export (a directory of the shared disk) and the NFS state kept beside it. */
export const EXPORT_DIR = `${SHARED.mountPoint}/data`;
export const NFS_STATE_DIR = `${SHARED.mountPoint}/nfs-state`;
/** Where the client mounts the export (through the service address). */
export const CLIENT_MOUNT = "/mnt/ha";
/** The softdog margin (seconds): below heartbeat's deadtime, so a node whose heartbeat froze
 * reboots (and lets go of the shared disk) before its peer takes the resources over. */
export const WATCHDOG_SECONDS = 5;

/**
 * /etc/ha.d/haresources: node one prefers the resources (v1 resource manager). They start left
 * to right and stop right to left: the shared disk is mounted, then the NFS server starts on it,
 * then the service address comes up (so a client never reaches an address with no server);
 * giving up, the address goes first and the disk last.
 * IPaddr2 (iproute2), not IPaddr: bookworm's IPaddr calls `ifconfig` (net-tools).
 */
export function haResources(): string {
  return (
    [
      "one",
      `Filesystem::${SHARED.device}::${SHARED.mountPoint}::${SHARED.fstype}`,
      "hanfs",
      `IPaddr2::${SERVICE_ADDRESS}/${PUBLIC.prefix}/eth0`,
    ].join(" ") + "\n"
  );
}

/**
 * /etc/exports of both nodes. `fsid=1`: the file handles name the export by this number, not by
 * the device, so the handles a client holds stay valid on the other node (no ESTALE).
 * `sync`: the server acknowledges a write only once it is on the shared disk.
 */
export function exportsFile(): string {
  return `${EXPORT_DIR} ${PUBLIC.client}/32(rw,sync,no_subtree_check,no_root_squash,fsid=1)\n`;
}

/**
 * /etc/ha.d/resource.d/hanfs: the NFS server as a v1 resource (start/stop/status), run after
 * the shared disk is mounted. /var/lib/nfs (rmtab, statd's state, v4 recovery) is bind-mounted
 * from the shared disk so it moves with the service; NFSv4 grace and lease are cut to the
 * kernel's minimum (10 s) before nfsd starts (they can only be set while it is down).
 */
export function hanfsScript(): string {
  return `#!/bin/sh
# hanfs start|stop|status (heartbeat v1 resource; umlab examples/ha-cluster)
state=${NFS_STATE_DIR}
case "$1" in
start)
	mkdir -p ${EXPORT_DIR}
	[ -d "$state" ] || cp -a /var/lib/nfs "$state"
	mountpoint -q /var/lib/nfs || mount --bind "$state" /var/lib/nfs
	modprobe nfsd
	mountpoint -q /proc/fs/nfsd || mount -t nfsd nfsd /proc/fs/nfsd
	echo 10 >/proc/fs/nfsd/nfsv4gracetime
	echo 10 >/proc/fs/nfsd/nfsv4leasetime
	/etc/init.d/nfs-kernel-server start
	exportfs -ra
	;;
stop)
	/etc/init.d/nfs-kernel-server stop
	exportfs -ua 2>/dev/null
	[ -e /proc/fs/nfsd/threads ] && echo 0 >/proc/fs/nfsd/threads
	if mountpoint -q /var/lib/nfs; then umount /var/lib/nfs || umount -l /var/lib/nfs; fi
	exit 0
	;;
status)
	if [ "$(cat /proc/fs/nfsd/threads 2>/dev/null || echo 0)" -gt 0 ] && mountpoint -q /var/lib/nfs; then
		echo running
	else
		echo stopped
	fi
	;;
*)
	echo "usage: $0 start|stop|status" >&2
	exit 1
	;;
esac
exit 0
`;
}

/** /etc/ha.d/authkeys (mode 600 is set by the startup script). */
export function authKeys(secret: string): string {
  return `auth 1\n1 sha1 ${secret}\n`;
}

/** heartbeat's shell functions (sourced by its resource scripts, hb_standby, hb_takeover, ...). */
export const SHELLFUNCS = "/etc/ha.d/shellfuncs";
/** The nodes' replacement of ha_clustermsg (clusterMsgFix), sourced at the end of SHELLFUNCS. */
export const CLUSTERMSG_FILE = "/etc/ha.d/umlab-clustermsg";

/**
 * ha_clustermsg, the shell function by which heartbeat's scripts send a cluster message, in one
 * write. heartbeat 3.0.6's own (SHELLFUNCS) is
 *   (echo ">>>"; cat -; echo "<<<") | cat - >> $HA_FIFO
 * so the FIFO gets a message in pieces: ">>>" at once, the body only once the inner `cat` has
 * been forked and run (tens to hundreds of ms in a busy UML guest). heartbeat's FIFO reader
 * (heartbeat.c fifo_child) reads each message under a 1 s alarm (`setmsalarm(1000)`, SIGALRM
 * set to interrupt reads): when the alarm falls between ">>>" and the body, fgets fails, and
 * cluster-glue's msgfromstream_string returns the message read so far: none of its fields.
 * The reader then logs "ERROR: msg2string: Message with zero fields" and drops it (the body
 * that follows is skipped as noise before the next ">>>"). At the first `pulumi up` the lost
 * message was req_resource's `t=ip-request-resp ... ok=OK` that node one sends itself to take
 * its resources (auto_failback on: it asks nobody): one never took them, and nobody else did.
 * Here the message is put together in a file first, and `cat` of that small file writes it
 * in one write(2), which a FIFO delivers whole (below PIPE_BUF): one read gets all of it.
 */
export function clusterMsgFix(): string {
  return `# umlab examples/ha-cluster (cluster.ts clusterMsgFix): heartbeat's ha_clustermsg in one write,
# so that heartbeat's FIFO reader, which reads under a 1 s alarm, never gets half a message.
ha_clustermsg() {
	_umlab_msg=$(mktemp /tmp/ha_clustermsg.XXXXXX) || return 1
	{ echo ">>>"; cat -; echo "<<<"; } >"$_umlab_msg"
	cat "$_umlab_msg" >>"$HA_FIFO"
	_umlab_rc=$?
	rm -f "$_umlab_msg"
	return $_umlab_rc
}
`;
}

/** In the guest's contract folder: there after an in-guest reboot, not after a boot by umlab. */
export const REBOOT_MARKER = "/umlab/state/ha-heartbeat-started";
/** The longest a node rebooted in place waits for its peer's takeover before starting heartbeat (s). */
export const REJOIN_WAIT_SECONDS = 120;

/**
 * A node's startup:
 * - /run/lock/subsys (the init script's lock; /var/lock -> /run/lock, a fresh tmpfs), without
 *   which heartbeat cannot take the UUCP lock of /dev/ttyS1 ("glib: cannot lock line
 *   /dev/ttyS1", then "Emergency Shutdown: Master Control process died");
 * - rpcbind (NFSv3's mountd registers with it), after /run/sendsigs.omit.d (its init script
 *   links its pid file there, and says `failed!` without it);
 * - the hanfs resource executable, authkeys private (heartbeat refuses a readable one),
 *   heartbeat's ha_clustermsg replaced by clusterMsgFix's (CLUSTERMSG_FILE, a file of the
 *   Guest's `files`, sourced at the end of SHELLFUNCS), then
 *   heartbeat, which opens the watchdog: from then on a heartbeat that stops feeding it
 *   (frozen, killed, or stopped: softdog has nowayout) reboots the node.
 * - After an in-guest reboot (softdog; REBOOT_MARKER is in the guest's state folder, which
 *   umlab writes afresh only when it boots the guest itself), heartbeat starts in the
 *   background only once the peer's takeover is over: while the peer answers on the public
 *   network and the service address does not (at most REJOIN_WAIT_SECONDS), then 10 s more.
 *   A node that rejoins during the peer's takeover (a softdog reboot takes ~20 s, the
 *   takeover a minute) hits heartbeat 3.0.6's v1 race: the peer logs "T_STARTING received
 *   during takeover", releases the resources for auto_failback while its takeover still runs,
 *   and that takeover's IPaddr2 start then runs after the release: both hold the address.
 *   A boot by umlab (`pulumi up`, a restore after a split brain) starts heartbeat at once.
 */
export function nodeStartup(start: boolean): string {
  const [a1, a2] = [PUBLIC.one, PUBLIC.two];
  const rejoin = [
    `for a in ${a1} ${a2}; do ip -4 -o addr show dev eth0 | grep -q "inet $a/" || peer=$a; done`,
    `n=0`,
    `while [ $n -lt ${REJOIN_WAIT_SECONDS} ] && ping -c 1 -W 1 "$peer" >/dev/null && ! ping -c 1 -W 1 ${SERVICE_ADDRESS} >/dev/null; do sleep 2; n=$((n + 4)); done`,
    `echo "rejoin after an in-guest reboot: waited $n s for the takeover of the peer"`,
    `sleep 10`,
    `/etc/init.d/heartbeat start`,
  ].join("; ");
  return [
    "set -e",
    "mkdir -p /run/lock/subsys /run/sendsigs.omit.d " + SHARED.mountPoint,
    "/etc/init.d/rpcbind start || true",
    "chmod 755 /etc/ha.d/resource.d/hanfs",
    "chmod 600 /etc/ha.d/authkeys",
    // heartbeat's scripts then use clusterMsgFix's ha_clustermsg (once: the root disk keeps it).
    `grep -qxF '. ${CLUSTERMSG_FILE}' ${SHELLFUNCS} || echo '. ${CLUSTERMSG_FILE}' >>${SHELLFUNCS}`,
    ...(start
      ? [
          `if [ -e ${REBOOT_MARKER} ]; then`,
          `	setsid sh -c '${rejoin}' </dev/null >/var/log/ha-rejoin.log 2>&1 &`,
          "else",
          `	touch ${REBOOT_MARKER}`,
          "	/etc/init.d/heartbeat start",
          "fi",
        ]
      : []),
    "",
  ].join("\n");
}

/**
 * The client's NFS mount options. NFSv3: no open or lease state on the server, so the node
 * taking over serves the client's next request at once (NFSv4 would hold its OPENs through
 * the new server's grace period). hard: a request is retried until a server answers, never
 * failed (the writer hangs through a failover instead of seeing EIO). nolock: no NLM/statd on
 * the client (the writer takes no locks). sync: a write returns once the server has it (its
 * export is `sync` too: on the shared disk). timeo=10,retrans=3: the first retry after 1 s.
 */
export const CLIENT_MOUNT_OPTIONS = "vers=3,proto=tcp,hard,sync,nolock,timeo=10,retrans=3";

/** The client's mount command (argv). */
export function clientMountArgv(): string[] {
  return ["mount", "-t", "nfs", "-o", CLIENT_MOUNT_OPTIONS, `${SERVICE_ADDRESS}:${EXPORT_DIR}`, CLIENT_MOUNT];
}

/**
 * The client's startup: mounts the export once the service serves it, retrying in the
 * background (the cluster may come up after the client).
 */
export function clientStartup(): string {
  return [
    `mkdir -p ${CLIENT_MOUNT}`,
    `setsid sh -c 'until ${clientMountArgv().join(" ")}; do sleep 2; done' </dev/null >/var/log/ha-mount.log 2>&1 &`,
    "",
  ].join("\n");
}

// --- the client writer: numbered records through a failover --------------------------------

/** Where the writer appends its records (on the export) and logs what was acknowledged (local). */
export const WRITER = {
  script: "/usr/local/bin/ha-writer",
  records: `${CLIENT_MOUNT}/records`,
  log: "/var/log/ha-writer.log",
};

/**
 * The writer's script (install it at WRITER.script in the client): `ha-writer <file> <log>
 * [interval]` appends `rec <n>` to <file> (on the hard, synchronous NFS mount: the append
 * returns once the server has it on disk) and, once it returned, logs `ack <n> <epoch s.ms>`;
 * a failed append logs `err <n> <epoch s.ms> <message>` and is tried again.
 * Start it detached: `setsid ha-writer ... </dev/null >/dev/null 2>&1 &`; stop it by creating
 * `<log>.stop`.
 */
export function writerScript(): string {
  return `#!/bin/sh
# ha-writer <file> <log> [interval seconds] (umlab examples/ha-cluster)
f=$1 log=$2 iv=\${3:-0.2}
n=1
rm -f "$log.stop"
while [ ! -e "$log.stop" ]; do
	if msg=$( (printf 'rec %d\\n' "$n" >>"$f") 2>&1); then
		echo "ack $n $(date +%s.%3N)" >>"$log"
		n=$((n + 1))
	else
		echo "err $n $(date +%s.%3N) $(echo "$msg" | tr '\\n' ' ')" >>"$log"
		sleep 1
	fi
	sleep "$iv"
done
`;
}

/** The shell line (in the client) that starts the writer detached from the request. */
export function startWriterCommand(intervalSeconds = 0.2): string {
  return `: >${WRITER.log}; rm -f ${WRITER.records}; setsid ${WRITER.script} ${WRITER.records} ${WRITER.log} ${intervalSeconds} </dev/null >/dev/null 2>&1 &`;
}

/** One line of the writer's log. */
export interface WriterEvent {
  kind: "ack" | "err";
  /** The record number. */
  n: number;
  /** Client clock, seconds since the epoch. */
  t: number;
  /** The error message (err lines). */
  message?: string;
}

/** The writer's log, parsed. Lines that are not the writer's are returned in `bad`. */
export function parseWriterLog(text: string): { events: WriterEvent[]; bad: string[] } {
  const events: WriterEvent[] = [];
  const bad: string[] = [];
  for (const line of text.split("\n")) {
    if (line.trim() === "") continue;
    const m = /^(ack|err) (\d+) (\d+(?:\.\d+)?)(?: (.*))?$/.exec(line);
    if (!m || (m[1] === "ack" && m[4] !== undefined)) {
      bad.push(line);
      continue;
    }
    const ev: WriterEvent = { kind: m[1] as "ack" | "err", n: Number(m[2]), t: Number(m[3]) };
    if (m[1] === "err") ev.message = (m[4] ?? "").trim();
    events.push(ev);
  }
  return { events, bad };
}

export interface RecordsVerdict {
  ok: boolean;
  /** What is wrong, one line each (empty when ok). */
  problems: string[];
  /** The highest acknowledged record (0: none). */
  lastAcked: number;
  /** How many records the file holds. */
  records: number;
  /** The writer's err lines (e.g. "Stale file handle"). */
  errors: WriterEvent[];
}

/**
 * Does the file read back (`records`, the text of WRITER.records) hold every acknowledged
 * record of the log, in order? It must be `rec 1`, `rec 2`, ... with no gap, no repeat and no
 * other line, and reach at least the last acknowledged record. Read the log first, then the file:
 * while the writer runs, the file may hold records past the log's last ack (the one in flight,
 * and those acknowledged after the log was read); they are fine. Acks must be 1, 2, ... in order, and the log must
 * hold no error (a stale file handle or any other failed append is a problem).
 */
export function verifyRecords(records: string, log: string): RecordsVerdict {
  const problems: string[] = [];
  const { events, bad } = parseWriterLog(log);
  for (const b of bad) problems.push(`log: not a writer line: ${JSON.stringify(b)}`);
  const errors = events.filter((e) => e.kind === "err");
  for (const e of errors) problems.push(`log: record ${e.n} failed: ${e.message}`);
  const acks = events.filter((e) => e.kind === "ack");
  acks.forEach((a, i) => {
    if (a.n !== i + 1) problems.push(`log: ack #${i + 1} is for record ${a.n}`);
  });
  const lastAcked = acks.length === 0 ? 0 : acks[acks.length - 1].n;
  const lines = records.split("\n");
  if (lines[lines.length - 1] === "") lines.pop();
  lines.forEach((l, i) => {
    if (l !== `rec ${i + 1}`)
      problems.push(`file: line ${i + 1} is ${JSON.stringify(l)}, want "rec ${i + 1}"`);
  });
  if (lines.length < lastAcked)
    problems.push(`file: ${lines.length} records, but records up to ${lastAcked} were acknowledged`);
  return { ok: problems.length === 0, problems, lastAcked, records: lines.length, errors };
}

export interface Outage {
  /** The longest time between two successive acknowledgements in the window (seconds). */
  seconds: number;
  /** The acknowledgements around it (record numbers; `after` undefined: none came after). */
  before?: number;
  after?: number;
}

/**
 * The client's outage in the window [from, to] (client clock, epoch seconds): the longest gap
 * between successive acknowledgements that overlaps the window. When no acknowledgement came
 * after the window started, the gap runs to `to` (`after` undefined: the writer never
 * recovered). Acks are taken in time order.
 */
export function outage(log: string | WriterEvent[], from: number, to: number): Outage {
  if (!(to >= from)) throw new Error(`outage: the window ends (${to}) before it starts (${from})`);
  const acks = (typeof log === "string" ? parseWriterLog(log).events : log)
    .filter((e) => e.kind === "ack")
    .sort((a, b) => a.t - b.t);
  let best: Outage = { seconds: 0 };
  const consider = (o: Outage) => {
    if (o.seconds > best.seconds) best = o;
  };
  const firstIn = acks.findIndex((a) => a.t > from);
  if (firstIn === -1) {
    const last = acks[acks.length - 1];
    return { seconds: to - (last ? last.t : from), before: last?.n };
  }
  for (let i = Math.max(1, firstIn); i < acks.length && acks[i - 1].t < to; i++)
    consider({ seconds: acks[i].t - acks[i - 1].t, before: acks[i - 1].n, after: acks[i].n });
  if (firstIn === 0) consider({ seconds: acks[0].t - from, after: acks[0].n });
  const last = acks[acks.length - 1];
  if (last.t < to) consider({ seconds: to - last.t, before: last.n });
  return best;
}
