// examples/ha-cluster on real UML under the real Pulumi engine: `pulumi up` boots two heartbeat
// nodes and a client; the checks pass (all three heartbeat paths up, one holds the service
// address, the client reaches it); cutting the serial cable leaves the cluster whole and its
// serial link comes back when mended; halting node one moves the address to two (failover) and
// the client reaches it again; destroy leaves no process or file.
import * as child_process from "child_process";
import * as fs from "fs";
import * as path from "path";
import { REPO, testStack, TestStack } from "../helpers/stack";
import { labSandbox, LabSandbox, processesMentioning, consoleRun } from "../helpers/lab";
import { processAlive, waitFor } from "../../provider/host/process";
import { SERVICE_ADDRESS } from "../../examples/ha-cluster/cluster";

const workDir = path.join(REPO, "examples/ha-cluster");

interface GuestInfo {
  name: string;
  pid: number;
  mconsole: string;
  guestDir: string;
}

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

  test("up: checks pass and the client reaches the service; one halted: two takes it over", async () => {
    t = await testStack(workDir, "ha-cluster");
    const t0 = Date.now();
    const up = await t.stack.up();
    expect(up.summary.result).toBe("succeeded");
    console.log(`ha-cluster up (checks passed) in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
    const o = Object.fromEntries(Object.entries(up.outputs).map(([k, v]) => [k, v.value]));
    expect(o.checksOk).toBe(true);
    expect((o.checks as string).split("\n")).toHaveLength(5);
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

    // --- failover: node one halted (its kernel shut down through the management console) ---
    const halted = Date.now();
    child_process.spawnSync("uml_mconsole", [one.mconsole, "halt"], { timeout: 30_000 });
    expect(await waitFor(() => !processAlive(one.pid), 60_000)).toBe(true);
    let back = false;
    while (!back && Date.now() - halted < 180_000) back = await clientReaches(client);
    expect(back).toBe(true);
    console.log(
      `ha-cluster failover: the client reached ${SERVICE_ADDRESS} again ${((Date.now() - halted) / 1000).toFixed(1)} s after one was halted`,
    );
    expect(await holdsService(two)).toBe(true);
    expect((await inGuest(two, "cl_status nodestatus one")).out.trim()).toBe("dead");
    // The address answers as soon as IPaddr2 adds it; mach_down logs "takeover complete" after
    // its gratuitous ARPs, a few seconds later: wait for the log line.
    let log = "";
    await waitFor(
      async () => /mach_down takeover complete/.test((log = (await inGuest(two, "cat /var/log/ha-log")).out)),
      60_000,
      1000,
    );
    expect(log).toMatch(/WARN: node one: is dead/);
    expect(log).toMatch(/mach_down takeover complete/);

    // --- destroy (one is gone already: refresh first) --------------------------------------
    await t.stack.refresh();
    const d = await t.stack.destroy();
    expect(d.summary.result).toBe("succeeded");
    for (const g of [one, two, client]) expect(processAlive(g.pid)).toBe(false);
    expect(processesMentioning(o.labDir)).toEqual([]);
    expect(fs.existsSync(o.labDir)).toBe(false);
  }, 900_000);
});
