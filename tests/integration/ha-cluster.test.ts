// examples/ha-cluster on real UML under the real Pulumi engine: `pulumi up` boots two heartbeat
// nodes and a client; the checks pass (all three heartbeat paths up, one holds the service
// address and the shared disk, two neither, the client has the NFS export mounted through the
// service address); the client reads and writes the export; the standby cannot mount the shared
// disk while the holder has it; cutting the serial cable leaves the cluster whole and its serial
// link comes back when mended. Then a client writer appends numbered records (hard, sync NFSv3)
// through four drills: failover (one halted), failback (`pulumi up --refresh` boots one again),
// node kill (host kill -9 of one's UML process) and failback again, watchdog (one's heartbeat
// frozen: softdog reboots it in place; two takes over) and failback after it; after each, every acknowledged record is in the file, in order, and the writer saw
// no error (no stale file handle); the client's outage per drill is printed and written to
// .umlab-test/ha-outage.json. Destroy leaves no process or file; the backing image is unchanged.
import * as child_process from "child_process";
import * as fs from "fs";
import * as path from "path";
import { REPO, testStack, TestStack } from "../helpers/stack";
import { labSandbox, LabSandbox, processesMentioning, consoleRun } from "../helpers/lab";
import { processAlive, waitFor } from "../../provider/host/process";
import { sha256File } from "../../provider/image/provider";
import { exec } from "../../sdk/exec";
import { crash } from "../../sdk/faults";
import {
  SERVICE_ADDRESS,
  SHARED,
  CLIENT_MOUNT,
  WRITER,
  startWriterCommand,
  parseWriterLog,
  verifyRecords,
  outage,
} from "../../examples/ha-cluster/cluster";

const workDir = path.join(REPO, "examples/ha-cluster");

interface GuestInfo {
  name: string;
  pid: number;
  instance: string;
  mconsole: string;
  guestDir: string;
}

/** A `sh` line in a guest through its exec agent (stdout; "" when the guest is not up). */
const sh = async (g: GuestInfo, line: string, timeoutMs = 60_000) =>
  exec(g, line, { timeoutMs }).then(
    (r) => r.stdout,
    () => "",
  );
/** What a node holds: "address=<0|1> mount=<0|1>" ("" when it is down). */
const holding = (g: GuestInfo) =>
  sh(
    g,
    `echo address=$(ip -4 -o addr show dev eth0 | grep -c 'inet ${SERVICE_ADDRESS}/') mount=$(grep -c ' ${SHARED.mountPoint} ' /proc/mounts)`,
  ).then((o) => o.trim());

/** A shell line in a guest through its console (tests/helpers/lab.ts consoleRun). */
const inGuest = (g: GuestInfo, line: string, timeoutMs = 120_000) => consoleRun(g, line, timeoutMs);

const holdsService = async (g: GuestInfo) =>
  (await inGuest(g, "ip -4 -o addr show dev eth0")).out.includes(`inet ${SERVICE_ADDRESS}/`);
const clientReaches = async (client: GuestInfo) =>
  (await inGuest(client, `ping -c 1 -W 1 ${SERVICE_ADDRESS}`)).rc === 0;

