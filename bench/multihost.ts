// `npm run bench -- multihost`: two busybox guests on two simulated hosts (tests/helpers/hosts.ts:
// a netns + sshd each, joined by a veth) across each HostLink mechanism (a VDE cable over SSH;
// a VXLAN kernel tunnel), beside the same two guests on one switch on one host (the floor):
// ping latency (min/avg/max of 50 pings at 20 ms) and TCP throughput (`yes | head -c` through busybox nc,
// timed in the sending guest), guests' MTU 1450 in every case. One stack (tests/integration/multihost-program), re-configured.
// Then `pulumi up` of the OSPF ring (examples/ospf-ring, profile class) until converged (its
// checks passed) split over the two hosts (node03/node04 on B, two HostLinks), beside the same
// ring on this machine: the split ring's first up (the image copied to each host's cache) and
// its second (after a destroy, the copies there already).
import * as path from "path";
import type { Figure } from "./index";
import { testStack, type TestStack } from "../tests/helpers/stack";
import { repoRoot } from "./measure";
import { labSandbox, consoleRun, consolePing } from "../tests/helpers/lab";
import { simHosts, overTunnel } from "../tests/helpers/hosts";
import { buildImage, resolveSpec } from "../provider/image/provider";
import { waitFor, fileTail } from "../provider/host/process";

const PINGS = 50;
const PROGRAM = "tests/integration/multihost-program";
const MB = 32;

interface G {
  name: string;
  guestDir: string;
}

/** min/avg/max (ms) from busybox ping's last line. */
export function parseRtt(out: string): { min: number; avg: number; max: number } | undefined {
  const m = /min\/avg\/max = ([\d.]+)\/([\d.]+)\/([\d.]+)/.exec(out);
  return m ? { min: Number(m[1]), avg: Number(m[2]), max: Number(m[3]) } : undefined;
}

/** Seconds from `time` output (busybox: "real 0m 1.23s"; POSIX -p: "real 1.23"). */
export function parseReal(out: string): number | undefined {
  const m = /real\s+(?:(\d+)m\s*)?([\d.]+)s?/.exec(out);
  return m ? Number(m[1] ?? 0) * 60 + Number(m[2]) : undefined;
}

async function measure(gA: G, gB: G, label: string): Promise<Record<string, number>> {
  // The same MTU everywhere: a VXLAN carries 1450 bytes inside (bigger frames are dropped).
  for (const g of [gA, gB]) await consoleRun(g, "ip link set eth0 mtu 1450", 30_000);
  if (!(await waitFor(() => consolePing(gA, "10.0.0.2", `bench-${label.replace(/\W/g, "")}`), 240_000, 1000)))
    throw new Error(
      `${label}: guests do not reach each other\n` +
        [gA, gB].map((g) => `${g.name}: ${fileTail(path.join(g.guestDir, "console.log"), 12)}`).join("\n"),
    );
  const p = await consoleRun(gA, `ping -c ${PINGS} -i 0.02 -q 10.0.0.2`, 120_000);
  const rtt = parseRtt(p.out);
  if (!rtt) throw new Error(`${label}: no ping summary: ${p.out}`);
  // The receiver counts what arrives; a figure only when all of it did.
  const bytes = MB * 1024 * 1024;
  const l = await consoleRun(
    gB,
    "rm -f /tmp/rx; (sleep 600 | nc -l -p 5001 | wc -c > /tmp/rx) & sleep 1; netstat -ltn | grep -c 5001",
    30_000,
  );
  const t = await consoleRun(
    gA,
    `time sh -c 'yes ${"0123456789abcdef".repeat(4)} | head -c ${bytes} | nc 10.0.0.2 5001'; echo nc=$?`,
    300_000,
  );
  const rx = await consoleRun(gB, "sleep 2; cat /tmp/rx", 30_000);
  const secs = parseReal(t.out);
  const got = Number(rx.out.trim());
  console.log(
    `  ${label}: ping ${p.out.trim().split("\n").pop()}; listener ${l.out.trim()}; sender ${t.out.trim().replace(/\s+/g, " ")}; received ${rx.out.trim()} of ${bytes}`,
  );
  return { ...rtt, mbps: secs && got === bytes ? (MB * 8 * 1.048576) / secs : NaN };
}

