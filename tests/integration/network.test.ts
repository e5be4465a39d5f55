// Taps, captures, a serial cable and faults on real UML under the real Pulumi engine: the
// host pings a guest from the lab's namespace through a tap and both captures hold the
// ICMP packets; bytes cross the serial cable both ways; suspending the switch, a loss
// setting and pausing a guest are in-place updates with visible effect, undone by
// removing them; crash() pulls a guest's plug and refresh notices; destroy leaves no
// namespace, tap, process or file.
import * as child_process from "child_process";
import * as fs from "fs";
import * as path from "path";
import { REPO, testStack, TestStack } from "../helpers/stack";
import {
  labSandbox,
  LabSandbox,
  processesMentioning,
  type GuestInfo as LabGuestInfo,
  consoleRun,
} from "../helpers/lab";
import { buildImage, resolveSpec } from "../../provider/image/provider";
import { processAlive, waitFor } from "../../provider/host/process";
import { crash } from "../../sdk/faults";

const workDir = path.join(REPO, "tests/integration/network-program");

type GuestInfo = Pick<LabGuestInfo, "name" | "pid" | "instance" | "mconsole" | "guestDir" | "bootId">;

function sh(cmd: string, args: string[]): { code: number; out: string } {
  const r = child_process.spawnSync(cmd, args, { encoding: "utf8", timeout: 60_000 });
  return { code: r.status ?? -1, out: `${r.stdout ?? ""}${r.stderr ?? ""}` };
}

function mconsole(socket: string, ...words: string[]): string {
  return sh("uml_mconsole", [socket, ...words]).out.trim();
}

/** Ping from the lab's namespace (busybox ping: busybox-static is a setup package). */
function pingFromHost(ns: string, target: string, count = 2): boolean {
  return (
    sh("ip", ["netns", "exec", ns, "busybox", "ping", "-c", String(count), "-W", "2", target]).code === 0
  );
}

/** A shell line in a guest through its console (tests/helpers/lab.ts consoleRun). */
const inGuest = (g: GuestInfo, line: string, timeoutMs = 60_000) => consoleRun(g, line, timeoutMs);

function lossOf(pingOutput: string): number {
  const m = /(\d+(?:\.\d+)?)% packet loss/.exec(pingOutput);
  if (!m) throw new Error(`no ping statistics in: ${pingOutput}`);
  return Number(m[1]);
}

