// The drills, in the talk's order. Each prints its steps (what it does, what to watch), does
// them, watches the cluster and the client, and restores the cluster at the end.
import * as fs from "fs";
import type { Drill, DrillRun, ManualSeen } from "./runner";
import type { FaultKey } from "./stack";
import {
  decodeCableLog,
  HEARTBEAT_PORT,
  NFS_PORT,
  packetLine,
  parseTcpdump,
  summarizePackets,
} from "./sniff";
import { run } from "../../../provider/host/process";
import { CLIENT_MOUNT, EXPORT_DIR, WRITER } from "../cluster";

const other = (n: string) => (n === "one" ? "two" : "one");
const HB = "for d in /usr/share/heartbeat /usr/lib/heartbeat; do [ -x $d/%s ] && exec $d/%s; done; exit 127";
const hbTool = (tool: string) => HB.replace(/%s/g, tool);

/** A node-kill drill: the holder dies by `how`; the other takes over; pulumi boots it again. */
function killDrill(
  name: string,
  summary: string,
  how: string,
  kill: (d: DrillRun, victim: string) => Promise<void>,
): Drill {
  return {
    name,
    summary,
    async run(d) {
      const victim = await d.begin();
      const heir = other(victim);
      d.step(
        `Kill ${victim}, the holder: ${how}`,
        `${heir} logs "node ${victim}: is dead" after deadtime (10 s), then "mach_down takeover complete"; ` +
          "the client's writer hangs (hard mount), then continues",
      );
      await d.measure(
        `${name} (${victim} -> ${heir})`,
        () => kill(d, victim),
        () => d.cluster.holdsService(heir),
      );
      d.result.holdersDuring = await d.cluster.holders();
      d.note(`${victim}'s UML process ${d.cluster.alive(victim) ? "is still running" : "is gone"}`);
      await d.logs();
      await d.restore([], true);
    },
  };
}

/** The holder's heartbeat frozen: its softdog (5 s, nowayout) reboots it inside the same UML
 * process; the other takes over; the rebooted node rejoins and auto_failback gives it the
 * resources back. */
const watchdogDrill: Drill = {
  name: "watchdog",
  summary:
    "starve the holder's softdog (heartbeat frozen with SIGSTOP): the watchdog reboots it, the other takes over, it rejoins and takes the resources back",
  async run(d) {
    const victim = await d.begin();
    const heir = other(victim);
    const bootId = async () =>
      (await d.cluster.mconsole(victim, ["proc", "sys/kernel/random/boot_id"]).catch(() => "")).trim();
    const before = await bootId();
    const pid = d.cluster.guest(victim).pid;
    d.step(
      `Freeze heartbeat on ${victim}: kill -STOP $(pidof heartbeat) (nothing feeds /dev/umlab-watchdog now)`,
      `softdog reboots ${victim} 5 s later (the same UML process, a new boot id); ${heir} logs ` +
        `"node ${victim}: is dead" after deadtime (10 s) and takes over; the writer hangs, then continues`,
    );
    await d.measure(
      `watchdog failover (${victim} -> ${heir})`,
      async () => void (await d.cluster.sh(victim, "kill -STOP $(pidof heartbeat)", 10_000)),
      async () => (await d.cluster.holdsService(heir)) && !(await d.cluster.holdsService(victim)),
      300_000,
    );
    d.result.holdersDuring = await d.cluster.holders();
    const after = await bootId();
    d.note(
      `${victim}: UML process ${d.cluster.alive(victim) && d.cluster.guest(victim).pid === pid ? "the same (pid " + pid + ")" : "gone"}, ` +
        `boot id ${after && after !== before ? `changed (${before.slice(0, 8)} -> ${after.slice(0, 8)}): softdog rebooted it` : "unchanged: it did NOT reboot"}`,
    );
    d.step(
      `${victim} rejoins after its reboot: auto_failback`,
      `${heir} gives the address, NFS and the disk back; ${victim} takes them; another pause of the writer`,
    );
    await d.measure(
      `watchdog failback (${heir} -> ${victim})`,
      async () => undefined,
      async () => (await d.cluster.holders()).join() === victim,
      420_000,
    );
    await d.logs();
    await d.restore();
  },
};

