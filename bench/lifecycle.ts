// Lifecycle benchmarks for the quickstart-shaped lab of examples/clone (3 busybox guests) and
// the OSPF ring of examples/ospf-ring (4 Debian/FRR routers), 10 MiB written in each guest:
// snapshot time and bytes, clone time per stack (the clones restore through the lab-level
// `umlab:restoreFrom`, no program edit), export/import time and archive size. Each beside its
// floor from the same run: `cp --sparse=always` of the same COW files for the snapshot, `tar -S`
// (create, extract) of the same files for export/import.
import * as fs from "fs";
import * as path from "path";
import { LocalWorkspace, Stack } from "@pulumi/pulumi/automation";
import { run } from "../provider/host/process";
import { execInGuest } from "../provider/exec/agent";
import { parseCowHeader } from "../provider/disk/cowheader";
import { takeSnapshot, snapshotBytes } from "../provider/lab/snapshot";
import { exportSnapshot, importSnapshot } from "../provider/lab/archive";
import { formatFigure, type Figure } from "./index";
import { timed, labWorkspace } from "./measure";

const MiB = 1048576;
const allocated = (f: string) => fs.statSync(f).blocks * 512;
const dirBytes = (d: string): number =>
  fs.readdirSync(d, { recursive: true }).reduce<number>((a, f) => {
    const p = path.join(d, String(f));
    return a + (fs.statSync(p).isFile() ? allocated(p) : 0);
  }, 0);

async function benchLab(example: string, tag: string, guests: string[], clones: number): Promise<Figure[]> {
  const { workDir, scratch, runtime, env } = labWorkspace(example, tag);
  const stacks: Stack[] = [];
  const open = async (name: string, config: Record<string, string> = {}) => {
    const s = await LocalWorkspace.createOrSelectStack({ stackName: name, workDir }, { envVars: env });
    stacks.push(s);
    for (const [k, v] of Object.entries(config)) await s.setConfig(k, { value: v });
    return s;
  };
  const figures: Figure[] = [];
  // Printed as they come too (a long run's first lab is not lost if the second fails).
  const fig = (name: string, value: number, unit: string, baseline?: number, baselineLabel?: string) => {
    const f = { name: `${example}: ${name}`, value, unit, baseline, baselineLabel };
    figures.push(f);
    console.error(`  (so far) ${formatFigure(f)}`);
  };
  try {
    const source = await open(`h12-bench-${tag}-src`);
    const up = await source.up();
    const labDir = up.outputs.labDir.value as string;
    for (const g of guests)
      await execInGuest(labDir, g, [
        "sh",
        "-c",
        "echo prepared > /root/notes; dd if=/dev/urandom of=/root/data bs=1M count=10 2>/dev/null; sync",
      ]);
    const cows = guests.map((g) => `${labDir}/disk/${g}-root.cow`);
    const backing = parseCowHeader(fs.readFileSync(cows[0]).subarray(0, 4128)).backing;

    // Snapshot beside the floor: the same files copied sparsely, nothing else.
    const floorDir = fs.mkdtempSync(path.join(scratch, "floor-"));
    const [, floorSecs] = await timed(async () => {
      for (const c of cows) await run("cp", ["--sparse=always", c, floorDir]);
    });
    const snapDir = path.join(scratch, "snap");
    const [m, snapSecs] = await timed(() =>
      takeSnapshot({
        labDir,
        dir: snapDir,
        name: "bench",
        project: example,
        stack: `h12-bench-${tag}-src`,
        outputs: {},
        guests: guests.map((g, k) => ({ name: g, disks: [{ path: cows[k], backing }] })),
      }),
    );
    const n = `${guests.length} guests x 10 MiB`;
    fig(`snapshot, ${n} (quiesce+copy+hash)`, snapSecs, "s", floorSecs, "cp --sparse=always");
    fig(
      "snapshot bytes on disk",
      snapshotBytes(m).allocated / MiB,
      "MiB",
      dirBytes(floorDir) / MiB,
      "cp --sparse=always",
    );

    // Clones, all at once, restored through the lab-level option.
    const cs = await Promise.all(
      Array.from({ length: clones }, (_, k) =>
        open(`h12-bench-${tag}-c${k + 1}`, { "umlab:restoreFrom": snapDir }),
      ),
    );
    const [, cloneSecs] = await timed(() => Promise.all(cs.map((c) => c.up())));
    fig(
      `clone: ${clones} stack(s) up at once, per stack`,
      cloneSecs / clones,
      "s",
      (+up.summary.endTime - +up.summary.startTime) / 1000,
      "first up of the source",
    );
    for (const c of cs) await c.destroy();

    // Export / import (program + snapshot + image) beside tar -S of the same files.
    const archive = path.join(scratch, "lab.tar.gz");
    const [, exSecs] = await timed(() =>
      exportSnapshot(snapDir, archive, { images: true, program: workDir }),
    );
    const floorTar = path.join(scratch, "floor.tar.gz");
    const [, tarSecs] = await timed(() =>
      run(
        "tar",
        ["-S", "-czf", floorTar, "-C", snapDir, "disks", "-C", path.dirname(backing), path.basename(backing)],
        {
          timeoutMs: 3_600_000,
        },
      ),
    );
    fig("export (with the image)", exSecs, "s", tarSecs, "tar -S -czf");
    fig(
      "archive size",
      fs.statSync(archive).size / MiB,
      "MiB",
      fs.statSync(floorTar).size / MiB,
      "tar -S -czf",
    );
    const dest = path.join(scratch, "imported");
    const [, imSecs] = await timed(() => importSnapshot(archive, dest, path.join(scratch, "cache2")));
    const floorX = fs.mkdtempSync(path.join(scratch, "x-"));
    const [, untarSecs] = await timed(() =>
      run("tar", ["-S", "-xzf", floorTar, "-C", floorX], { timeoutMs: 3_600_000 }),
    );
    fig("import (hashes checked, image to the cache)", imSecs, "s", untarSecs, "tar -S -xzf");
    fig(
      "imported disk use (folder + cache)",
      (dirBytes(dest) + dirBytes(path.join(scratch, "cache2"))) / MiB,
      "MiB",
      dirBytes(floorX) / MiB,
      "tar -S -xzf",
    );
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

export async function benchLifecycle(): Promise<Figure[]> {
  if (process.env.UMLAB_LIFECYCLE === "clone")
    return benchLab("clone", "life", ["g1", "g2", "g3"], Number(process.env.UMLAB_CLONES ?? 5));
  return [
    ...(await benchLab("clone", "life", ["g1", "g2", "g3"], Number(process.env.UMLAB_CLONES ?? 5))),
    ...(await benchLab(
      "ospf-ring",
      "ring",
      ["node01", "node02", "node03", "node04"],
      Number(process.env.UMLAB_RING_CLONES ?? 2),
    )),
  ];
}
