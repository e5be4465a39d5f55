// The drills, in the talk's order. Each prints its steps (what it does, what to watch), does
// them, watches the cluster and the client, and restores the cluster at the end.
import * as fs from "fs";
import type { Drill, DrillRun } from "./runner";
import type { FaultKey } from "./stack";
import { decodeCableLog } from "./sniff";

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
          "the client's pings stop, then continue",
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
      if (name === "split-brain") {
        for (const n of ["one", "two"]) {
          const m = await d.cluster.sh(n, "grep -E '^/dev/ubd(b|1)' /proc/mounts || echo none");
          d.note(`${n}'s shared-disk mounts: ${(m?.out.trim() || "?").replace(/\n/g, "; ")}`);
        }
        d.note(
          "shared disk: with the NFS cluster both nodes try to mount it; the second mount fails on UML's lock " +
            "(until then this program has no shared disk)",
        );
      }
      await d.logs();
      await d.restore(faults);
    },
  };
}

export const DRILLS: Drill[] = [
  {
    name: "manual-failover",
    summary:
      "move the NFS service by hand in the right order (stop NFS, unmount, drop the address; then the reverse)",
    needs: "the NFS cluster (shared disk + NFS resources, issue 11's other half): comes after that merge",
    run: async () => undefined,
  },
  {
    name: "manual-failover-wrong",
    summary: "the same in the wrong order: the client gets stale file handles",
    needs: "the NFS cluster (shared disk + NFS resources, issue 11's other half): comes after that merge",
    run: async () => undefined,
  },
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
  {
    name: "watchdog",
    summary: "starve the holder's softdog (heartbeat stopped hard): the watchdog reboots it",
    needs: "the NFS cluster's softdog (issue 11's other half): comes after that merge",
    run: async () => undefined,
  },
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
  faultDrill(
    "split-brain",
    "suspend both switches and the serial cable: both nodes take the resources; resume: back to one owner",
    ["publicDown", "privateDown", "cut"],
    "each node declares the other dead and takes the address: two holders; on resume heartbeat resolves it to one",
    true,
  ),
  {
    name: "sniff",
    summary:
      "read heartbeat's packets on the public switch (from the client) and the serial cable's byte log",
    async run(d) {
      await d.begin();
      d.step(
        "Listen on the client for heartbeat's broadcasts (UDP 694 on the public switch) for 4 s",
        "the plain-text heartbeat messages (t=status, st=active, src=one/two, seq, hg, ts)",
      );
      const r = await d.cluster.sh(
        "client",
        "timeout 4 nc -u -l -p 694 | tr -c '[:print:]\\n' '.' | head -c 1200; echo",
        20_000,
      );
      d.print((r?.out ?? "(no answer)").replace(/^/gm, "      "));
      d.note(`heartbeat packets read on the client: ${/t=status/.test(r?.out ?? "") ? "yes" : "no"}`);
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
        for (const c of decodeCableLog(buf.toString("latin1"))) {
          d.print(`      ${c.direction === ">" ? "one -> two" : "two -> one"} at ${c.time}:`);
          d.print(c.text.trimEnd().replace(/^/gm, "        "));
        }
        d.note(`serial cable log: ${size} bytes of hex dump in ${log}`);
      } else d.note("no serial cable log (the cable is not logged: `log: true` on the SerialCable)");
      d.note(
        "a pcap of the switch needs a Capture on a vde switch (engine vde, hub): not in this program yet",
      );
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
