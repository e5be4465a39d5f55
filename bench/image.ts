// Image benchmarks: build times (cold, with a throwaway cache, and cached) and image sizes.
// The baseline for the Debian+FRR cold build is a plain mmdebstrap + mke2fs -d run of the
// same package set, in the same run, so the figure reads as a ratio.
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { run } from "../provider/host/process";
import { autoSizeMb } from "../provider/image/plan";
import { buildImage } from "../provider/image/build";
import { resolveSpec } from "../provider/image/host";
import type { Figure } from "./index";
import { timed } from "./measure";

const FRR_PACKAGES = ["frr", "iproute2", "iputils-ping", "procps", "tcpdump"];

/** What a person would type: mmdebstrap the same packages, then mke2fs -d the tree. */
async function plainDebianBuild(workDir: string, suite: string, mirror: string): Promise<void> {
  const root = path.join(workDir, "root");
  await run(
    "mmdebstrap",
    [
      "--variant=minbase",
      `--include=${[...FRR_PACKAGES, "kmod"].join(",")}`,
      suite,
      root,
      `deb ${mirror} ${suite} main`,
    ],
    { timeoutMs: 30 * 60_000 },
  );
  const usedKiB = Number((await run("du", ["-sk", "--apparent-size", root])).stdout.split(/\s+/)[0]);
  await run(
    "mke2fs",
    ["-q", "-F", "-t", "ext4", "-d", root, path.join(workDir, "plain.img"), `${autoSizeMb(usedKiB)}M`],
    {
      timeoutMs: 30 * 60_000,
    },
  );
}

export async function benchImages(): Promise<Figure[]> {
  const work = fs.mkdtempSync(path.join(os.tmpdir(), "umlab-bench-image-"));
  const cacheDir = path.join(work, "cache");
  const results: Figure[] = [];
  try {
    const busyboxSpec = resolveSpec({ preset: "busybox", cacheDir });
    const [busybox, busyboxCold] = await timed(() => buildImage(busyboxSpec));
    const [, busyboxCached] = await timed(() => buildImage(busyboxSpec));
    results.push(
      { name: "image busybox build (cold)", value: busyboxCold, unit: "s" },
      { name: "image busybox build (cached)", value: busyboxCached, unit: "s" },
      { name: "image busybox size (apparent)", value: busybox.sizeBytes / 2 ** 20, unit: "MiB" },
      { name: "image busybox size (allocated)", value: busybox.allocatedBytes / 2 ** 20, unit: "MiB" },
    );

    const debianSpec = resolveSpec({ preset: "debian", packages: FRR_PACKAGES, cacheDir });
    const plainDir = path.join(work, "plain");
    fs.mkdirSync(plainDir);
    const [, plainCold] = await timed(() =>
      plainDebianBuild(plainDir, debianSpec.suite!, debianSpec.mirror!),
    );
    const plainSize = fs.statSync(path.join(plainDir, "plain.img"));
    fs.rmSync(plainDir, { recursive: true, force: true });
    const [debian, debianCold] = await timed(() => buildImage(debianSpec));
    const [, debianCached] = await timed(() => buildImage(debianSpec));
    results.push(
      {
        name: "image debian+frr build (cold)",
        value: debianCold,
        unit: "s",
        baseline: plainCold,
        baselineLabel: "plain mmdebstrap + mke2fs",
        target: "<= 1.2x",
      },
      { name: "image debian+frr build (cached)", value: debianCached, unit: "s", baseline: plainCold },
      {
        name: "image debian+frr size (allocated)",
        value: debian.allocatedBytes / 2 ** 20,
        unit: "MiB",
        baseline: (plainSize.blocks * 512) / 2 ** 20,
      },
      { name: "image debian+frr size (apparent)", value: debian.sizeBytes / 2 ** 20, unit: "MiB" },
    );
  } finally {
    fs.rmSync(work, { recursive: true, force: true });
  }
  return results;
}