/** A network-fault drill: `faults` on for `holdSeconds`, the cluster watched, then off. */
function faultDrill(
  name: string,
  summary: string,
  faults: FaultKey[],
  watch: string,
  expectMove: boolean,
): Drill {
  return {
    name,
    summary,
    async run(d) {
      const holder = await d.begin();
      d.step(
        `Suspend ${faults.join(" + ")}: pulumi config set ${faults.map((f) => `${f} true`).join(", ")}; pulumi up`,
        watch,
      );
      const moved = async () =>
        (await d.cluster.holders()).length !== 1 || !(await d.cluster.holdsService(holder));
      await d.measure(
        `${name}`,
        async () => {
          await d.stack.setConfig(Object.fromEntries(faults.map((f) => [f, "true"])));
          await d.stack.up();
        },
        // Hold the fault past deadtime (10 s) twice over, then look.
        async () => (expectMove ? await moved() : (await new Promise((r) => setTimeout(r, 25_000)), true)),
        expectMove ? 120_000 : 60_000,
      );
      await d.show();
      const holders = await d.cluster.holders();
      d.result.holdersDuring = holders;
      d.note(`holders of ${d.cluster.o.serviceAddress} with the fault on: ${holders.join(" + ") || "none"}`);
      await d.logs();
      await d.restore(faults);
    },
  };
}

// heartbeat's v1 resource scripts, run by hand (heartbeat does not watch v1 resources).
const RES = "/etc/ha.d/resource.d";
const ip = (op: string) => `${RES}/IPaddr2 10.0.0.100/24/eth0 ${op}`;
const nfs = (op: string) => `${RES}/hanfs ${op}`;
const fsys = (op: string) => `${RES}/Filesystem /dev/ubdb /srv/ha ext4 ${op}`;
const EXPORT = EXPORT_DIR;
const CLIENT_DIR = CLIENT_MOUNT;
const LOG = WRITER.log;

/** Steps run in order on nodes; each printed with its output's last line. */
async function byHand(d: DrillRun, steps: [string, string][]): Promise<void> {
  for (const [node, line] of steps) {
    const r = await d.cluster.sh(node, `${line} 2>&1 | tail -n 2`, 120_000);
    d.note(`${node}: ${line} -> ${(r?.out.trim() || "(no answer)").replace(/\n/g, " | ")}`);
  }
}

/** Move the resources from `a` to `b` by hand in the right order (address, NFS, disk off; disk, NFS, address on). */
const moveSteps = (a: string, b: string): [string, string][] => [
  [a, ip("stop")],
  [a, nfs("stop")],
  [a, fsys("stop")],
  [b, fsys("start")],
  [b, nfs("start")],
  [b, ip("start")],
];

/** The wrong order: `b` takes the address and starts NFS before it has the disk ... */
const wrongFirst = (a: string, b: string): [string, string][] => [
  [a, ip("stop")],
  [b, ip("start")],
  [b, nfs("start")],
];
/** ... and the disk follows later. */
const wrongThen = (a: string, b: string): [string, string][] => [
  [a, nfs("stop")],
  [a, fsys("stop")],
  [b, nfs("stop")],
  [b, fsys("start")],
  [b, nfs("start")],
];

/** Seconds the wrong state (address and NFS on the heir, the disk on the holder) is held. */
export const WRONG_WINDOW_S = 15;

