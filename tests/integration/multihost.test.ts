// One lab over two simulated hosts (tests/helpers/hosts.ts: a namespace each, its own sshd,
// reached only through `ip netns exec <ns> nc 127.0.0.1 22`), through the real Pulumi engine:
// a switch and a busybox guest run on each host (their processes in that host's namespace,
// their files under its runtime root), the image reaches B's cache by content, a second `up`
// and a refresh change nothing, an unreachable host fails the step naming the host with
// nothing made on it, and destroy leaves no process and no lab file on either host. A HostLink
// (a VDE cable over SSH across the hosts' veth) lets the guests ping each other; suspending
// it or cutting the wire between the hosts is seen, both recover, and destroy ends both of its ends.
import * as fs from "fs";
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
import { simHosts, SimHosts, SimHost, overTunnel, leftUnder, inNamespaceOf } from "../helpers/hosts";
import { buildImage, resolveSpec } from "../../provider/image/provider";
import { processAlive, waitFor } from "../../provider/host/process";
import { sha256File } from "../../provider/image/cache";

const workDir = path.join(REPO, "tests/integration/multihost-program");

interface GuestRow {
  name: string;
  pid: number;
  guestDir: string;
  bootId: string;
  disks: { path: string; backing?: string }[];
}

describe("a lab over two hosts (simulated: netns + sshd each)", () => {
  let sandbox: LabSandbox | undefined;
  let sim: SimHosts | undefined;
  let backing = "";
  const stacks: TestStack[] = [];

  beforeAll(async () => {
    sandbox = labSandbox("mh", "h19mh");
    sim = simHosts("h19mh", 2);
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

  const config = (a: SimHost, b: SimHost) => ({
    backing,
    hostA: JSON.stringify(a.host),
    hostB: JSON.stringify(b.host),
  });

  test("switch + guest on each host: made there, stable; a HostLink joins them (ping, suspend, short and long wire cuts); destroyed there", async () => {
    const [A, B] = sim!.hosts;
    const t = await testStack(workDir, `h19mh-${process.pid}`, {});
    stacks.push(t);
    for (const [k, v] of Object.entries(config(A, B))) await t.stack.setConfig(k, { value: v });
    const up = await t.stack.up();
    expect(up.summary.result).toBe("succeeded");
    const o = Object.fromEntries(Object.entries(up.outputs).map(([k, v]) => [k, v.value]));
    const [gA, gB] = o.guestInfo as GuestRow[];

    // Each lab dir lies under its host's runtime root; each process runs in its host's namespace.
    expect(o.labDirs.a.startsWith(A.host.runtimeRoot + "/")).toBe(true);
    expect(o.labDirs.b.startsWith(B.host.runtimeRoot + "/")).toBe(true);
    expect(gA.guestDir.startsWith(o.labDirs.a)).toBe(true);
    expect(gB.guestDir.startsWith(o.labDirs.b)).toBe(true);
    const [swA, swB] = o.switches as { pid: number; control: string }[];
    for (const [pid, h] of [
      [gA.pid, A],
      [swA.pid, A],
      [gB.pid, B],
      [swB.pid, B],
    ] as [number, SimHost][]) {
      expect(processAlive(pid)).toBe(true);
      expect(inNamespaceOf(pid, h)).toBe(true);
    }
    expect(gA.bootId).not.toBe("");
    expect(gB.bootId).not.toBe("");

    // The image reached each host's cache by content, and each guest boots over that copy.
    const sha = await sha256File(backing);
    for (const [g, h] of [
      [gA, A],
      [gB, B],
    ] as [GuestRow, SimHost][]) {
      const copy = path.join(h.host.cache, "sha256", `${sha}.img`);
      expect(g.disks[0].backing).toBe(copy);
      expect(await sha256File(copy)).toBe(sha);
      expect(fs.readdirSync(path.dirname(copy)).filter((f) => f.startsWith(".in-"))).toEqual([]);
    }

    // Nothing changes on a second look: the staged image path and the host compare as given.
    const pre = await t.stack.preview({ expectNoChanges: true });
    expect(pre.changeSummary.update ?? 0).toBe(0);
    const ref = await t.stack.refresh();
    expect(ref.summary.result).toBe("succeeded");
    expect(processAlive(gB.pid)).toBe(true);

    // Not joined yet: A's guest cannot reach B's.
    expect(await consolePing(gA, "10.0.0.2", "pre")).toBe(false);

    // A HostLink swA <-> swB: runs on A, its far end (vde_plug in swB) on B.
    await t.stack.setConfig("link", { value: "true" });
    await t.stack.setConfig("peerB", { value: JSON.stringify(overTunnel(B)) });
    const linked = await t.stack.up();
    expect(linked.summary.result).toBe("succeeded");
    const link = linked.outputs.linkInfo.value as { pid: number; logPath: string };
    expect(processAlive(link.pid)).toBe(true);
    expect(inNamespaceOf(link.pid, A)).toBe(true);
    const farEnds = () =>
      processesMentioning(swB.control).filter((p) => p.cmd.trim() === `vde_plug ${swB.control}`);
    expect(farEnds()).toHaveLength(1);
    expect(inNamespaceOf(farEnds()[0].pid, B)).toBe(true);
    expect(await consolePing(gA, "10.0.0.2", "linked")).toBe(true);
    expect(await consolePing(gB, "10.0.0.1", "linked")).toBe(true);
    // A figure for the README (never asserted): round trips across the cable.
    const rtt = await consoleRun(gA, "ping -c 10 -i 0.2 10.0.0.2 | tail -1", 60_000);
    console.log(`HostLink ping 10.0.0.1 -> 10.0.0.2: ${rtt.out.trim()}`);

    // Suspended: nothing crosses; resumed: it does again (the same processes).
    await t.stack.setConfig("linkSuspended", { value: "true" });
    expect((await t.stack.up()).summary.result).toBe("succeeded");
    expect(await consolePing(gA, "10.0.0.2", "cut")).toBe(false);
    await t.stack.setConfig("linkSuspended", { value: "false" });
    expect((await t.stack.up()).summary.result).toBe("succeeded");
    expect(await consolePing(gA, "10.0.0.2", "back")).toBe(true);
    expect(processAlive(link.pid)).toBe(true);

    // The wire between the hosts cut (veth down on A): nothing crosses; restored: it does again.
    const veth = (state: "up" | "down") =>
      expect(sim!.inNetns(A, ["ip", "link", "set", A.tunnelDevice!, state]).code).toBe(0);
    veth("down");
    expect(await consolePing(gA, "10.0.0.2", "wirecut")).toBe(false);
    veth("up");
    expect(await waitFor(() => consolePing(gA, "10.0.0.2", "wireback"), 60_000, 1000)).toBe(true);

    // A long cut: ssh gives up (ServerAlive, about a minute), the link's process ends; once the
    // wire is back a refresh finds the link gone and the next up makes it again.
    veth("down");
    expect(await waitFor(() => !processAlive(link.pid), 150_000, 1000)).toBe(true);
    veth("up");
    expect((await t.stack.refresh()).summary.result).toBe("succeeded");
    const again = await t.stack.up();
    expect(again.summary.resourceChanges?.create).toBe(1);
    const link2 = again.outputs.linkInfo.value as { pid: number };
    expect(link2.pid).not.toBe(link.pid);
    expect(await waitFor(() => consolePing(gA, "10.0.0.2", "relinked"), 60_000, 1000)).toBe(true);

    const down = await t.stack.destroy();
    expect(down.summary.result).toBe("succeeded");
    expect(processAlive(link2.pid)).toBe(false);
    await waitFor(() => farEnds().length === 0, 15_000);
    expect(farEnds()).toEqual([]);
    for (const h of [A, B]) {
      expect(processesMentioning(h.host.runtimeRoot).map((p) => p.cmd)).toEqual([]);
      expect(leftUnder(h.host.runtimeRoot)).toEqual([]);
    }
    for (const pid of [gA.pid, gB.pid, swA.pid, swB.pid]) expect(processAlive(pid)).toBe(false);
  }, 900_000);

  test("an unreachable host fails the step, names the host and the fix, and nothing is made on it", async () => {
    const [A, B] = sim!.hosts;
    // B's namespace with nothing listening on the port ssh is sent to.
    const deadB: SimHost = {
      ...B,
      host: { ...B.host, proxyCommand: ["ip", "netns", "exec", B.netns, "nc", "127.0.0.1", "2222"] },
    };
    const t = await testStack(workDir, `h19mh-u${process.pid}`, {});
    stacks.push(t);
    for (const [k, v] of Object.entries(config(A, deadB))) await t.stack.setConfig(k, { value: v });
    let message = "";
    try {
      await t.stack.up();
    } catch (e) {
      message = String((e as Error).message);
    }
    expect(message).toMatch(/host "host-b" \(root@192\.0\.2\.2 port 22\) cannot be reached over SSH/);
    expect(message).toMatch(/Fix: check that the host is up/);
    expect(leftUnder(B.host.runtimeRoot)).toEqual([]);
    expect(processesMentioning(B.host.runtimeRoot)).toEqual([]);
    const down = await t.stack.destroy();
    expect(down.summary.result).toBe("succeeded");
    expect(processesMentioning(A.host.runtimeRoot)).toEqual([]);
  }, 900_000);
});
