// The ha-cluster drills on real UML, run through the runner `npm run drill` runs
// (examples/ha-cluster/drills/main.ts runDrill) against one stack of examples/ha-cluster:
// - the runner refuses an unknown drill and names the drills (before touching any stack);
// - private-down: the private switch suspended, the resources stay on their node;
// - kill-host: kill -9 of the holder's UML process moves the service; the runner's restore
//   (pulumi up --refresh) boots the node again;
// - publicHub (the public switch a vde hub with a Capture, a stack of its own, first): a fresh
//   `pulumi up` gives the normal cluster with no manual takeover: the checks pass, one holds
//   the resources, its ha-log has its own resource acquisition and no "msg2string: Message
//   with zero fields" (heartbeat's ha_clustermsg cut by its FIFO reader's alarm, which once
//   left one without its resources: cluster.ts clusterMsgFix); the sniff drill reads from the
//   pcap heartbeat from both nodes and the client's NFS requests with the holder's replies;
// - sniff on the default stack: heartbeat's plain text read on the client (nc on UDP 694: a
//   uml_switch cannot be captured) and in the serial cable's byte log;
// - manual-failover: the resources moved by hand in the right order: every acknowledged record
//   there, no error (no stale handle);
// - manual-failover-wrong: the address moved first: the client's records went to the heir's
//   root disk under the export (hidden once the shared disk is mounted there): acknowledged
//   records missing from the shared file;
// - split-brain: both switches and the serial cable suspended: the heir declares the holder
//   dead and tries to take over: its mount of the shared disk is refused by UML's lock, so it
//   gives the resources up (one holder all along); restored to
//   exactly one owner (see the README's Drills section for what the resume alone does).
// The probe is the client's NFS writer: each outage is the longest gap between acknowledged
// records, and every acknowledged record is read back after the drill.
import * as child_process from "child_process";
import * as path from "path";
import { REPO, testStack, TestStack } from "../helpers/stack";
import { labSandbox, LabSandbox, processesMentioning } from "../helpers/lab";
import { processAlive } from "../../provider/host/process";
import { runDrill, DrillUsageError } from "../../examples/ha-cluster/drills/main";
import { DrillStack, GuestRow } from "../../examples/ha-cluster/drills/stack";
import { Cluster } from "../../examples/ha-cluster/drills/cluster";
import { PUBLIC } from "../../examples/ha-cluster/cluster";
import type { DrillResult } from "../../examples/ha-cluster/drills/runner";
import { UNAIDED_RECOVERY_S } from "../../examples/ha-cluster/drills/drills";

const workDir = path.join(REPO, "examples/ha-cluster");
const figures: string[] = [];
const report = (r: DrillResult) => {
  for (const o of r.outages)
    figures.push(
      `${o.label}: client outage ${o.result.outageSeconds} s (${o.result.kind}); ${o.result.notes.join("; ")}`,
    );
};

