// One guest's own costs (issue 13): its boot split into the kernel's part (guest uptime when
// umlab-init starts, logged in state/init.log) and umlab-init's part (from there until
// state/ready), for a busybox and a Debian guest; and the exec round trip of `true` through the
// exec agent beside `uml_mconsole <sock> proc uptime` (the floor: one host process and one reply
// of the guest kernel), interleaved in the same run. Figures, never pass/fail.
// Run: npm run bench -- guest   (UMLAB_GUEST_BOOTS boots per image, default 3; UMLAB_EXECS,
// 50; UMLAB_GUEST_PRESETS, busybox,debian)
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { provider } from "../provider";
import { resolveSpec } from "../provider/image/host";
import { buildImage } from "../provider/image/build";
import { execInGuest } from "../provider/exec/agent";
import { mconsole } from "../provider/host/mconsole";
import { guestPaths } from "../provider/core/naming";
import { median, timed } from "./measure";
import type { Figure } from "./index";

/** Guest uptimes (s): the kernel's part (at umlab-init's start) and the init's (start to ready). */
export function bootSplit(guestDir: string): { kernel: number; init: number } | undefined {
  const log = fs.readFileSync(path.join(guestDir, "state/init.log"), "utf8");
  const start = /started at ([\d.]+)s/.exec(log);
  const ready = Number(fs.readFileSync(path.join(guestDir, "state/ready"), "utf8").trim());
  if (!start || !Number.isFinite(ready)) return undefined;
  return { kernel: Number(start[1]), init: ready - Number(start[1]) };
}

type Booted = { guestDir: string; mconsole: string; stop: () => Promise<void> };

/** Boot one guest of `image` through the real providers in a lab of its own under `root`. */
async function bootGuest(root: string, tag: string, image: string, memory: string): Promise<Booted> {
  const lab = provider("labRuntimeProvider");
  const cow = provider("cowDiskProvider");
  const guest = provider("guestProvider");
  const L = await lab.create((await lab.check!({}, { root, labId: tag })).inputs);
  const labDir = L.outs.dir;
  const c = await cow.create((await cow.check!({}, { labDir, name: "r", backing: image })).inputs);
  const stopAll = async (g?: { id: string; outs?: any }) => {
    if (g) await guest.delete!(g.id, g.outs);
    await cow.delete!(c.id, c.outs);
    await lab.delete!(L.id, L.outs);
  };
  try {
    const inputs = (
      await guest.check!(
        {},
        {
          labDir,
          name: "g",
          memory,
          disks: [{ path: c.outs.path, backing: image }],
          readyTimeoutSeconds: 180,
        },
      )
    ).inputs;
    const g = await guest.create(inputs);
    return {
      guestDir: g.outs.guestDir,
      mconsole: guestPaths(labDir, "g").mconsole,
      stop: () => stopAll(g),
    };
  } catch (e) {
    await stopAll();
    throw e;
  }
}

const spread = (xs: number[]) => `${Math.min(...xs).toFixed(2)}–${Math.max(...xs).toFixed(2)}`;

export async function benchGuest(): Promise<Figure[]> {
  const boots = Number(process.env.UMLAB_GUEST_BOOTS ?? 3);
  const execs = Number(process.env.UMLAB_EXECS ?? 50);
  const root = fs.mkdtempSync(path.join(os.tmpdir(), "ubg-"));
  const figures: Figure[] = [];
  try {
    for (const [preset, memory] of [
      ["busybox", "64M"],
      ["debian", "128M"],
    ] as const) {
      if (!(process.env.UMLAB_GUEST_PRESETS ?? "busybox,debian").split(",").includes(preset)) continue;
      const img = await buildImage(resolveSpec({ preset }));
      const kernel: number[] = [];
      const init: number[] = [];
      for (let i = 0; i < boots; i++) {
        const g = await bootGuest(root, `${preset[0]}${i}`, img.path, memory);
        try {
          const s = bootSplit(g.guestDir);
          if (s) {
            kernel.push(s.kernel);
            init.push(s.init);
          }
          if (preset === "busybox" && i === 0) figures.push(...(await execFigures(g, execs)));
        } finally {
          await g.stop();
        }
      }
      if (!kernel.length) continue;
      figures.push({
        name: `${preset} boot: kernel until umlab-init (${spread(kernel)})`,
        value: median(kernel),
        unit: "s",
      });
      figures.push({
        name: `${preset} boot: umlab-init until ready (${spread(init)})`,
        value: median(init),
        unit: "s",
        baseline: median(kernel),
        baselineLabel: "kernel's part",
      });
    }
  } finally {
    fs.rmSync(root, { recursive: true, force: true });
  }
  return figures;
}

/** `true` through the exec agent vs `uml_mconsole proc uptime`, interleaved, medians in ms. */
async function execFigures(g: Booted, n: number): Promise<Figure[]> {
  const [labDir, name] = [path.dirname(path.dirname(g.guestDir)), path.basename(g.guestDir)];
  await execInGuest(labDir, name, "true"); // warm: the first request pays the agent's first fork
  const ex: number[] = [];
  const mc: number[] = [];
  for (let i = 0; i < n; i++) {
    ex.push((await timed(() => execInGuest(labDir, name, "true")))[1] * 1000);
    mc.push((await timed(() => mconsole.proc(g.mconsole, "uptime")))[1] * 1000);
  }
  return [
    {
      name: `exec round trip, \`true\` (median of ${n}; ${spread(ex)})`,
      value: median(ex),
      unit: "ms",
      baseline: median(mc),
      baselineLabel: "uml_mconsole proc uptime",
      target: "≤ 15 ms",
    },
  ];
}