/** Seconds of one `pulumi up` of the OSPF ring until converged, then destroyed. */
async function ringUp(name: string, cfg: Record<string, string>, times = 1): Promise<number[]> {
  const dir = repoRoot("examples/ospf-ring/Pulumi.yaml");
  const t = await testStack(path.join(dir, "examples/ospf-ring"), name, { profile: "class", ...cfg });
  const out: number[] = [];
  try {
    for (let i = 0; i < times; i++) {
      const t0 = Date.now();
      const r = await t.stack.up();
      const secs = (Date.now() - t0) / 1000;
      if (r.outputs.checksOk?.value !== true)
        throw new Error(`${name}: not converged:\n${r.outputs.checks?.value}`);
      console.log(`  ${name}: up until converged ${secs.toFixed(1)} s`);
      out.push(secs);
      await t.stack.destroy();
    }
    return out;
  } finally {
    await t.dispose().catch(() => undefined);
  }
}

/** The split ring's ups beside the one-host ring's (same run). */
async function ringFigures(sim: ReturnType<typeof simHosts>): Promise<Figure[]> {
  const [A, B] = sim.hosts;
  const [one] = await ringUp(`h20ringb-one-${process.pid}`, {});
  const [first, second] = await ringUp(
    `h20ringb-split-${process.pid}`,
    { hostA: JSON.stringify(A.host), hostB: JSON.stringify(B.host), peerB: JSON.stringify(overTunnel(B)) },
    2,
  );
  const label = "the same ring on one host";
  return [
    {
      name: "split ring (2 hosts): first up until converged (image copied)",
      value: first,
      unit: "s",
      baseline: one,
      baselineLabel: label,
    },
    {
      name: "split ring (2 hosts): up until converged (image cached there)",
      value: second,
      unit: "s",
      baseline: one,
      baselineLabel: label,
    },
  ];
}

export async function benchMultihost(): Promise<Figure[]> {
  const sandbox = labSandbox("bmh", "h19vxb");
  const sim = simHosts("h19vxb", 2);
  let t: TestStack | undefined;
  try {
    const [A, B] = sim.hosts;
    const backing = (
      await buildImage(resolveSpec({ preset: "busybox", cacheDir: path.join(sandbox.scratch, "cache") }))
    ).path;
    t = await testStack(path.join(repoRoot(`${PROGRAM}/Pulumi.yaml`), PROGRAM), `h19vxb-${process.pid}`, {
      backing,
      hostA: JSON.stringify(A.host),
      hostB: JSON.stringify(B.host),
    });
    const up = async (cfg: Record<string, string | undefined>) => {
      for (const [k, v] of Object.entries(cfg))
        if (v === undefined) await t!.stack.removeConfig(k).catch(() => undefined);
        else await t!.stack.setConfig(k, { value: v });
      const r = await t!.stack.up();
      if (!r.outputs.guestInfo)
        throw new Error(`up: ${r.summary.result}: no guestInfo in ${Object.keys(r.outputs)}`);
      return r.outputs.guestInfo.value as G[];
    };
    const results: Record<string, Record<string, number>> = {};
    let [gA, gB] = await up({ floor: "true" });
    results.floor = await measure(gA, gB, "one switch");
    [gA, gB] = await up({ floor: "false", link: "true", peerB: JSON.stringify(overTunnel(B)) });
    results.ssh = await measure(gA, gB, "ssh");
    [gA, gB] = await up({
      link: "false",
      vxlan: JSON.stringify({ a: A.tunnelAddress, b: B.tunnelAddress }),
    });
    results.vxlan = await measure(gA, gB, "vxlan");
    const figures: Figure[] = [];
    const floor = results.floor;
    for (const m of ["ssh", "vxlan"]) {
      const r = results[m];
      const label = "same two guests, one switch";
      for (const k of ["min", "avg", "max"])
        figures.push({
          name: `multihost ${m}: ping rtt ${k}`,
          value: r[k],
          unit: "ms",
          baseline: floor[k],
          baselineLabel: label,
        });
      figures.push({
        name: `multihost ${m}: TCP throughput (nc)`,
        value: r.mbps,
        unit: "Mbit/s",
        baseline: floor.mbps,
        baselineLabel: label,
      });
    }
    if (t) await t.stack.destroy().catch(() => undefined);
    figures.push(...(await ringFigures(sim)));
    return figures;
  } finally {
    if (t) await t.dispose().catch(() => undefined);
    sim.teardown();
    sandbox.cleanup();
  }
}
