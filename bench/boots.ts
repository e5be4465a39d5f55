// First boots of freshly built images (issue 16, finding 8: a first boot that once panicked in
// mount_root). Each of N rounds builds a busybox image into a new cache, makes a fresh COW
// over it and boots a guest through the real providers until it is ready, then halts it.
// Prints how many were ready and the median time to ready; UMLAB_BOOTS sets N (default 50).
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { provider } from "../provider";
import { resolveSpec } from "../provider/image/host";
import { buildImage } from "../provider/image/build";
import { median } from "./measure";
import type { Figure } from "./index";

export async function benchFirstBoots(): Promise<Figure[]> {
  const n = Number(process.env.UMLAB_BOOTS ?? 50);
  const scratch = fs.mkdtempSync(path.join(os.tmpdir(), "umlab-boots-"));
  const root = fs.mkdtempSync("/tmp/ubt-");
  const lab = provider("labRuntimeProvider");
  const cow = provider("cowDiskProvider");
  const guest = provider("guestProvider");
  const times: number[] = [];
  const failures: string[] = [];
  try {
    for (let i = 0; i < n; i++) {
      const img = await buildImage(resolveSpec({ preset: "busybox", cacheDir: path.join(scratch, `c${i}`) }));
      const L = await lab.create((await lab.check!({}, { root, labId: `b${i}` })).inputs);
      const labDir = L.outs.dir;
      const c = await cow.create((await cow.check!({}, { labDir, name: "r", backing: img.path })).inputs);
      const inputs = (
        await guest.check!(
          {},
          { labDir, name: "g", disks: [{ path: c.outs.path, backing: img.path }], readyTimeoutSeconds: 120 },
        )
      ).inputs;
      const t0 = Date.now();
      try {
        const g = await guest.create(inputs);
        times.push((Date.now() - t0) / 1000);
        await guest.delete!(g.id, g.outs);
      } catch (e) {
        failures.push(`boot ${i + 1}: ${(e as Error).message.split("\n").slice(0, 12).join("\n")}`);
      }
      await cow.delete!(c.id, c.outs);
      await lab.delete!(L.id, L.outs);
      fs.rmSync(path.join(scratch, `c${i}`), { recursive: true, force: true });
    }
  } finally {
    fs.rmSync(scratch, { recursive: true, force: true });
    fs.rmSync(root, { recursive: true, force: true });
  }
  for (const f of failures) console.log(f);
  return [
    {
      name: `first boots of fresh images ready (of ${n})`,
      value: times.length,
      unit: "boots",
      target: `${n}`,
    },
    { name: "first boot until ready (median)", value: times.length ? median(times) : 0, unit: "s" },
  ];
}