function manualFailover(name: string, summary: string, wrong: boolean): Drill {
  return {
    name,
    summary,
    async run(d) {
      const holder = await d.begin();
      const heir = other(holder);
      d.step(
        wrong
          ? `By hand, the address first: ${heir} takes 10.0.0.100 and starts NFS while ${holder} still has the disk (held ${WRONG_WINDOW_S} s); then the disk follows`
          : `By hand on ${holder}: IPaddr2 stop, hanfs stop, Filesystem stop; on ${heir}: Filesystem start, hanfs start, IPaddr2 start`,
        wrong
          ? `the client's requests reach ${heir}, whose export (fsid=1) is the empty ${EXPORT} of its root disk: ` +
              "the writer's records go there (or fail with a stale handle) and are hidden once the shared disk is mounted over it"
          : "the writer hangs while nothing holds the address, then continues; no record lost, no stale handle",
      );
      const seen: ManualSeen = { clientListing: "", heirRootRecords: 0, writerErrors: [] };
      await d.measure(
        `${name} (${holder} -> ${heir})`,
        async () => {
          if (!wrong) return byHand(d, moveSteps(holder, heir));
          await byHand(d, wrongFirst(holder, heir));
          await new Promise((r) => setTimeout(r, WRONG_WINDOW_S * 1000));
          // What the client sees now: the heir's export, not the shared disk.
          const c = await d.cluster.sh(
            "client",
            `timeout -s KILL 15 ls ${CLIENT_DIR}; echo "records: $(timeout -s KILL 10 wc -l < ${CLIENT_DIR}/records)"`,
            40_000,
          );
          seen.clientListing = (c?.out.trim() || "(no answer)").replace(/\n/g, "; ");
          d.note(`the client's ${CLIENT_DIR} while ${heir} serves without the disk: ${seen.clientListing}`);
          const h = await d.cluster.sh(
            heir,
            `mountpoint -q /srv/ha && echo mounted || echo "/srv/ha is ${heir}'s root disk"; ls ${EXPORT}`,
          );
          d.note(`${heir}: ${(h?.out.trim() || "(no answer)").replace(/\n/g, "; ")}`);
          await byHand(d, wrongThen(holder, heir));
        },
        () => d.cluster.holdsService(heir),
      );
      d.result.holdersDuring = await d.cluster.holders();
      if (wrong) {
        // The writer's errors, and what the wrong order left on the heir's root disk under the
        // mount point (the records acknowledged there), which is then removed.
        const e = await d.cluster.sh("client", `grep '^err' ${LOG} | tail -n 3`);
        seen.writerErrors = (e?.out.trim() ?? "").split("\n").filter((l) => l);
        const r = await d.cluster.sh(
          heir,
          `${nfs("stop")} >/dev/null 2>&1; ${fsys("stop")} >/dev/null 2>&1; ` +
            `echo "root-disk records: $(cat ${EXPORT}/records 2>/dev/null | wc -l)"; ` +
            `rm -rf ${EXPORT} /srv/ha/nfs-state; ${fsys("start")} >/dev/null 2>&1; ${nfs("start")} >/dev/null 2>&1`,
          180_000,
        );
        seen.heirRootRecords = Number(/root-disk records: (\d+)/.exec(r?.out ?? "")?.[1] ?? 0);
        d.note(
          `acknowledged records written to ${heir}'s root disk under ${EXPORT} (hidden by the shared disk's mount, then removed): ${seen.heirRootRecords}`,
        );
        d.note(`the writer's errors: ${seen.writerErrors.length ? seen.writerErrors.join(" | ") : "none"}`);
      }
      d.result.manual = seen;
      d.step(
        `Back by hand in the right order: ${heir} -> ${holder}`,
        "heartbeat's view (the holder owns them) is true again",
      );
      await byHand(d, moveSteps(heir, holder));
      await d.logs();
      await d.restore();
    },
  };
}

/** Seconds of traffic the sniff drill reads back from the public switch's pcap. */
export const SNIFF_SECONDS = 6;