describe("examples/ha-cluster drills on real UML", () => {
  let sandbox: LabSandbox | undefined;
  let t: TestStack | undefined;
  let hub: TestStack | undefined;
  let stack: DrillStack;
  let labDir = "";

  beforeAll(() => {
    sandbox = labSandbox("ha-drills", "h20hub-rt-hdr");
  });

  afterAll(async () => {
    if (hub) await hub.dispose().catch(() => undefined);
    if (t) await t.dispose().catch(() => undefined);
    sandbox?.cleanup();
    if (figures.length) console.log(`ha-drills outages:\n${figures.join("\n")}`);
  }, 600_000);

  test("the runner refuses an unknown drill, naming the drills (npm run drill and runDrill)", async () => {
    const cli = child_process.spawnSync(
      process.execPath,
      [path.join(REPO, "dist/examples/ha-cluster/drills/main.js"), "failover-please"],
      { encoding: "utf8", timeout: 60_000 },
    );
    expect(cli.status).toBe(2);
    expect(cli.stderr).toMatch(/unknown drill "failover-please": the drills are .*takeover.*split-brain/);
    const nowhere = new DrillStack("/nonexistent", "none", process.env);
    await expect(runDrill("failover-please", nowhere)).rejects.toThrow(DrillUsageError);
    // A known drill (the watchdog drill is written now): it fails on the missing stack, not as usage.
    await expect(runDrill("watchdog", nowhere)).rejects.not.toThrow(DrillUsageError);
  });

  const print = (l: string) => process.stdout.write(`${l}\n`);
  // The NFS writer is the probe: every acknowledged record read back, no error.
  const writerOk = (r: DrillResult) => {
    expect(r.outages.length).toBeGreaterThan(0);
    for (const o of r.outages) {
      expect(o.result.kind).toMatch(/NFS writer/);
      expect(o.result.answered).toBeGreaterThan(0);
      expect(o.result.verified).toBe(true);
    }
  };

  test("publicHub: a fresh pulumi up gives the normal cluster (one holds the resources, checks pass, no manual takeover); sniff reads heartbeat and NFS from the hub's pcap", async () => {
    const name = `h20hub-hub-${process.pid}`;
    hub = await testStack(workDir, name, { publicHub: "true" });
    const up = await hub.stack.up();
    expect(up.summary.result).toBe("succeeded");
    const hubStack = new DrillStack(workDir, name, { ...process.env, ...hub.env });
    const o = await hubStack.outputs();
    expect(typeof o.publicPcap).toBe("string");
    // The checks passed at the first up (failOnError: the up fails otherwise), each of them.
    expect(o.checksOk).toBe(true);
    const checks = String(o.checks).trim().split("\n");
    expect(checks.length).toBeGreaterThanOrEqual(8);
    for (const c of checks) expect(c).toMatch(/^ok /);
    // The preferred node took its resources itself: nobody ran hb_takeover.
    const cluster = new Cluster(o);
    expect(await cluster.holders()).toEqual(["one"]);
    const log = (await cluster.sh("one", "cat /var/log/ha-log"))?.out ?? "";
    expect(log).toMatch(/Acquiring resource group: one /);
    expect(log).not.toMatch(/Message with zero fields/);
    expect((await cluster.sh("two", "cat /var/log/ha-log"))?.out ?? "").not.toMatch(
      /Message with zero fields/,
    );

    const sniff = await runDrill("sniff", hubStack, { print });
    expect(sniff.holdersBefore).toEqual(["one"]);
    const s = sniff.sniff?.summary;
    figures.push(`sniff on the hub: ${JSON.stringify(s)}`);
    expect(s?.heartbeat[PUBLIC.one]).toBeGreaterThan(0);
    expect(s?.heartbeat[PUBLIC.two]).toBeGreaterThan(0);
    expect(s?.nfs.requests).toBeGreaterThan(0);
    expect(s?.nfs.from).toEqual([PUBLIC.client]);
    expect(s?.nfs.replies).toBeGreaterThan(0);
    expect(sniff.sniff?.heartbeatText).toMatch(/src=(one|two)/);
    expect(sniff.sniff?.cableText).toMatch(/t=status|src=/);
    expect(sniff.restored).toBe(true);

    const d = await hub.stack.destroy();
    expect(d.summary.result).toBe("succeeded");
    expect(processesMentioning(o.labDir)).toEqual([]);
  }, 1_200_000);

  test("pulumi up; sniff: heartbeat's text on the public switch (read on the client) and on the cable", async () => {
    const name = `h20hub-drill-${process.pid}`;
    t = await testStack(workDir, name);
    const up = await t.stack.up();
    expect(up.summary.result).toBe("succeeded");
    stack = new DrillStack(workDir, name, { ...process.env, ...t.env });
    const o = await stack.outputs();
    labDir = o.labDir;
    // The default public switch is a uml_switch (publicHub false): no pcap; the drill listens
    // on the client with nc (the pcap path: the publicHub test above).
    expect(o.publicPcap).toBeUndefined();

    const sniff = await runDrill("sniff", stack, { print });
    expect(sniff.sniff?.heartbeatText).toMatch(/t=status/);
    expect(sniff.sniff?.heartbeatText).toMatch(/src=(one|two)/);
    // and the serial cable's byte log: heartbeat's messages in text
    expect(sniff.sniff?.cableText).toMatch(/t=status|src=/);
    expect(sniff.restored).toBe(true);
  }, 1_200_000);

  test("manual failover by hand: right order keeps every record; the address first sends them to the heir's root disk", async () => {
    expect(stack).toBeDefined();
    const right = await runDrill("manual-failover", stack, { print });
    report(right);
    const holder = right.holdersBefore[0];
    const heir = holder === "one" ? "two" : "one";
    expect(right.holdersDuring).toEqual([heir]);
    writerOk(right);
    expect(right.outages[0].result.recovered).toBe(true);
    expect(right.outages[0].result.notes.join("\n")).toMatch(/read back in order.*no error/);
    expect(right.restored).toBe(true);
    expect(right.holdersAfter).toEqual([holder]);

    const wrong = await runDrill("manual-failover-wrong", stack, { print });
    report(wrong);
    expect(wrong.holdersDuring).toEqual([heir]);
    const w = wrong.manual!;
    figures.push(`manual-failover-wrong: ${JSON.stringify(w)}`);
    // The heir served its own empty export directory: the client wrote records there (acknowledged),
    // and they are not in the shared disk's file.
    expect(w.heirRootRecords).toBeGreaterThan(0);
    // ... and while it did, the client's mount root was a stale handle
    expect(w.clientListing).toMatch(/Stale file handle/);
    expect(wrong.outages[0].result.verified).toBe(false);
    expect(wrong.outages[0].result.notes.join("\n")).toMatch(/records NOT all there/);
    expect(wrong.restored).toBe(true);
    expect(wrong.holdersAfter).toEqual([holder]);
  }, 1_500_000);

  test("private-down keeps the resources; kill-host moves them and comes back; split-brain: two go for them, the disk's lock refuses the second mount", async () => {
    expect(stack).toBeDefined();
    // --- private switch suspended: serial + public heartbeats keep the cluster whole ------
    const priv = await runDrill("private-down", stack, { print });
    report(priv);
    expect(priv.holdersBefore).toHaveLength(1);
    expect(priv.holdersDuring).toEqual(priv.holdersBefore);
    writerOk(priv);
    expect(priv.restored).toBe(true);
    expect(priv.holdersAfter).toEqual(priv.holdersBefore);

    // --- kill -9 from the host: the service moves; restore boots the node again ------------
    const before = (await stack.outputs()).guests as GuestRow[];
    const kill = await runDrill("kill-host", stack, { print });
    report(kill);
    const victim = before.find((g) => g.name === kill.holdersBefore[0])!;
    expect(kill.holdersDuring).toEqual([victim.name === "one" ? "two" : "one"]);
    expect(kill.outages[0].result.recovered).toBe(true);
    writerOk(kill);
    expect(processAlive(victim.pid)).toBe(false);
    const after = (await stack.outputs()).guests as GuestRow[];
    const reborn = after.find((g) => g.name === victim.name)!;
    expect(reborn.pid).not.toBe(victim.pid);
    expect(processAlive(reborn.pid)).toBe(true);
    expect(kill.restored).toBe(true);
    expect(kill.holdersAfter).toHaveLength(1);

    // --- everything suspended: split brain. The holder keeps the disk; the heir declares it
    // dead and its mount is refused by the disk's lock. Restored: exactly one owner (on its own
    // after the resume, or by the drill's help: both nodes killed and booted again). ---------
    const split = await runDrill("split-brain", stack, { print });
    report(split);
    const holder = split.holdersBefore[0];
    const heir = holder === "one" ? "two" : "one";
    // The heir's Filesystem start fails on the lock, so heartbeat gives its resources up: it
    // never raises the address (it would only after the disk and NFS).
    expect(split.holdersDuring).toEqual([holder]);
    expect(split.sharedDisk?.mounted).toEqual([holder]);
    expect(split.sharedDisk?.refused).toContain(heir);
    expect((split.logs[heir] ?? []).join("\n")).toMatch(new RegExp(`node ${holder}: is dead`));
    figures.push(
      `split-brain: address held by ${split.holdersDuring.join("+")}; disk mounted on ${split.sharedDisk?.mounted.join("+")}, refused on ${split.sharedDisk?.refused.join("+")}; ` +
        `restored by ${split.restoredBy ?? "nothing"}${split.holdersAfterResume ? ` (holders ${UNAIDED_RECOVERY_S} s after the resume: ${split.holdersAfterResume.join("+") || "none"})` : ""}`,
    );
    expect(split.restored).toBe(true);
    expect(split.holdersAfter).toHaveLength(1);
    expect(await stack.config("cut")).toBe("false");

    const d = await t!.stack.destroy();
    expect(d.summary.result).toBe("succeeded");
    expect(processesMentioning(labDir)).toEqual([]);
  }, 3_000_000);
});
