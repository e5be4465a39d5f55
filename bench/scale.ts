// The cost curve (npm run bench -- scale): N busybox guests on one switch under `pulumi up`,
// beside the plain script starting the same N guests (the floor), for N in UMLAB_SCALE
// (default 10,50,100,200). Each N: the plain lab up and down; then the umlab lab up from
// nothing (no Checks: the same readiness as the floor), host memory per idle guest on both
// sides, the Checks added (every guest pings its neighbour: how many answered), a no-op
// preview, and destroy. A table of the curve and .umlab-test/scale.svg (up time and memory
// against N, both sides). Figures, never pass/fail.
import * as fs from "fs";
import * as path from "path";
import { LocalWorkspace } from "@pulumi/pulumi/automation";
import { sleep } from "../provider/host/process";
import { buildImage, resolveSpec } from "../provider/image/provider";
import type { Figure } from "./index";
import { timed, labWorkspace, plainScriptUp, groupPssKiB, pgidOf, repoRoot, disposeBench } from "./measure";
import { lineChart, sideBySide } from "./plot";

interface Row {
  n: number;
  upS: number;
  plainS: number;
  pssMiB: number;
  plainPssMiB: number;
  previewS: number;
  checksS: number;
  pinging: number;
  destroyS: number;
}

/** Mean PSS (MiB) per guest, each guest's process group counted once. */
function meanPssMiB(pids: number[]): number {
  const groups = [...new Set(pids.map((p) => pgidOf(p)))];
  return groups.reduce((a, g) => a + groupPssKiB(g), 0) / Math.max(groups.length, 1) / 1024;
}

export function scaleCounts(spec = process.env.UMLAB_SCALE ?? "10,50,100,200"): number[] {
  const ns = spec.split(",").map((s) => Number(s.trim()));
  for (const n of ns)
    if (!Number.isInteger(n) || n < 1 || n > 250)
      throw new Error(`UMLAB_SCALE: "${spec}" must be guest counts 1..250 separated by commas`);
  return ns;
}

export async function benchScale(): Promise<Figure[]> {
  const counts = scaleCounts();
  const { workDir, scratch, runtime, env } = labWorkspace("scale-program", "scale", "bench");
  const stack = await LocalWorkspace.createOrSelectStack({ stackName: "bench", workDir }, { envVars: env });
  const rows: Row[] = [];
  const figures: Figure[] = [];
  try {
    const image = await buildImage(resolveSpec({ preset: "busybox" }));
    for (const n of counts) {
      console.log(`scale: N = ${n}`);
      let plainPssMiB = 0;
      const { seconds: plainS, downSeconds: plainDownS } = await plainScriptUp(
        image.path,
        n,
        async (pids) => {
          await sleep(5000);
          plainPssMiB = meanPssMiB(pids);
        },
      );
      await stack.setConfig("guests", { value: String(n) });
      await stack.setConfig("checks", { value: "false" });
      const [up, upS] = await timed(() => stack.up());
      await sleep(5000);
      const pssMiB = meanPssMiB(up.outputs.pids.value as number[]);
      const [, previewS] = await timed(() => stack.preview());
      await stack.setConfig("checks", { value: "true" });
      const [withChecks, checksS] = await timed(() => stack.up());
      const summary = String(withChecks.outputs.checksSummary?.value ?? "");
      const pinging = summary.split("\n").filter((l) => /^ok\b/.test(l)).length;
      const [, destroyS] = await timed(() => stack.destroy());
      rows.push({ n, upS, plainS, pssMiB, plainPssMiB, previewS, checksS, pinging, destroyS });
      figures.push(
        {
          name: `scale N=${n}: up (guests ready)`,
          value: upS,
          unit: "s",
          baseline: plainS,
          baselineLabel: "plain shell script",
          target: "<= 1.2x",
        },
        {
          name: `scale N=${n}: PSS per idle guest`,
          value: pssMiB,
          unit: "MiB",
          baseline: plainPssMiB,
          baselineLabel: "plain shell script",
        },
        { name: `scale N=${n}: no-op preview`, value: previewS, unit: "s", target: "<= 1.5 s, flat in N" },
        { name: `scale N=${n}: Checks added (every guest pings its neighbour)`, value: checksS, unit: "s" },
        { name: `scale N=${n}: guests whose neighbour answered`, value: pinging, unit: `of ${n}` },
        {
          name: `scale N=${n}: destroy`,
          value: destroyS,
          unit: "s",
          baseline: plainDownS,
          baselineLabel: "plain teardown",
          target: "<= 1.5x",
        },
      );
    }
  } finally {
    await disposeBench(stack, { workDir, scratch, runtime });
  }
  printCurve(rows);
  return figures;
}

function printCurve(rows: Row[]): void {
  const f = (v: number) => v.toFixed(2);
  console.log("\n   N  up s  plain s  ratio  s/guest  plain s/guest  PSS MiB  plain PSS  preview s  pinging");
  for (const r of rows)
    console.log(
      [
        String(r.n).padStart(4),
        f(r.upS).padStart(5),
        f(r.plainS).padStart(8),
        `${f(r.upS / r.plainS)}x`.padStart(6),
        f(r.upS / r.n).padStart(8),
        f(r.plainS / r.n).padStart(14),
        f(r.pssMiB).padStart(8),
        f(r.plainPssMiB).padStart(10),
        f(r.previewS).padStart(10),
        `${r.pinging}/${r.n}`.padStart(8),
      ].join(" "),
    );
  const svg = sideBySide([
    lineChart({
      title: "pulumi up until every guest is ready",
      xLabel: "guests (N)",
      yLabel: "seconds",
      series: [
        { name: "umlab (pulumi up)", points: rows.map((r) => [r.n, r.upS]) },
        { name: "plain script", points: rows.map((r) => [r.n, r.plainS]) },
      ],
    }),
    lineChart({
      title: "host memory of the idle guests (PSS)",
      xLabel: "guests (N)",
      yLabel: "MiB",
      series: [
        { name: "umlab", points: rows.map((r) => [r.n, r.pssMiB * r.n]) },
        { name: "plain script", points: rows.map((r) => [r.n, r.plainPssMiB * r.n]) },
      ],
    }),
  ]);
  const out = path.join(repoRoot("package.json"), ".umlab-test", "scale.svg");
  fs.mkdirSync(path.dirname(out), { recursive: true });
  fs.writeFileSync(out, svg);
  console.log(`plot: ${out}`);
}
