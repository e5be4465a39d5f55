// The OSPF ring (examples/ospf-ring) split over two simulated hosts (tests/helpers/hosts.ts:
// a namespace each, its own sshd): node01/node02 on host A, node03/node04 on host B, links 2
// and 4 (node02-node03, node04-node01) each a switch on both hosts joined by a HostLink that
// crosses the hosts' veth. Through the real Pulumi engine: it converges and the ring's checks
// pass (the checks of B's guests run on B, over ssh); node01's record-route ping to node03
// crosses the hosts; taking node01's interface on the crossing link down reroutes through
// node02 (the outage printed, never asserted); cutting the wire between the hosts (veth down)
// is seen by the checks on refresh and recovers once it is back; a delay on a HostLink shows
// in the ping RTT across it, a 100% loss stops it, both changed in place; destroy leaves
// nothing on either host.
import * as path from "path";
import { REPO, testStack, TestStack } from "../helpers/stack";
import { labSandbox, LabSandbox, processesMentioning, killGroupsMentioning } from "../helpers/lab";
import { simHosts, SimHosts, SimHost, overTunnel, leftUnder, inNamespaceOf } from "../helpers/hosts";
import { recordRoute, startPing, NodeInfo, VIA_NODE04, VIA_NODE02 } from "../helpers/ospf";
import { processAlive, waitFor, sleep } from "../../provider/host/process";
import { exec } from "../../sdk/exec";

const workDir = path.join(REPO, "examples/ospf-ring");

/** The Checks resource's outputs as the state now records them (a refresh updates them). */
async function checksInState(t: TestStack): Promise<{ ok: boolean; failed: number; summary: string }> {
  const st = await t.stack.exportStack();
  const r = (st.deployment.resources as { type: string; outputs?: any }[]).find((x) =>
    x.type.endsWith("umlab:Checks"),
  );
  return r!.outputs;
}

