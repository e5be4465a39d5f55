// Lifecycle benchmarks: snapshot the quickstart-shaped lab of examples/clone (3 busybox guests,
// 10 MiB written in each), then clone it into 5 stacks at once. Figures beside the floor: a
// plain `cp --sparse=always` of the same COW files (no quiesce, no hashing, no manifest).
import * as fs from "fs";
import * as path from "path";
import { LocalWorkspace, Stack } from "@pulumi/pulumi/automation";
import { run } from "../provider/host/process";
import { execInGuest } from "../provider/exec/agent";
import { buildImage, resolveSpec } from "../provider/image/provider";
import { takeSnapshot, snapshotBytes } from "../provider/lab/snapshot";
import type { Figure } from "./index";
import { timed, labWorkspace } from "./measure";

const CLONES = Number(process.env.UMLAB_CLONES ?? 5);
const MiB = 1048576;

const allocated = (f: string) => fs.statSync(f).blocks * 512;

export async function benchLifecycle(): Promise<Figure[]> {
  const { workDir, scratch, runtime, env } = labWorkspace("clone", "life");
  const stacks: Stack[] = [];
  const open = async (name: string) => {
    const s = await LocalWorkspace.createOrSelectStack({ stackName: name, workDir }, { envVars: env });
    stacks.push(s);
    return s;
  };
  const figures: Figure[] = [];
  try {
    const image = await buildImage(resolveSpec({ preset: "busybox" }));
    const teacher = await open("snap-bench-teacher");
    const up = await teacher.up();
    const labDir = up.outputs.labDir.value as string;
    for (const g of ["g1", "g2", "g3"])
      await execInGuest(labDir, g, [
        "sh",
        "-c",
        "dd if=/dev/urandom of=/root/data bs=1M count=10 2>/dev/null; sync",
      ]);
    const cows = ["g1", "g2", "g3"].map((g) => `${labDir}/disk/${g}-root.cow`);

    // The floor: the same files copied sparsely, nothing else.
    const floorDir = fs.mkdtempSync(path.join(scratch, "floor-"));
    const [, floorSecs] = await timed(async () => {
      for (const c of cows) await run("cp", ["--sparse=always", c, floorDir]);
    });
    const floorBytes = fs.readdirSync(floorDir).reduce((a, f) => a + allocated(path.join(floorDir, f)), 0);

    const [m, snapSecs] = await timed(() =>
      takeSnapshot({
        labDir,
        dir: path.join(runtime, "snapshots", "direct"),
        name: "direct",
        project: "umlab-clone",
        stack: "snap-bench-teacher",
        outputs: {},
        guests: ["g1", "g2", "g3"].map((g, k) => ({
          name: g,
          disks: [{ path: cows[k], backing: image.path }],
        })),
      }),
    );
    figures.push({
      name: "snapshot, 3 guests x 10 MiB (quiesce+copy+hash)",
      value: snapSecs,
      unit: "s",
      baseline: floorSecs,
      baselineLabel: "cp --sparse=always",
    });
    figures.push({
      name: "snapshot bytes on disk",
      value: snapshotBytes(m).allocated / MiB,
      unit: "MiB",
      baseline: floorBytes / MiB,
      baselineLabel: "cp --sparse=always",
    });
    await teacher.setConfig("snapshot", { value: "base" });
    const [snapUp, resSecs] = await timed(() => teacher.up());
    figures.push({ name: "Snapshot resource (pulumi up, 1 create)", value: resSecs, unit: "s" });

    const dir = snapUp.outputs.snapshotDir.value as string;
    const clones = await Promise.all(
      Array.from({ length: CLONES }, (_, k) => open(`snap-bench-clone${k + 1}`)),
    );
    for (const c of clones) await c.setConfig("from", { value: dir });
    const [ups, cloneSecs] = await timed(() => Promise.all(clones.map((c) => c.up())));
    figures.push({
      name: `clone: ${CLONES} stacks up at once, per stack`,
      value: cloneSecs / CLONES,
      unit: "s",
    });
    const cloneBytes = ups
      .flatMap((u) => ["g1", "g2", "g3"].map((g) => `${u.outputs.labDir.value}/disk/${g}-root.cow`))
      .reduce((a, f) => a + allocated(f), 0);
    figures.push({
      name: `disk use of ${CLONES} clones' COW files`,
      value: cloneBytes / MiB,
      unit: "MiB",
      baseline: (CLONES * 3 * fs.statSync(image.path).size) / MiB,
      baselineLabel: `${CLONES * 3} full copies of the image`,
    });
  } finally {
    for (const s of stacks.reverse()) {
      await s.destroy().catch(() => undefined);
      await s.workspace.removeStack(s.name, { force: true }).catch(() => undefined);
      fs.rmSync(path.join(workDir, `Pulumi.${s.name}.yaml`), { force: true });
    }
    fs.rmSync(scratch, { recursive: true, force: true });
    fs.rmSync(runtime, { recursive: true, force: true });
  }
  return figures;
}
