// The kernel-tunnel HostLink mechanism over two simulated hosts (tests/helpers/hosts.ts): a
// VxlanLink joins swA (host A) and swB (host B); each end (vxlan + tap + bridge, MTU 1450) is
// made in its own host's namespace through the remote layer. Guests ping across; a 1472-byte
// ping does not fit in the tunnel and a 1400-byte one does; suspending it stops traffic and
// resuming restores it; destroy leaves no tunnel device on either host, no process, no file.
import * as path from "path";
import { REPO, testStack, TestStack } from "../helpers/stack";
import {
  labSandbox,
  LabSandbox,
  processesMentioning,
  killGroupsMentioning,
  consolePing,
  consoleRun,
} from "../helpers/lab";
import { simHosts, SimHosts, SimHost, leftUnder } from "../helpers/hosts";
import { buildImage, resolveSpec } from "../../provider/image/provider";
import { processAlive } from "../../provider/host/process";

const workDir = path.join(REPO, "tests/integration/multihost-program");

interface End {
  devices: { vxlan: string; tap: string; bridge: string };
  pid: number;
  vni: number;
}

describe("a VxlanLink between two hosts (simulated: netns + sshd each)", () => {
  let sandbox: LabSandbox | undefined;
  let sim: SimHosts | undefined;
  let backing = "";
  const stacks: TestStack[] = [];

  beforeAll(async () => {
    sandbox = labSandbox("vx", "h19vx");
    sim = simHosts("h19vx", 2);
    backing = (
      await buildImage(resolveSpec({ preset: "busybox", cacheDir: path.join(sandbox.scratch, "cache") }))
    ).path;
  }, 300_000);

  afterAll(async () => {
    for (const t of stacks) await t.dispose().catch(() => undefined);
    for (const h of sim?.hosts ?? []) killGroupsMentioning(h.host.runtimeRoot);
    sim?.teardown();
    sandbox?.cleanup();
  }, 300_000);

  /** The links of a host's namespace whose names a tunnel end uses. */
  const tunnelDevicesOn = (h: SimHost): string[] =>
    sim!
      .inNetns(h, ["ip", "-o", "link", "show"])
      .out.split("\n")
      .map((l) => l.split(": ")[1]?.split("@")[0] ?? "")
      .filter((n) => /^uv[0-9a-f]{10}[xtb]$/.test(n));

  test("guests ping across the tunnel, MTU 1450 inside, suspend stops it, destroy leaves nothing", async () => {
    const [A, B] = sim!.hosts;
    const t = await testStack(workDir, `h19vx-${process.pid}`, {});
    stacks.push(t);
    const cfg = {
      backing,
      hostA: JSON.stringify(A.host),
      hostB: JSON.stringify(B.host),
      vxlan: JSON.stringify({ a: A.tunnelAddress, b: B.tunnelAddress }),
    };
    for (const [k, v] of Object.entries(cfg)) await t.stack.setConfig(k, { value: v });
    const up = await t.stack.up();
    expect(up.summary.result).toBe("succeeded");
    const o = Object.fromEntries(Object.entries(up.outputs).map(([k, v]) => [k, v.value]));
    const [gA, gB] = o.guestInfo as { name: string; guestDir: string; pid: number }[];
    const [eA, eB] = o.vxlanInfo as End[];
    expect(eA.vni).toBe(eB.vni);
    // Each end's devices are on its own host only (names differ: each host's lab dir).
    expect(tunnelDevicesOn(A).sort()).toEqual(Object.values(eA.devices).sort());
    expect(tunnelDevicesOn(B).sort()).toEqual(Object.values(eB.devices).sort());
    for (const d of Object.values(eA.devices)) expect(d.length).toBeLessThanOrEqual(15);
    const mtu = sim!.inNetns(A, ["ip", "-o", "link", "show", eA.devices.vxlan]).out;
    expect(mtu).toMatch(/mtu 1450 /);

    expect(await consolePing(gA, "10.0.0.2", "vx")).toBe(true);
    expect(await consolePing(gB, "10.0.0.1", "vx")).toBe(true);
    // 1472 bytes of payload make a 1500-byte packet: more than the tunnel carries.
    const big = await consoleRun(gA, "ping -c 2 -W 2 -s 1472 10.0.0.2 >/dev/null 2>&1; echo rc=$?", 60_000);
    expect(big.out).toMatch(/rc=1/);
    const fits = await consoleRun(gA, "ping -c 2 -W 2 -s 1400 10.0.0.2 >/dev/null 2>&1; echo rc=$?", 60_000);
    expect(fits.out).toMatch(/rc=0/);
    const rtt = await consoleRun(gA, "ping -c 10 -i 0.2 10.0.0.2 | tail -1", 60_000);
    console.log(`VxlanLink ping 10.0.0.1 -> 10.0.0.2: ${rtt.out.trim()}`);

    // Suspended (vxlan devices down): nothing crosses; resumed: it does again.
    await t.stack.setConfig("linkSuspended", { value: "true" });
    expect((await t.stack.up()).summary.result).toBe("succeeded");
    expect(await consolePing(gA, "10.0.0.2", "vxcut")).toBe(false);
    await t.stack.setConfig("linkSuspended", { value: "false" });
    expect((await t.stack.up()).summary.result).toBe("succeeded");
    expect(await consolePing(gA, "10.0.0.2", "vxback")).toBe(true);

    const down = await t.stack.destroy();
    expect(down.summary.result).toBe("succeeded");
    for (const h of [A, B]) {
      expect(tunnelDevicesOn(h)).toEqual([]);
      expect(processesMentioning(h.host.runtimeRoot).map((p) => p.cmd)).toEqual([]);
      expect(leftUnder(h.host.runtimeRoot)).toEqual([]);
    }
    for (const pid of [gA.pid, gB.pid, eA.pid, eB.pid]) expect(processAlive(pid)).toBe(false);
  }, 900_000);
});