describe("ospf-ring over two hosts (simulated: netns + sshd each)", () => {
  let sandbox: LabSandbox | undefined;
  let sim: SimHosts | undefined;
  let t: TestStack | undefined;
  let nodes: NodeInfo[] = [];
  const node = (n: number) => nodes[n - 1];

  beforeAll(async () => {
    sandbox = labSandbox("mhring", "h20ring");
    sim = simHosts("h20rg", 2);
    const [A, B] = sim.hosts;
    t = await testStack(workDir, `h20ring-${process.pid}`, {
      hostA: JSON.stringify(A.host),
      hostB: JSON.stringify(B.host),
      peerB: JSON.stringify(overTunnel(B)),
      profile: "class",
    });
  }, 300_000);

  afterAll(async () => {
    if (t) await t.dispose().catch(() => undefined);
    for (const h of sim?.hosts ?? []) killGroupsMentioning(h.host.runtimeRoot);
    sim?.teardown();
    sandbox?.cleanup();
  }, 300_000);

  test("up converges: the checks pass (B's run on B), routers run in their host's namespace", async () => {
    const [A, B] = sim!.hosts;
    const t0 = Date.now();
    const up = await t!.stack.up();
    console.log(`split ring up until converged: ${((Date.now() - t0) / 1000).toFixed(1)} s`);
    expect(up.summary.result).toBe("succeeded");
    console.log(up.outputs.checks.value);
    expect(up.outputs.checksOk.value).toBe(true);
    expect((up.outputs.checks.value as string).split("\n")).toHaveLength(17);
    nodes = up.outputs.nodeInfo.value as NodeInfo[];
    for (const [n, h] of [
      [1, A],
      [2, A],
      [3, B],
      [4, B],
    ] as [number, SimHost][]) {
      expect(inNamespaceOf(node(n).pid, h)).toBe(true);
      expect(node(n).guestDir.startsWith(h.host.runtimeRoot + "/")).toBe(true);
    }
    // An Exec of node03 ran on host B (the remote layer records the host it ran on).
    expect(up.outputs.hostBNeighbours.value).toMatch(/Full\/[\s\S]*Full\//);
    const st = await t!.stack.exportStack();
    const execs = (st.deployment.resources as { type: string; outputs?: any }[]).filter((r) =>
      r.type.endsWith("umlab:Exec"),
    );
    expect(execs.map((r) => r.outputs.host?.name)).toEqual(["host-b"]);
    // node03/node04's checks (2 neighbour checks, 6 pings) go to host B, the rest to host A.
    const checks = (st.deployment.resources as { type: string; inputs?: any }[]).find((r) =>
      r.type.endsWith("umlab:Checks"),
    )!.inputs.checks as { host?: { name: string } }[];
    expect(checks.filter((c) => c.host?.name === "host-b")).toHaveLength(8);
    expect(checks.filter((c) => c.host?.name === "host-a")).toHaveLength(9);
    const cables = up.outputs.cableInfo.value as { name: string; pid: number }[];
    expect(cables.map((c) => c.name).sort()).toEqual(["link2", "link4"]);
    for (const c of cables) expect(inNamespaceOf(c.pid, A)).toBe(true);
  }, 900_000);

  test("node01's record-route ping to node03 crosses the hosts (via node04); the crossing interface down reroutes via node02", async () => {
    let rr: string[] = [];
    await waitFor(
      async () => (rr = await recordRoute(node(1), "192.168.100.3")).includes(VIA_NODE04),
      30_000,
      250,
    );
    expect(rr).toContain(VIA_NODE04);

    const ping = await startPing(node(1), "192.168.100.3");
    try {
      await t!.stack.setConfig("down", { value: "node01:eth1" });
      const preview = await t!.stack.preview({ diff: true });
      expect(preview.changeSummary).toEqual({ same: expect.any(Number), update: 1 });
      expect(preview.stdout).not.toMatch(/replace/);
      expect((await t!.stack.up()).summary.result).toBe("succeeded");
      await sleep(5000);
    } finally {
      const stats = await ping.stop();
      console.log(
        `split ring: outage after node01's link toward host B went down: ${stats.outageSeconds} s (${stats.lost} of ${stats.transmitted} pings at 50 ms lost)`,
      );
      expect(stats.received).toBeGreaterThan(0);
    }
    await waitFor(
      async () => (rr = await recordRoute(node(1), "192.168.100.3")).includes(VIA_NODE02),
      30_000,
      250,
    );
    expect(rr).toContain(VIA_NODE02);
    expect(rr).not.toContain(VIA_NODE04);
    await t!.stack.setConfig("down", { value: "" });
    expect((await t!.stack.up()).summary.result).toBe("succeeded");
    expect(
      await waitFor(
        async () => (await recordRoute(node(1), "192.168.100.3")).includes(VIA_NODE04),
        60_000,
        250,
      ),
    ).toBe(true);
  }, 600_000);

  test("the wire between the hosts cut (veth down) is seen by the checks; restored, they pass again", async () => {
    const [A] = sim!.hosts;
    const veth = (state: "up" | "down") =>
      expect(sim!.inNetns(A, ["ip", "link", "set", A.tunnelDevice!, state]).code).toBe(0);
    veth("down");
    try {
      await sleep(6000); // the dead interval (3 s) and some
      expect((await t!.stack.refresh()).summary.result).toBe("succeeded");
      const cut = await checksInState(t!);
      console.log(`checks with the wire cut:\n${cut.summary}`);
      expect(cut.ok).toBe(false);
      expect(cut.summary).toMatch(/FAIL node01 has two Full OSPF neighbours/);
      expect(cut.summary).toMatch(/FAIL node03 has two Full OSPF neighbours/);
    } finally {
      veth("up");
    }
    let back = { ok: false, failed: -1, summary: "" };
    const ok = await waitFor(
      async () => {
        await t!.stack.refresh();
        return (back = await checksInState(t!)).ok;
      },
      120_000,
      2000,
    );
    if (!ok) console.log(back.summary);
    expect(back.ok).toBe(true);
  }, 600_000);

  test("a HostLink's delay shows in the RTT across it, a 100% loss stops it; both in place, then cleared", async () => {
    const rttTo04 = async () => {
      const r = await exec(node(1), ["ping", "-c", "5", "-i", "0.3", "-W", "2", "192.168.4.4"]);
      const m = /= [\d.]+\/([\d.]+)\//.exec(r.stdout);
      return { avg: m ? Number(m[1]) : NaN, out: r.stdout };
    };
    const before = await rttTo04();
    await t!.stack.setConfig("cables", { value: JSON.stringify({ link4: { delayMs: 50 } }) });
    const preview = await t!.stack.preview({ diff: true });
    expect(preview.changeSummary).toEqual({ same: expect.any(Number), update: 1 });
    expect(preview.stdout).toMatch(/~ pulumi-nodejs:dynamic\/umlab:HostLink: \(update\)[\s\S]*link4/);
    expect(preview.stdout).not.toMatch(/replace/);
    const pid = (await t!.stack.outputs()).cableInfo.value.find(
      (c: { name: string }) => c.name === "link4",
    ).pid;
    expect((await t!.stack.up()).summary.resourceChanges).toEqual({ same: expect.any(Number), update: 1 });
    const delayed = await rttTo04();
    console.log(
      `ping node01 -> node04 across link4: avg ${before.avg} ms, with 50 ms delay each way ${delayed.avg} ms`,
    );
    expect(delayed.avg).toBeGreaterThanOrEqual(100);
    expect(processAlive(pid)).toBe(true); // the same cable: nothing restarted

    await t!.stack.setConfig("cables", { value: JSON.stringify({ link4: { lossPercent: 100 } }) });
    expect((await t!.stack.up()).summary.result).toBe("succeeded");
    const lost = await exec(node(1), ["ping", "-c", "3", "-W", "1", "192.168.4.4"]);
    expect(lost.stdout).toMatch(/100% packet loss/);

    await t!.stack.setConfig("cables", { value: "{}" });
    expect((await t!.stack.up()).summary.result).toBe("succeeded");
    expect(await waitFor(async () => (await rttTo04()).avg < 100, 30_000, 500)).toBe(true);
    expect(processAlive(pid)).toBe(true);
  }, 600_000);

  test("destroy leaves no process and no lab file on either host", async () => {
    const down = await t!.stack.destroy();
    expect(down.summary.result).toBe("succeeded");
    for (const h of sim!.hosts) {
      await waitFor(() => processesMentioning(h.host.runtimeRoot).length === 0, 15_000);
      expect(processesMentioning(h.host.runtimeRoot).map((p) => p.cmd)).toEqual([]);
      expect(leftUnder(h.host.runtimeRoot)).toEqual([]);
    }
    for (const n of nodes) expect(processAlive(n.pid)).toBe(false);
  }, 600_000);
});