describe("examples/ha-cluster: heartbeat failover on real UML", () => {
  let sandbox: LabSandbox | undefined;
  let t: TestStack | undefined;

  beforeAll(() => {
    sandbox = labSandbox("ha-cluster", "hcl");
  });

  afterAll(async () => {
    if (t) await t.dispose().catch(() => undefined);
    sandbox?.cleanup();
  }, 300_000);

  test("up: checks pass, NFS through the service address; the writer keeps every record through failover, failback, node kill and watchdog reboot", async () => {
    t = await testStack(workDir, "h11nfs-ha-cluster");
    const t0 = Date.now();
    const up = await t.stack.up();
    expect(up.summary.result).toBe("succeeded");
    console.log(`ha-cluster up (checks passed) in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
    const o = Object.fromEntries(Object.entries(up.outputs).map(([k, v]) => [k, v.value]));
    expect(o.checksOk).toBe(true);
    expect((o.checks as string).split("\n")).toHaveLength(8);
    const [one, two, client] = o.guests as GuestInfo[];
    expect([one.name, two.name, client.name]).toEqual(["one", "two", "client"]);

    // Both nodes see each other; exactly one holds the service address.
    expect((await inGuest(two, "cl_status listnodes")).out.split("\n").sort()).toEqual(["", "one", "two"]);
    expect((await inGuest(two, "cl_status nodestatus one")).out.trim()).toBe("active");
    expect(await holdsService(one)).toBe(true);
    expect(await holdsService(two)).toBe(false);
    expect(await clientReaches(client)).toBe(true);

    // --- the serial cable cut: the Ethernet heartbeats keep the cluster whole --------------
    const link = async (l: string) => (await inGuest(one, `cl_status hblinkstatus two ${l}`)).out.trim();
    const linkIs = async (l: string, want: string, ms: number) => {
      const end = Date.now() + ms;
      while (Date.now() < end) if ((await link(l)) === want) return true;
      return false;
    };
    await t.stack.setConfig("cut", { value: "true" });
    const cut = await t.stack.up();
    expect(cut.summary.resourceChanges).toEqual({ same: expect.any(Number), update: 1 });
    expect(await linkIs("/dev/ttyS1", "dead", 60_000)).toBe(true);
    expect(await link("eth0")).toBe("up");
    expect(await link("eth1")).toBe("up");
    expect((await inGuest(one, "cl_status nodestatus two")).out.trim()).toBe("active");
    expect(await holdsService(one)).toBe(true);
    // Long enough for more than 4 KiB of heartbeats to queue up in the cut cable (about 250 B/s
    // each way): delivered at the mend, such a burst wedged both guests' serial input for good.
    await new Promise((r) => setTimeout(r, 30_000));
    await t.stack.setConfig("cut", { value: "false" });
    await t.stack.up();
    expect(await linkIs("/dev/ttyS1", "up", 60_000)).toBe(true);
    await new Promise((r) => setTimeout(r, 20_000)); // past deadtime (10 s): still up
    expect(await link("/dev/ttyS1")).toBe("up");
    expect(await holdsService(one)).toBe(true);

    // --- the NFS service: the client reads and writes the export; the standby cannot mount ---
    const sha0 = await sha256File(o.imagePath);
    expect(await holding(one)).toBe("address=1 mount=1");
    expect(await holding(two)).toBe("address=0 mount=0");
    expect(
      await sh(client, `echo hello-${process.pid} >${CLIENT_MOUNT}/hello && cat ${CLIENT_MOUNT}/hello`),
    ).toBe(`hello-${process.pid}\n`);
    expect(await sh(one, `cat ${SHARED.mountPoint}/data/hello`)).toBe(`hello-${process.pid}\n`);
    // The standby's mount of the shared disk fails while one has it (UML's lock on the file).
    const standby = await exec(two, `mkdir -p /mnt/try && mount -o ro ${SHARED.device} /mnt/try`);
    expect(standby.exitCode).not.toBe(0);
    expect(await holding(two)).toBe("address=0 mount=0");

    // --- the writer, through four drills -----------------------------------------------------
    expect((await exec(client, startWriterCommand())).exitCode).toBe(0);
    const writerLog = () => sh(client, `cat ${WRITER.log}`);
    const acksAfter = async (t: number) =>
      parseWriterLog(await writerLog()).events.filter((e) => e.kind === "ack" && e.t > t).length;
    expect(await waitFor(async () => (await acksAfter(0)) >= 5, 60_000, 1000)).toBe(true);
    const outages: Record<string, { seconds: number; records: number }> = {};
    let nodes = { one, two };
    /** Run a drill: act, wait for `settled` and for the writer to go on, then check the records. */
    const drill = async (name: string, act: () => Promise<void>, settled: () => Promise<boolean>) => {
      const from = Date.now() / 1000;
      await act();
      expect(await waitFor(settled, 420_000, 2000)).toBe(true);
      const settledAt = Date.now() / 1000;
      expect(await waitFor(async () => (await acksAfter(settledAt)) >= 3, 240_000, 1000)).toBe(true);
      const log = await writerLog();
      const records = await sh(client, `cat ${WRITER.records}`, 120_000);
      const v = verifyRecords(records, log);
      expect(v.problems).toEqual([]);
      expect(v.lastAcked).toBeGreaterThan(0);
      const out = outage(log, from, Date.now() / 1000);
      outages[name] = { seconds: Number(out.seconds.toFixed(1)), records: v.lastAcked };
      console.log(
        `ha-cluster drill ${name}: the client's writes stalled ${out.seconds.toFixed(1)} s (records ${out.before}..${out.after}); ${v.lastAcked} records acknowledged, all in the file`,
      );
    };
    const holds = async (holder: GuestInfo, other: GuestInfo | undefined) =>
      (await holding(holder)) === "address=1 mount=1" &&
      (!other || (await holding(other)) === "address=0 mount=0");

    // Failover: one halted through its management console; two takes the disk, NFS and address.
    await drill(
      "failover",
      async () => {
        child_process.spawnSync("uml_mconsole", [one.mconsole, "halt"], { timeout: 30_000 });
        expect(await waitFor(() => !processAlive(one.pid), 60_000)).toBe(true);
      },
      () => holds(two, undefined),
    );
    const log = await sh(two, "cat /var/log/ha-log");
    expect(log).toMatch(/WARN: node one: is dead/);
    expect(log).toMatch(/mach_down takeover complete/);

    // Failback: `pulumi up --refresh` finds one gone and boots it; auto_failback gives it the resources.
    const upAgain = async () => {
      const r = await t!.stack.up({ refresh: true });
      expect(r.summary.result).toBe("succeeded");
      const [n1, n2] = r.outputs.guests.value as GuestInfo[];
      nodes = { one: n1, two: n2 };
    };
    await drill("failback", upAgain, () => holds(nodes.one, nodes.two));

    // Node kill: one's UML process killed from the host (kill -9, no shutdown), then booted again.
    await drill(
      "nodeKill",
      async () => {
        expect(await crash(nodes.one)).toBe(true);
        expect(await waitFor(() => !processAlive(nodes.one.pid), 30_000)).toBe(true);
      },
      () => holds(nodes.two, undefined),
    );
    await drill("failbackAfterKill", upAgain, () => holds(nodes.one, nodes.two));

    // Watchdog: one's heartbeat frozen (SIGSTOP), so nothing feeds its softdog (5 s, nowayout):
    // the kernel reboots inside the same UML process (the cable's FIFOs stay open: the init
    // drops what two sent meanwhile). two takes over; one rejoins and auto_failback gives it
    // the resources back.
    const bootId = (g: GuestInfo) =>
      sh(g, "cat /proc/sys/kernel/random/boot_id", 15_000).then((x) => x.trim());
    const boot0 = await bootId(nodes.one);
    expect(boot0).toMatch(/^[0-9a-f-]{36}$/);
    const twoLog0 = (await sh(nodes.two, "wc -l < /var/log/ha-log")).trim();
    await drill(
      "watchdog",
      async () => {
        await sh(nodes.one, "kill -STOP $(pidof heartbeat)", 10_000);
      },
      () => holds(nodes.two, undefined),
    );
    expect(processAlive(nodes.one.pid)).toBe(true); // the same UML process
    expect(await waitFor(async () => ![boot0, ""].includes(await bootId(nodes.one)), 240_000, 2000)).toBe(
      true,
    );
    const twoLog = await sh(nodes.two, `tail -n +${Number(twoLog0) + 1} /var/log/ha-log`);
    expect(twoLog).toMatch(/WARN: node one: is dead/);
    await drill(
      "failbackAfterWatchdog",
      async () => undefined,
      () => holds(nodes.one, nodes.two),
    );
    // one's serial heartbeat link is up again (no stale backlog wedged its input).
    expect(
      await waitFor(
        async () => (await sh(nodes.one, "cl_status hblinkstatus two /dev/ttyS1")).trim() === "up",
        60_000,
        2000,
      ),
    ).toBe(true);
    // one's init dropped what waited on the cable at that boot (image/umlab-init `cable`).
    expect(fs.readFileSync(path.join(nodes.one.guestDir, "state", "init.log"), "utf8")).toContain(
      "cable ttyS1: what waited was dropped; raw, no echo",
    );
    fs.mkdirSync(path.join(REPO, ".umlab-test"), { recursive: true });
    fs.writeFileSync(path.join(REPO, ".umlab-test/ha-outage.json"), JSON.stringify(outages, null, 2) + "\n");
    await exec(client, `touch ${WRITER.log}.stop`);

    // --- destroy ---------------------------------------------------------------------------
    await t.stack.refresh();
    const d = await t.stack.destroy();
    expect(d.summary.result).toBe("succeeded");
    for (const g of [nodes.one, nodes.two, client]) expect(processAlive(g.pid)).toBe(false);
    expect(processesMentioning(o.labDir)).toEqual([]);
    expect(fs.existsSync(o.labDir)).toBe(false);
    expect(fs.existsSync(o.sharedDisk)).toBe(false);
    expect(await sha256File(o.imagePath)).toBe(sha0);
  }, 2_400_000);
});
