// Core lab benchmarks: the quickstart (one switch, three busybox guests on COW disks) under
// `pulumi up`, beside the same topology started by a plain shell script calling uml_switch
// and linux.uml directly (the floor, measured in the same run); a no-op preview; destroy;
// host memory per idle guest; bytes a fresh COW disk allocates. Figures, not pass/fail.
import * as fs from "fs";
import * as path from "path";
import { LocalWorkspace } from "@pulumi/pulumi/automation";
import { run, processAlive, signalGroup, waitFor, sleep } from "../provider/host/process";
import { buildImage, resolveSpec } from "../provider/image/provider";
import type { Figure } from "./index";
import { timed, labWorkspace } from "./measure";

/**
 * Proportional set size (KiB) of a guest's process group. UML's helper threads are
 * separate pids sharing one address space (CLONE_VM), and each reports that same memory:
 * count each address space once (identical smaps_rollup bodies).
 */
function groupPssKiB(pgid: number): number {
  const seen = new Set<string>();
  let total = 0;
  for (const e of fs.readdirSync("/proc")) {
    if (!/^\d+$/.test(e)) continue;
    try {
      const stat = fs.readFileSync(`/proc/${e}/stat`, "utf8");
      if (Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[2]) !== pgid) continue;
      const body = fs.readFileSync(`/proc/${e}/smaps_rollup`, "utf8").split("\n").slice(1).join("\n");
      if (seen.has(body)) continue;
      seen.add(body);
      const m = /^Pss:\s+(\d+) kB/m.exec(body);
      if (m) total += Number(m[1]);
    } catch {
      /* gone meanwhile */
    }
  }
  return total;
}

// The floor: what a person would type to get the same lab, waiting for the same readiness
// (polled every 20 ms, as the Guest provider polls it).
const PLAIN_SCRIPT = `
set -e
D=$1; B=$2
mkdir -p "$D/uml"
setsid uml_switch -unix "$D/sw.ctl" </dev/null >"$D/sw.log" 2>&1 &
echo $! >> "$D/pids"
while [ ! -S "$D/sw.ctl" ]; do sleep 0.01; done
for i in 1 2 3; do
  G="$D/g$i"; mkdir -p "$G/state"
  printf 'hostname g%s\\naddr eth0 10.0.0.%s/24\\n' $i $i > "$G/config"
  setsid linux.uml mem=64M ubd0="$D/g$i.cow,$B" root=/dev/ubda rw uml_dir="$D/uml" umid=g$i \\
    con=null con0=null,fd:1 ssl=null eth0=daemon,,unix,"$D/sw.ctl" \\
    init=/sbin/umlab-init umlab.dir="$G" </dev/null >"$G/console.log" 2>&1 &
  echo $! >> "$D/pids"
done
for i in 1 2 3; do while [ ! -e "$D/g$i/state/ready" ]; do sleep 0.02; done; done
`;

async function plainScriptUp(dir: string, backing: string): Promise<number> {
  const script = path.join(dir, "lab.sh");
  fs.writeFileSync(script, PLAIN_SCRIPT);
  const pidFile = path.join(dir, "pids");
  try {
    const [, secs] = await timed(() => run("bash", [script, dir, backing], { timeoutMs: 300_000 }));
    return secs;
  } finally {
    for (const i of [1, 2, 3]) {
      const sock = path.join(dir, "uml", `g${i}`, "mconsole");
      if (fs.existsSync(sock)) await run("uml_mconsole", [sock, "halt"], { allowFailure: true });
    }
    const pids = fs.existsSync(pidFile)
      ? fs.readFileSync(pidFile, "utf8").trim().split("\n").map(Number)
      : [];
    for (const pid of pids) signalGroup(pid, "SIGKILL"); // each was started with setsid: its own group
    await waitFor(() => pids.every((p) => !processAlive(p)), 10_000);
  }
}

export async function benchCore(): Promise<Figure[]> {
  const { workDir, scratch, runtime, env } = labWorkspace("quickstart", "core");
  const figures: Figure[] = [];
  const stack = await LocalWorkspace.createOrSelectStack(
    { stackName: "bench", workDir },
    { envVars: env },
  ).catch((e) => {
    fs.rmSync(scratch, { recursive: true, force: true });
    fs.rmSync(runtime, { recursive: true, force: true });
    throw e;
  });
  try {
    // Build (or find) the image first, so both sides start from a cached image.
    const image = await buildImage(resolveSpec({ preset: "busybox" }));

    const plainDir = fs.mkdtempSync("/tmp/ubp-");
    let plain: number;
    try {
      plain = await plainScriptUp(plainDir, image.path);
    } finally {
      fs.rmSync(plainDir, { recursive: true, force: true });
    }

    const [up, upSecs] = await timed(() => stack.up());
    figures.push({
      name: "quickstart up (1 switch, 3 guests ready)",
      value: upSecs,
      unit: "s",
      baseline: plain,
      baselineLabel: "plain shell script",
    });

    const [, previewSecs] = await timed(() => stack.preview());
    figures.push({ name: "quickstart no-op preview", value: previewSecs, unit: "s" });

    // Idle guests: let boot settle, then count what each guest's process group holds.
    await sleep(5000);
    const reach = up.outputs.reach.value as Record<string, { mconsole: string }>;
    const pidsOf = Object.values(reach).map((r) => {
      const sock = r.mconsole.split(" ")[1];
      return Number(fs.readFileSync(path.join(path.dirname(sock), "pid"), "utf8").trim());
    });
    const pss = pidsOf.map(groupPssKiB);
    figures.push({
      name: "host memory per idle guest (PSS, mem=64M)",
      value: pss.reduce((a, b) => a + b, 0) / pss.length / 1024,
      unit: "MiB",
    });

    const labDir = up.outputs.labDir.value as string;
    const cows = fs.readdirSync(path.join(labDir, "disk")).map((f) => path.join(labDir, "disk", f));
    const state = await stack.exportStack();
    const created = (state.deployment.resources as { type: string; outputs?: { allocatedBytes?: number } }[])
      .filter((r) => r.type === "pulumi-nodejs:dynamic/umlab:CowDisk")
      .map((r) => r.outputs?.allocatedBytes ?? 0);
    figures.push({
      name: "COW disk allocated, fresh (uml_mkcow)",
      value: created.reduce((a, b) => a + b, 0) / Math.max(created.length, 1) / 1024,
      unit: "KiB",
    });
    const afterBoot = cows.map((c) => fs.statSync(c).blocks * 512);
    figures.push({
      name: "COW disk allocated after one boot",
      value: afterBoot.reduce((a, b) => a + b, 0) / afterBoot.length / 1024,
      unit: "KiB",
    });

    const [, destroySecs] = await timed(() => stack.destroy());
    figures.push({ name: "quickstart destroy", value: destroySecs, unit: "s" });
  } finally {
    await stack.destroy().catch(() => undefined);
    await stack.workspace.removeStack("bench", { force: true }).catch(() => undefined);
    fs.rmSync(path.join(workDir, "Pulumi.bench.yaml"), { force: true });
    fs.rmSync(scratch, { recursive: true, force: true });
    fs.rmSync(runtime, { recursive: true, force: true });
  }
  return figures;
}
