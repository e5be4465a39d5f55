// Snapshot, restore and clone on real UML under the real Pulumi engine: a 3-guest lab writes a
// known file in each guest while a writer loop runs; a Snapshot resource (and `umlab snapshot`)
// copies the disks with the guests paused for the copy only (boot ids unchanged, the loops go
// on); fresh stacks restored from it (CowDisk fromSnapshot) find the files intact, the loop
// logs a clean prefix, and each restored filesystem passes `e2fsck -fn` (a host check of the
// COW merged with its backing by uml_moo, after the guest remounted / read-only).
import * as child_process from "child_process";
import * as fs from "fs";
import * as path from "path";
import { REPO, testStack, TestStack } from "../helpers/stack";
import {
  labSandbox,
  LabSandbox,
  ensureBuilt,
  type GuestInfo as LabGuestInfo,
  runUmlab,
} from "../helpers/lab";
import { buildImage, resolveSpec, sha256File } from "../../provider/image/provider";
import { execInGuest } from "../../provider/exec/agent";
import { mconsole } from "../../provider/host/mconsole";
import { verifySnapshot } from "../../provider/lab/snapshot-manifest";
import { takeSnapshot } from "../../provider/lab/snapshot";
import { parseCowHeader } from "../../provider/disk/cowheader";

const workDir = path.join(REPO, "tests/integration/snapshot-program");

type GuestInfo = Pick<LabGuestInfo, "name" | "pid" | "mconsole" | "guestDir" | "bootId">;

const labOf = (g: GuestInfo) => path.dirname(path.dirname(g.guestDir));

async function sh(g: GuestInfo, script: string, timeoutMs = 60_000) {
  return execInGuest(labOf(g), g.name, ["sh", "-c", script], { timeoutMs });
}

async function bootId(g: GuestInfo): Promise<string> {
  return (await mconsole.proc(g.mconsole, "sys/kernel/random/boot_id")).text.trim();
}

async function loopLines(g: GuestInfo): Promise<number> {
  return Number((await sh(g, "wc -l < /root/loop.log")).stdout.trim());
}

/** The loop log is 1, 2, ..., n (a last line cut short by the snapshot is allowed). */
function cleanPrefix(log: string): number {
  const lines = log.split("\n");
  if (lines[lines.length - 1] === "") lines.pop();
  for (const [k, l] of lines.entries())
    if (l !== String(k + 1) && !(k === lines.length - 1 && String(k + 1).startsWith(l)))
      throw new Error(`loop.log line ${k + 1} is "${l}"`);
  return lines.length;
}

function allocated(p: string): number {
  return fs.statSync(p).blocks * 512;
}