/** The public hub's pcap (Capture on the vde hub) read with `tcpdump -r`: heartbeat and NFS. */
async function sniffPublic(d: DrillRun): Promise<void> {
  const pcap = d.cluster.o.publicPcap as string | undefined;
  if (!pcap) {
    d.step(
      "Listen on the client for heartbeat's broadcasts (UDP 694 on the public switch) for 4 s",
      "the plain-text heartbeat messages (t=status, st=active, src=one/two, seq, hg, ts)",
    );
    d.note(
      "the public switch is not captured (config publicHub/sniff false): listening with nc on the client",
    );
    const r = await d.cluster.sh(
      "client",
      "timeout 4 nc -u -l -p 694 | tr -c '[:print:]\\n' '.' | head -c 1200; echo",
      20_000,
    );
    d.print((r?.out ?? "(no answer)").replace(/^/gm, "      "));
    d.note(`heartbeat packets read on the client: ${/t=status/.test(r?.out ?? "") ? "yes" : "no"}`);
    d.result.sniff = { heartbeatText: r?.out ?? "" };
    return;
  }
  d.step(
    `The client writes and reads ${CLIENT_DIR}/sniff for ${SNIFF_SECONDS} s; then tcpdump -r ${pcap}`,
    "heartbeat's broadcasts from one and two (UDP 694, plain text: t=status, st=active, src=, seq=), " +
      `the client's NFS requests to ${d.cluster.o.serviceAddress}:2049 (write, getattr, ...) and the holder's replies`,
  );
  // The capture stamps frames with the host's clock.
  const since = Date.now() / 1000;
  await d.cluster.sh(
    "client",
    `i=0; while [ $i -lt ${SNIFF_SECONDS * 5} ]; do echo "sniff $i" >>${CLIENT_DIR}/sniff; i=$((i+1)); sleep 0.2; done; ` +
      `wc -l < ${CLIENT_DIR}/sniff; rm -f ${CLIENT_DIR}/sniff`,
    60_000,
  );
  // tcpdump reads the file while the capture still writes it (a last partial frame: exit 1).
  const filter = ["udp", "port", String(HEARTBEAT_PORT), "or", "tcp", "port", String(NFS_PORT)];
  const r = await run("tcpdump", ["-r", pcap, "-nn", "-tt", ...filter], { allowFailure: true });
  const packets = parseTcpdump(r.stdout).filter((p) => p.time >= since);
  const s = summarizePackets(packets);
  const shown = [
    ...packets.filter((p) => p.dport === HEARTBEAT_PORT).slice(0, 4),
    ...packets.filter((p) => /NFS (request|reply)/.test(p.rest)).slice(0, 6),
  ];
  for (const p of shown) d.print(`      ${packetLine(p)}`);
  // The last heartbeat packet's payload as text (tcpdump -A): heartbeat's messages are plain text.
  const a = await run("tcpdump", ["-r", pcap, "-nn", "-A", "udp", "port", String(HEARTBEAT_PORT)], {
    allowFailure: true,
  });
  const last = a.stdout.split(/\n(?=\d\d:\d\d:\d\d\.\d+ IP )/).pop() ?? "";
  const text = (last.match(/[a-z]+=[^\s,]+/g) ?? []).join(" ");
  d.print(`      a heartbeat packet's payload: ${text.slice(0, 240)}`);
  d.result.sniff = { pcap, summary: s, heartbeatText: text };
  d.note(
    `pcap ${pcap}, last ${SNIFF_SECONDS} s: ${s.packets} heartbeat/NFS packets; heartbeat from ` +
      `${
        Object.entries(s.heartbeat)
          .map(([k, v]) => `${k} ${v}`)
          .join(", ") || "nobody"
      }; ` +
      `NFS: ${s.nfs.requests} requests from ${s.nfs.from.join(", ") || "nobody"} (${Object.entries(s.nfs.ops)
        .map(([k, v]) => `${k} ${v}`)
        .join(", ")}), ${s.nfs.replies} replies`,
  );
}

const SPLIT: FaultKey[] = ["publicDown", "privateDown", "cut"];
/** Seconds heartbeat is given to recover on its own after the resume, before the drill helps. */
export const UNAIDED_RECOVERY_S = 90;