describe("network pieces and faults on real UML", () => {
  let sandbox: LabSandbox | undefined;
  let scratch: string;
  let backing: string;
  let t: TestStack | undefined;
  let ns = "";

  beforeAll(async () => {
    sandbox = labSandbox("net", "unt");
    ({ scratch } = sandbox);
    backing = (await buildImage(resolveSpec({ preset: "busybox", cacheDir: path.join(scratch, "cache") })))
      .path;
  }, 300_000);

  afterAll(async () => {
    if (t) await t.dispose().catch(() => undefined);
    // Whatever a failure left: our namespace, whole process groups of this runtime dir, the dirs.
    if (ns && fs.existsSync(`/run/netns/${ns}`)) sh("ip", ["netns", "del", ns]);
    sandbox?.cleanup();
  }, 300_000);

  test("tap + capture, serial cable both ways, switch suspend, loss, pause, crash; destroy leaves nothing", async () => {
    t = await testStack(workDir, "net", { backing });
    const up = await t.stack.up();
    expect(up.summary.result).toBe("succeeded");
    const o = Object.fromEntries(Object.entries(up.outputs).map(([k, v]) => [k, v.value]));
    const [g1, g2] = o.guestInfo as GuestInfo[];
    const labDir = o.labDir as string;
    ns = o.tap.namespace;
    expect(ns).toMatch(/^umlab-/);

    // --- tap: the host joins the switch inside the lab's namespace only ------------------
    expect(sh("ip", ["netns", "list"]).out).toContain(ns);
    expect(sh("ip", ["-n", ns, "addr", "show", "dev", o.tap.device]).out).toContain("10.0.0.254/24");
    expect(sh("ip", ["link", "show", "dev", o.tap.device]).code).not.toBe(0); // not in the root namespace
    expect(pingFromHost(ns, "10.0.0.1", 3)).toBe(true);
    expect(pingFromHost(ns, "10.0.0.2", 3)).toBe(true); // through the (lossless) impairment

    // --- both captures hold the ICMP echo requests and replies -------------------------
    for (const file of [o.captures.tap, o.captures.plug]) {
      const seen = await waitFor(
        () => {
          const r = sh("tcpdump", ["-n", "-r", file, "icmp"]);
          return /10\.0\.0\.254 > 10\.0\.0\.1: ICMP echo request/.test(r.out) &&
            /10\.0\.0\.1 > 10\.0\.0\.254: ICMP echo reply/.test(r.out)
            ? r.out
            : undefined;
        },
        20_000,
        500,
      );
      expect(seen).toBeTruthy();
    }

    // --- serial cable: bytes cross both ways ---------------------------------------------
    for (const g of [g1, g2]) {
      const r = await inGuest(
        g,
        "stty -F /dev/ttyS1 raw -echo && (cat /dev/ttyS1 > /umlab/state/serial.rx &)",
      );
      expect(r).toEqual({ rc: 0, out: "" });
    }
    await inGuest(g1, "echo hello-from-g1 > /dev/ttyS1");
    await inGuest(g2, "echo hello-from-g2 > /dev/ttyS1");
    const rx = (g: GuestInfo, text: string) =>
      waitFor(() => {
        try {
          return fs.readFileSync(path.join(g.guestDir, "state", "serial.rx"), "utf8").includes(text);
        } catch {
          return false;
        }
      }, 20_000);
    expect(await rx(g2, "hello-from-g1")).toBe(true);
    expect(await rx(g1, "hello-from-g2")).toBe(true);
    // The byte log has both directions ("hello-" in hex).
    const log = fs.readFileSync(o.cable.log, "utf8");
    expect(log).toMatch(/^> .*length=/m);
    expect(log).toMatch(/^< .*length=/m);
    expect(log).toContain("68 65 6c 6c 6f 2d");

    // --- switch suspended: an update, traffic stops; resumed: traffic flows -------------
    await t.stack.setConfig("suspended", { value: "true" });
    // Exactly the switch: its guests know (from the switch's generation) that it is not
    // being replaced, although its outputs are unknown during the preview.
    const pre = await t.stack.preview({ diff: true });
    expect(pre.changeSummary).toEqual({ same: expect.any(Number), update: 1 });
    expect(pre.stdout).toMatch(/~ pulumi-nodejs:dynamic\/umlab:Switch: \(update\)/);
    expect(pre.stdout).not.toMatch(/replace/);
    const sus = await t.stack.up();
    expect(sus.summary.resourceChanges).toEqual({ same: expect.any(Number), update: 1 });
    expect(sus.outputs.switchPid.value).toBe(o.switchPid);
    expect((await inGuest(g1, "ping -c 2 -W 2 10.0.0.2")).rc).not.toBe(0);
    expect(pingFromHost(ns, "10.0.0.1")).toBe(false);
    await t.stack.setConfig("suspended", { value: "false" });
    await t.stack.up();
    expect((await inGuest(g1, "ping -c 3 -W 2 10.0.0.2")).rc).toBe(0);
    expect(pingFromHost(ns, "10.0.0.1")).toBe(true);

    // --- loss on g2's link shows in ping statistics; removing it clears it -------------
    await t.stack.setConfig("lossPercent", { value: "40" });
    const preLoss = await t.stack.preview({ diff: true });
    expect(preLoss.changeSummary).toEqual({ same: expect.any(Number), update: 1 });
    expect(preLoss.stdout).toMatch(/~ pulumi-nodejs:dynamic\/umlab:Impairment: \(update\)/);
    expect(preLoss.stdout).not.toMatch(/replace/);
    const lossUp = await t.stack.up();
    expect(lossUp.summary.resourceChanges).toEqual({ same: expect.any(Number), update: 1 });
    const lossy = await inGuest(g1, "ping -c 30 -i 0.2 -W 1 10.0.0.2", 120_000);
    expect(lossOf(lossy.out)).toBeGreaterThan(0);
    await t.stack.removeConfig("lossPercent");
    await t.stack.up();
    // The first packets may still meet ARP in flight: warm up, then count.
    await inGuest(g1, "ping -c 2 -W 2 10.0.0.2");
    const clean = await inGuest(g1, "ping -c 20 -i 0.2 -W 1 10.0.0.2", 120_000);
    expect(lossOf(clean.out)).toBe(0);

    // --- a paused guest answers nothing; unpaused, it answers, same boot --------------
    await t.stack.setConfig("paused", { value: "true" });
    const prePause = await t.stack.preview({ diff: true });
    expect(prePause.changeSummary).toEqual({ same: expect.any(Number), update: 1 });
    expect(prePause.stdout).toMatch(/~ pulumi-nodejs:dynamic\/umlab:Guest: \(update\)/);
    expect(prePause.stdout).not.toMatch(/replace/);
    await t.stack.up();
    expect(pingFromHost(ns, "10.0.0.1")).toBe(false);
    await t.stack.setConfig("paused", { value: "false" });
    await t.stack.up();
    expect(pingFromHost(ns, "10.0.0.1", 3)).toBe(true);
    expect(mconsole(g1.mconsole, "proc", "sys/kernel/random/boot_id")).toContain(g1.bootId);

    // --- crash(): pulled plug, refresh notices, up boots it again ----------------------
    expect(await crash({ pid: g2.pid, instance: g2.instance })).toBe(true);
    expect(processAlive(g2.pid)).toBe(false);
    const refresh = await t.stack.refresh();
    expect(refresh.summary.resourceChanges).toMatchObject({ delete: 1 });
    const back = await t.stack.up();
    expect(back.summary.resourceChanges).toMatchObject({ create: 1 });
    const g2New = (back.outputs.guestInfo.value as GuestInfo[])[1];
    expect(g2New.bootId).not.toBe(g2.bootId);
    expect(pingFromHost(ns, "10.0.0.2", 3)).toBe(true);

    // --- destroy: no namespace, tap, process or file is left ---------------------------
    const pids = [
      o.tap.pid,
      o.captures.plugPid,
      o.captures.tapPid,
      o.cable.pid,
      o.switchPid,
      o.lossyPids.switch,
      g1.pid,
      g2New.pid,
    ];
    const d = await t.stack.destroy();
    expect(d.summary.result).toBe("succeeded");
    expect(sh("ip", ["netns", "list"]).out).not.toContain(ns);
    expect(fs.existsSync(`/run/netns/${ns}`)).toBe(false);
    for (const pid of pids) expect(processAlive(pid)).toBe(false);
    expect(processesMentioning(labDir)).toEqual([]);
    expect(fs.existsSync(labDir)).toBe(false);
  }, 900_000);
});