describe("snapshot, restore and clone on real UML", () => {
  let sandbox: LabSandbox | undefined;
  let backing: string;
  let backingSha: string;
  const stacks: TestStack[] = [];

  beforeAll(async () => {
    ensureBuilt();
    sandbox = labSandbox("snap", "usn");
    const image = await buildImage(
      resolveSpec({ preset: "busybox", cacheDir: path.join(sandbox.scratch, "cache") }),
    );
    backing = image.path;
    backingSha = await sha256File(backing);
  }, 300_000);

  afterAll(async () => {
    for (const t of stacks) await t.dispose().catch(() => undefined);
    sandbox?.cleanup();
  }, 600_000);

  async function stackOf(name: string, config: Record<string, string>) {
    const t = await testStack(workDir, name, { backing, ...config });
    stacks.push(t);
    const up = await t.stack.up();
    expect(up.summary.result).toBe("succeeded");
    return {
      t,
      guests: up.outputs.guestInfo.value as GuestInfo[],
      outputs: up.outputs,
      backing: config.backing ?? backing,
    };
  }

  test("snapshot a writing 3-guest lab; restore into fresh stacks: files intact, fsck clean, source boot ids unchanged", async () => {
    // --- the source lab: a writer loop in each guest, and a known file written and synced ---
    const src = await stackOf("snap-src", { writer: "true" });
    const sums: string[] = [];
    for (const g of src.guests) {
      const r = await sh(
        g,
        "dd if=/dev/urandom of=/root/data.bin bs=1024 count=512 2>/dev/null && " +
          "sha256sum /root/data.bin > /root/data.sha256 && sync && cat /root/data.sha256",
      );
      expect(r.exitCode).toBe(0);
      sums.push(r.stdout.split(" ")[0]);
    }
    const before = await Promise.all(src.guests.map(loopLines));
    for (const n of before) expect(n).toBeGreaterThan(0);

    // --- the Snapshot resource: a preview shows one create, nothing else ---------------------
    await src.t.stack.setConfig("snapshot", { value: "base" });
    const preview = await src.t.stack.preview();
    expect(preview.changeSummary).toEqual({ same: expect.any(Number), create: 1 });
    const up = await src.t.stack.up();
    expect(up.summary.resourceChanges).toEqual({ same: expect.any(Number), create: 1 });
    const dir = up.outputs.snapshotDir.value as string;
    expect(dir).toBe(`${sandbox!.runtime}/snapshots/umlab-snapshot-test.snap-src.base`);
    // No temp dir left beside it; the guests kept running (same boot id) and kept writing.
    expect(fs.readdirSync(path.dirname(dir))).toEqual(["umlab-snapshot-test.snap-src.base"]);
    for (const g of src.guests) expect(await bootId(g)).toBe(g.bootId);
    const after = await Promise.all(src.guests.map(loopLines));
    for (const [k, n] of after.entries()) expect(n).toBeGreaterThan(before[k]);

    const m = await verifySnapshot(dir);
    expect(m.guests.map((g) => g.name)).toEqual(["g1", "g2", "g3"]);
    expect(m.outputs).toEqual({ addresses: ["10.0.0.1", "10.0.0.2", "10.0.0.3"] });
    for (const g of m.guests) {
      expect(g.image).toMatchObject({ path: backing, sha256: backingSha });
      expect(g.disks).toEqual([expect.objectContaining({ index: 0, file: `disks/${g.name}.0.cow` })]);
      expect(g.disks[0].backing).toEqual({ path: backing, sha256: backingSha });
      // Sparse: the copy occupies about what the source COW does, far below its apparent size.
      expect(g.disks[0].allocated).toBeLessThan(g.disks[0].bytes / 4);
    }
    // A no-op up keeps the snapshot as it was taken.
    const again = await src.t.stack.preview();
    expect(Object.keys(again.changeSummary)).toEqual(["same"]);

    // --- `umlab snapshot <stack> <name>`: the stack's outputs go into the manifest ----------
    const cli = runUmlab(["snapshot", "snap-src", "cli"], { cwd: workDir, env: src.t.env });
    expect(cli.stderr).toBe("");
    expect(cli.status).toBe(0);
    const cliDir = `${sandbox!.runtime}/snapshots/umlab-snapshot-test.snap-src.cli`;
    expect(cli.stdout).toContain(cliDir);
    const cm = await verifySnapshot(cliDir);
    expect(cm.outputs).toMatchObject({ snapshotDir: dir, labDir: up.outputs.labDir.value });
    for (const g of src.guests) expect(await bootId(g)).toBe(g.bootId);
    // The same name again is refused, and the first snapshot is left as it was.
    const twice = child_process.spawnSync(
      "node",
      [path.join(REPO, "dist/cli/umlab.js"), "snapshot", "snap-src", "cli"],
      {
        cwd: workDir,
        env: { ...process.env, ...src.t.env },
        encoding: "utf8",
        timeout: 120_000,
      },
    );
    expect(twice.status).not.toBe(0);
    expect(twice.stderr).toMatch(/exists already/);
    await verifySnapshot(cliDir);

    // --- restore into fresh stacks (clones), two at once; the second over a copy of the image
    // at another path with another mtime (as after an import or a rebuild): same content, so
    // the restored COW file is re-bound to it (UML checks the mtime its header records).
    const otherImage = path.join(sandbox!.scratch, "other", "busybox.img");
    fs.mkdirSync(path.dirname(otherImage));
    fs.copyFileSync(backing, otherImage);
    fs.utimesSync(otherImage, new Date(2020, 0, 1), new Date(2020, 0, 1));
    const clones = await Promise.all([
      stackOf("snap-c1", { from: dir }),
      stackOf("snap-c2", { from: dir, backing: otherImage }),
    ]);
    const c2Cow = fs.readFileSync(`${clones[1].outputs.labDir.value}/disk/g1-root.cow`).subarray(0, 4128);
    expect(parseCowHeader(c2Cow)).toMatchObject({
      backing: otherImage,
      mtime: Math.floor(new Date(2020, 0, 1).getTime() / 1000),
    });
    const figures: string[] = [];
    for (const c of clones) {
      for (const [k, g] of c.guests.entries()) {
        const check = await sh(g, "sha256sum -c /root/data.sha256 && cat /root/data.sha256");
        expect(check.exitCode).toBe(0);
        expect(check.stdout).toContain(sums[k]);
        const log = (await sh(g, "cat /root/loop.log")).stdout;
        expect(cleanPrefix(log)).toBeGreaterThanOrEqual(before[k]);
        // Not writing any more: the clones have no writer loop.
        expect(await loopLines(g)).toBe(await loopLines(g));
      }
      const labDir = c.outputs.labDir.value as string;
      const cows = c.guests.map((g) => `${labDir}/disk/${g.name}-root.cow`);
      figures.push(
        `${c.t.stack.name}: ${cows.map((f) => (allocated(f) / 1048576).toFixed(1)).join(" + ")} MiB`,
      );
      // fsck: the guest remounts / read-only (a clean filesystem), pauses; the host merges.
      for (const [k, g] of c.guests.entries()) {
        const ro = await sh(g, "sync && mount -o remount,ro /");
        expect(ro.stderr).toBe("");
        expect(ro.exitCode).toBe(0);
        expect((await mconsole.stop(g.mconsole)).ok).toBe(true);
        const merged = path.join(sandbox!.scratch, `${c.t.stack.name}-${g.name}.img`);
        try {
          const moo = child_process.spawnSync("uml_moo", ["-b", c.backing, cows[k], merged], {
            encoding: "utf8",
          });
          expect(moo.status).toBe(0);
          const fsck = child_process.spawnSync("e2fsck", ["-fn", merged], { encoding: "utf8" });
          if (fsck.status !== 0) console.log(fsck.stdout, fsck.stderr);
          expect(fsck.status).toBe(0);
        } finally {
          await mconsole.go(g.mconsole);
          fs.rmSync(merged, { force: true });
        }
      }
    }
    const image = fs.statSync(backing);
    console.log(
      `clone disk use (allocated COW files): ${figures.join("; ")}; image ${(image.size / 1048576).toFixed(1)} MiB ` +
        `apparent, ${(allocated(backing) / 1048576).toFixed(1)} MiB allocated; snapshot ${(
          Number(up.outputs.snapshotAllocated.value) / 1048576
        ).toFixed(1)} MiB`,
    );

    // The source lab never rebooted.
    for (const g of src.guests) expect(await bootId(g)).toBe(g.bootId);

    // --- deleting the Snapshot resource removes its directory (the clones keep their copies) --
    await src.t.stack.removeConfig("snapshot");
    const del = await src.t.stack.up();
    expect(del.summary.resourceChanges).toEqual({ same: expect.any(Number), delete: 1 });
    expect(fs.existsSync(dir)).toBe(false);
    for (const c of clones)
      expect((await sh(c.guests[0], "sha256sum -c /root/data.sha256")).exitCode).toBe(0);

    // --- export (with the image) and import with a new image cache, as on another machine ---
    const umlab = (...args: string[]) =>
      child_process.spawnSync("node", [path.join(REPO, "dist/cli/umlab.js"), ...args], {
        cwd: workDir, // the lab's folder: its program goes into the archive
        encoding: "utf8",
        timeout: 300_000,
      });
    const archive = path.join(sandbox!.scratch, "lab.tar.gz");
    const ex = umlab("export", "--images", cliDir, archive);
    expect(ex.stderr).toBe("");
    expect(ex.status).toBe(0);
    const newCache = path.join(sandbox!.scratch, "cache2");
    const importedLab = path.join(sandbox!.scratch, "imported", "base");
    const imported = path.join(importedLab, "snapshot");
    const im = umlab("import", "--cache", newCache, archive, importedLab);
    expect(im.stderr).toBe("");
    expect(im.status).toBe(0);
    const key = m.guests[0].image.key!;
    const importedImage = path.join(newCache, "images", `${key}.img`);
    expect(await sha256File(importedImage)).toBe(backingSha);
    const imp = await stackOf("snap-imp", { from: imported, backing: importedImage });
    for (const [k, g] of imp.guests.entries()) {
      const check = await sh(g, "sha256sum -c /root/data.sha256 && cat /root/data.sha256");
      expect(check.exitCode).toBe(0);
      expect(check.stdout).toContain(sums[k]);
    }
    console.log(
      `export/import: archive ${(fs.statSync(archive).size / 1048576).toFixed(1)} MiB (with the image); ` +
        `imported snapshot ${(Number(child_process.execFileSync("du", ["-sk", imported]).toString().split("\t")[0]) / 1024).toFixed(1)} MiB on disk`,
    );
    await imp.t.dispose();
    stacks.splice(stacks.indexOf(imp.t), 1);

    // --- a copy that fails mid-way: every guest is resumed, nothing is left at the path ------
    const failDir = `${sandbox!.runtime}/snapshots/failed`;
    const lines = await Promise.all(src.guests.map(loopLines));
    let copies = 0;
    await expect(
      takeSnapshot(
        {
          labDir: src.outputs.labDir.value as string,
          dir: failDir,
          name: "failed",
          project: "p",
          stack: "s",
          outputs: {},
          guests: src.guests.map((g) => ({
            name: g.name,
            disks: [{ path: `${src.outputs.labDir.value}/disk/${g.name}-root.cow`, backing }],
          })),
        },
        async (from, to) => {
          if (++copies === 2) throw new Error("disk full (injected)");
          fs.copyFileSync(from, to);
        },
      ),
    ).rejects.toThrow(/^disk full \(injected\)$/);
    expect(fs.readdirSync(path.dirname(failDir)).filter((f) => f.includes("failed"))).toEqual([]);
    for (const [k, g] of src.guests.entries()) {
      expect(await bootId(g)).toBe(g.bootId);
      expect(await loopLines(g)).toBeGreaterThan(lines[k]);
    }

    // --- a guest paused as a fault is snapshotted as it is and stays paused; the others resume
    const labDir = src.outputs.labDir.value as string;
    expect((await mconsole.stop(src.guests[2].mconsole)).ok).toBe(true);
    try {
      const pm = await takeSnapshot({
        labDir,
        dir: `${sandbox!.runtime}/snapshots/paused`,
        name: "paused",
        project: "p",
        stack: "s",
        outputs: {},
        guests: src.guests.map((g, k) => ({
          name: g.name,
          paused: k === 2,
          disks: [{ path: `${labDir}/disk/${g.name}-root.cow`, backing }],
        })),
      });
      expect(pm.guests).toHaveLength(3);
      // g3 stays frozen: a command there cannot run; g1 writes on.
      await expect(execInGuest(labDir, "g3", ["true"], { timeoutMs: 2000 })).rejects.toMatchObject({
        reason: "timeout",
      });
      const n = await loopLines(src.guests[0]);
      await new Promise((r) => setTimeout(r, 500));
      expect(await loopLines(src.guests[0])).toBeGreaterThan(n);
    } finally {
      await mconsole.go(src.guests[2].mconsole);
    }

    // --- restoring one disk of a running lab: a replace of that disk and its guest only -------
    await src.t.stack.setConfig("from", { value: cliDir });
    await src.t.stack.setConfig("restore", { value: "g2" });
    const restorePreview = await src.t.stack.preview({ diff: true });
    expect(restorePreview.changeSummary).toEqual({ same: expect.any(Number), replace: 2 });
    expect(restorePreview.stdout).toMatch(/umlab:CowDisk: \(replace\)[\s\S]*g2-root/);
    expect(restorePreview.stdout).toMatch(/umlab:Guest: \(replace\)[\s\S]*g2/);
    const restored = await src.t.stack.up();
    expect(restored.summary.resourceChanges).toEqual({ same: expect.any(Number), replace: 2 });
    const now = restored.outputs.guestInfo.value as GuestInfo[];
    expect(now[1].bootId).not.toBe(src.guests[1].bootId);
    for (const k of [0, 2]) expect(await bootId(now[k])).toBe(src.guests[k].bootId);
    const g2 = await sh(now[1], "sha256sum -c /root/data.sha256 && cat /root/data.sha256");
    expect(g2.exitCode).toBe(0);
    expect(g2.stdout).toContain(sums[1]);
  });
});
