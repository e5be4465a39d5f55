// Core lab benchmarks: the quickstart (one switch, three busybox guests on COW disks) under
// `pulumi up`, beside the same topology started by a plain shell script calling uml_switch
// and linux.uml directly (the floor, measured in the same run); a no-op preview; destroy;
// host memory per idle guest; bytes a fresh COW disk allocates. Figures, not pass/fail.
import * as fs from "fs";
import * as path from "path";
import { LocalWorkspace } from "@pulumi/pulumi/automation";
import { sleep } from "../provider/host/process";
import { buildImage, resolveSpec } from "../provider/image/provider";
import type { Figure } from "./index";
import { timed, labWorkspace, plainScriptUp, groupPssKiB, disposeBench } from "./measure";

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

    const { seconds: plain, downSeconds: plainDown } = await plainScriptUp(image.path, 3);

    const [up, upSecs] = await timed(() => stack.up());
    figures.push({
      name: "quickstart up (1 switch, 3 guests ready)",
      value: upSecs,
      unit: "s",
      baseline: plain,
      baselineLabel: "plain shell script",
      target: "<= 1.2x",
    });

    const [, previewSecs] = await timed(() => stack.preview());
    figures.push({
      name: "quickstart no-op preview",
      value: previewSecs,
      unit: "s",
      target: "<= 1.5 s, flat in N",
    });

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
    figures.push({
      name: "quickstart destroy",
      value: destroySecs,
      unit: "s",
      baseline: plainDown,
      baselineLabel: "plain teardown: mconsole halt, kill the switch, rm",
      target: "<= 1.5x",
    });
  } finally {
    await disposeBench(stack, { workDir, scratch, runtime });
  }
  return figures;
}