/** Everything suspended: each node declares the other dead; the heir tries to take over. */
const splitBrain: Drill = {
  name: "split-brain",
  summary:
    "suspend both switches and the serial cable: both nodes go for the resources; the shared disk's lock refuses the second mount",
  async run(d) {
    const holder = await d.begin();
    const heir = other(holder);
    d.step(
      `Suspend ${SPLIT.join(" + ")}: pulumi config set ${SPLIT.map((f) => `${f} true`).join(", ")}; pulumi up`,
      `each node declares the other dead ("No STONITH device configured", "Shared disks are not protected"); ` +
        `${heir} runs the takeover: its Filesystem mount of ${"/dev/ubdb"} fails on UML's lock (${holder} holds it)`,
    );
    const since = await d.cluster.logLength(heir);
    // Kernel lines before the drill (a node booted while the other held the disk logs a refused open).
    const dmesgBefore: Record<string, number> = {};
    const logBefore: Record<string, number> = {};
    for (const n of ["one", "two"]) {
      dmesgBefore[n] = Number((await d.cluster.sh(n, "dmesg | wc -l"))?.out.trim()) || 0;
      logBefore[n] = await d.cluster.logLength(n);
    }
    const tried = async () => {
      if (await d.cluster.holdsService(heir)) return true;
      const r = await d.cluster.sh(heir, `tail -n +${since + 1} /var/log/ha-log`, 15_000);
      return /takeover complete|Filesystem.*(ERROR|fail)|ERROR.*(mount|Filesystem)/i.test(r?.out ?? "");
    };
    await d.measure(
      "split-brain",
      async () => {
        await d.stack.setConfig(Object.fromEntries(SPLIT.map((f) => [f, "true"])));
        await d.stack.up();
      },
      tried,
      180_000,
      0,
    );
    await new Promise((r) => setTimeout(r, 10_000));
    await d.show();
    const holders = await d.cluster.holders();
    d.result.holdersDuring = holders;
    d.note(
      `holders of ${d.cluster.o.serviceAddress} during the split brain: ${holders.join(" + ") || "none"}`,
    );
    const disk = { mounted: [] as string[], refused: [] as string[] };
    for (const n of ["one", "two"]) {
      const m = await d.cluster.sh(n, "grep -E '^/dev/ubd(b|1) ' /proc/mounts || echo none");
      if (m && /^\/dev\/ubd/m.test(m.out)) disk.mounted.push(n);
      d.note(`${n}'s shared-disk mounts: ${(m?.out.trim() || "?").replace(/\n/g, "; ")}`);
      const k = await d.cluster.sh(
        n,
        `dmesg | tail -n +${dmesgBefore[n] + 1} | grep -E 'F_SETLK|ubdb' | tail -n 3`,
      );
      const log = await d.cluster.sh(
        n,
        `tail -n +${logBefore[n] + 1} /var/log/ha-log | grep -E 'Filesystem|mount' | grep -iE 'error|fail|CRIT' | tail -n 3`,
      );
      const lines = [k?.out.trim(), log?.out.trim()].filter((x) => x);
      if (/F_SETLK|Couldn't mount|mount.*fail/i.test(lines.join("\n"))) disk.refused.push(n);
      if (lines.length) d.note(`${n}: ${lines.join(" | ").replace(/\n/g, " | ")}`);
    }
    d.result.sharedDisk = disk;
    d.note(
      `shared disk: mounted on ${disk.mounted.join(" + ") || "no node"}; mount refused on ${disk.refused.join(" + ") || "no node"}`,
    );
    await d.logs();
    await d.restore(SPLIT, false, UNAIDED_RECOVERY_S * 1000);
  },
};

export const DRILLS: Drill[] = [
  manualFailover(
    "manual-failover",
    "move the NFS service by hand in the right order: stop the address, NFS, unmount on the holder; mount, NFS, address on the other",
    false,
  ),
  manualFailover(
    "manual-failover-wrong",
    "the address moved first: the client reaches a node whose NFS serves no shared disk yet (the stale-handle risk)",
    true,
  ),
  killDrill(
    "takeover",
    "halt the holder through its management console: heartbeat on the other takes over",
    "uml_mconsole halt",
    (d, v) => d.cluster.mconsole(v, ["halt"]).then(() => undefined),
  ),
  {
    name: "standby",
    summary: "hb_standby on the holder hands the resources over; hb_takeover takes them back (failback)",
    async run(d) {
      const holder = await d.begin();
      const heir = other(holder);
      d.step(`hb_standby on ${holder}`, `${heir} logs the takeover; the client's pings pause briefly`);
      await d.measure(
        `failover (${holder} -> ${heir})`,
        async () => void (await d.cluster.sh(holder, hbTool("hb_standby"))),
        () => d.cluster.holdsService(heir),
      );
      d.step(`hb_takeover on ${holder} (failback)`, `${holder} takes the address back; another short pause`);
      await d.measure(
        `failback (${heir} -> ${holder})`,
        async () => void (await d.cluster.sh(holder, hbTool("hb_takeover"))),
        () => d.cluster.holdsService(holder),
      );
      await d.logs();
      await d.restore();
    },
  },
  killDrill(
    "kill-host",
    "kill -9 the holder's UML process from the host",
    "kill -9 of its UML process group from the host",
    async (d, v) => d.cluster.killFromHost(v),
  ),
  killDrill(
    "kill-halt",
    "halt -f inside the holder (no clean shutdown)",
    "`halt -f` inside it",
    async (d, v) => {
      await d.cluster.sh(v, "halt -f", 5000);
    },
  ),
  killDrill(
    "kill-sysrq",
    "crash the holder's kernel: mconsole sysrq c",
    "uml_mconsole sysrq c (a kernel crash)",
    (d, v) => d.cluster.mconsole(v, ["sysrq", "c"]).then(() => undefined),
  ),
  watchdogDrill,
  faultDrill(
    "private-down",
    "suspend the private switch: the serial and public heartbeats keep the cluster whole",
    ["privateDown"],
    "eth1 link dead on both nodes, /dev/ttyS1 and eth0 up, the peer still active, the address stays put",
    false,
  ),
  faultDrill(
    "public-down",
    "suspend the public switch: the cluster stays whole, but the client cannot reach the service",
    ["publicDown"],
    "eth0 link dead, the cluster whole over ttyS1 + eth1, the address stays put; the client's pings fail all along",
    false,
  ),
  splitBrain,
  {
    name: "sniff",
    summary:
      "read the public hub's pcap (heartbeat UDP 694, the client's NFS on 2049) with tcpdump -r, and the serial cable's byte log",
    async run(d) {
      await d.begin();
      await sniffPublic(d);
      d.step(
        "The serial cable's byte log (cableLog output): what crossed /dev/ttyS1",
        "the same messages, on the wire",
      );
      const log = d.cluster.o.cableLog;
      if (log && fs.existsSync(log)) {
        const size = fs.statSync(log).size;
        const fd = fs.openSync(log, "r");
        const buf = Buffer.alloc(Math.min(size, 16_384));
        fs.readSync(fd, buf, 0, buf.length, size - buf.length);
        fs.closeSync(fd);
        const chunks = decodeCableLog(buf.toString("latin1"));
        for (const c of chunks) {
          d.print(`      ${c.direction === ">" ? "one -> two" : "two -> one"} at ${c.time}:`);
          d.print(c.text.trimEnd().replace(/^/gm, "        "));
        }
        d.result.sniff = { ...(d.result.sniff ?? {}), cableText: chunks.map((c) => c.text).join("\n") };
        d.note(`serial cable log: ${size} bytes of hex dump in ${log}`);
      } else d.note("no serial cable log (the cable is not logged: `log: true` on the SerialCable)");
      await d.restore();
    },
  },
];

/** Not a drill: brings the cluster back to normal after an interrupted one. */
DRILLS.push({
  name: "restore",
  summary: "not a drill: faults off, dead nodes booted again (pulumi up --refresh), one owner",
  async run(d) {
    await d.restore(["publicDown", "privateDown", "cut"], true);
  },
});

export function findDrill(name: string): Drill {
  const d = DRILLS.find((x) => x.name === name);
  if (!d)
    throw new Error(
      `unknown drill "${name}": the drills are ${DRILLS.map((x) => x.name).join(", ")} (npm run drill -- list)`,
    );
  return d;
}
