// Clone and share a lab on real UML: a lab folder of the clone example (`umlab new --template
// clone`) is prepared (a notes file and 10 MiB of data in each guest) and snapshotted; 5
// stacks restore from it at once through the lab-level `umlab:restoreFrom` (no program edit)
// and pass their checks (ping a neighbour, the notes are there), using about 5 x the COW data;
// `umlab export` -> `umlab import --up` into a new folder with a new UMLAB_CACHE and backend
// brings the lab up passing its checks; a truncated archive and a hash mismatch are refused
// with nothing left behind (no folder, no cache entry, no stack).
import * as child_process from "child_process";
import * as fs from "fs";
import * as path from "path";
import { LocalWorkspace } from "@pulumi/pulumi/automation";
import { REPO, testStack, TestStack } from "../helpers/stack";
import { labSandbox, LabSandbox, ensureBuilt, runUmlab } from "../helpers/lab";
import { execInGuest } from "../../provider/exec/agent";
import { verifySnapshot } from "../../provider/lab/snapshot-manifest";
import { fileBackendUrl } from "../../cli/toolchain";

const CLONES = 5;
const MiB = 1048576;
const allocated = (p: string) => fs.statSync(p).blocks * 512;
const duMiB = (p: string) =>
  Number(child_process.execFileSync("du", ["-sk", p]).toString().split("\t")[0]) / 1024;

describe("clone and share a lab on real UML", () => {
  let sandbox: LabSandbox | undefined;
  const stacks: TestStack[] = [];
  const cleanups: (() => Promise<unknown>)[] = [];

  beforeAll(() => {
    ensureBuilt();
    sandbox = labSandbox("share", "ush");
  });

  afterAll(async () => {
    for (const c of cleanups) await c().catch(() => undefined);
    for (const t of stacks) await t.dispose().catch(() => undefined);
    sandbox?.cleanup();
  }, 900_000);

  const umlab = (args: string[], cwd: string, env: Record<string, string> = {}) =>
    runUmlab(args, { cwd, env, timeoutMs: 900_000 });

  test("5 clones at once pass their checks; export -> import --up elsewhere passes; damaged archives refused", async () => {
    const scratch = sandbox!.scratch;
    // The lab folder, as `umlab new` makes it; its dependencies installed above it (as npm would).
    const modules = path.join(scratch, "node_modules");
    fs.mkdirSync(modules);
    for (const d of fs.readdirSync(path.join(REPO, "node_modules")))
      if (d !== "umlab" && d !== ".bin")
        fs.symlinkSync(path.join(REPO, "node_modules", d), path.join(modules, d));
    fs.symlinkSync(REPO, path.join(modules, "umlab"));
    const folder = path.join(scratch, "teacher");
    const made = umlab(["new", folder, "--template", "clone"], scratch);
    expect(made.status).toBe(0);
    expect(fs.readFileSync(path.join(folder, "index.ts"), "utf8")).toContain('from "umlab"');

    // --- the teacher's lab, prepared and snapshotted -------------------------------------------
    const teacher = await testStack(folder, "h12-teacher");
    stacks.push(teacher);
    const up = await teacher.stack.up();
    expect(up.outputs.checksOk.value).toBe(true);
    const labDir = up.outputs.labDir.value as string;
    for (const g of ["g1", "g2", "g3"]) {
      const r = await execInGuest(labDir, g, [
        "sh",
        "-c",
        "echo prepared > /root/notes && dd if=/dev/urandom of=/root/data bs=1M count=10 2>/dev/null && sync",
      ]);
      expect(r.exitCode).toBe(0);
    }
    const snapDir = path.join(scratch, "snap");
    const snap = umlab(["snapshot", "--dir", snapDir, "h12-teacher", "base"], folder, teacher.env);
    expect(snap.stderr).toBe("");
    expect(snap.status).toBe(0);
    const m = await verifySnapshot(snapDir);
    expect(m.guests.flatMap((g) => g.disks.map((d) => d.name)).sort()).toEqual([
      "g1-root",
      "g2-root",
      "g3-root",
    ]);
    const snapBytes = m.guests.reduce((a, g) => a + g.disks[0].allocated, 0);

    // --- 5 clones at once, restored through the lab-level option (the program unchanged) -------
    const clones = await Promise.all(
      Array.from({ length: CLONES }, (_, k) =>
        testStack(folder, `h12-c${k + 1}`, { "umlab:restoreFrom": snapDir }),
      ),
    );
    stacks.push(...clones);
    // Previewed as what it is: each root disk a copy of the snapshot's disk of its guest.
    const pv = await clones[0].stack.preview({ diff: true });
    expect(pv.stdout).toMatch(/fromSnapshot[\s\S]*guest\s*:\s*"g1"/);
    const ups = await Promise.all(clones.map((c) => c.stack.up()));
    let cloneBytes = 0;
    for (const u of ups) {
      expect(u.summary.result).toBe("succeeded");
      expect(u.outputs.checksOk.value).toBe(true); // ping a neighbour + /root/notes (failOnError)
      for (const g of ["g1", "g2", "g3"])
        cloneBytes += allocated(`${u.outputs.labDir.value}/disk/${g}-root.cow`);
    }
    const image = m.guests[0].image.path;
    console.log(
      `${CLONES} clones: COW files ${(cloneBytes / MiB).toFixed(1)} MiB allocated; ${CLONES} x snapshot ` +
        `${((CLONES * snapBytes) / MiB).toFixed(1)} MiB; ${CLONES * 3} image copies would be ` +
        `${((CLONES * 3 * allocated(image)) / MiB).toFixed(1)} MiB allocated (${((CLONES * 3 * fs.statSync(image).size) / MiB).toFixed(0)} MiB apparent)`,
    );
    // About 5 x the COW data (each clone's boot writes a little more), never full copies.
    expect(cloneBytes).toBeGreaterThanOrEqual(CLONES * snapBytes * 0.9);
    expect(cloneBytes).toBeLessThan(CLONES * snapBytes * 1.5);
    expect(cloneBytes).toBeLessThan(CLONES * 3 * fs.statSync(image).size);
    for (const c of clones) await c.dispose();
    stacks.splice(stacks.indexOf(clones[0]), CLONES);

    // --- export: program + config + snapshot + image ------------------------------------------
    const archive = path.join(scratch, "lab.tar.gz");
    const ex = umlab(["export", "--images", "--stack", "h12-teacher", snapDir, archive], folder);
    expect(ex.stderr).toBe("");
    expect(ex.status).toBe(0);

    // "Another machine": a new image cache, a new state backend, a new folder.
    const cache = path.join(scratch, "cache2");
    const state = path.join(scratch, "state2");
    fs.mkdirSync(state);
    // The image cache is --cache (import puts the images there, `--up` gives it to the lab as
    // UMLAB_CACHE); the Pulumi toolchain is the user's own (`umlab setup` on that machine).
    const env = {
      PULUMI_BACKEND_URL: fileBackendUrl(state),
      PULUMI_CONFIG_PASSPHRASE: "umlab-test",
      PULUMI_SKIP_UPDATE_CHECK: "true",
    };
    const nothingLeft = (dest: string) => {
      expect(fs.existsSync(dest)).toBe(false);
      expect(fs.readdirSync(scratch).filter((f) => f.startsWith(`.${path.basename(dest)}`))).toEqual([]);
      expect(fs.existsSync(path.join(cache, "images"))).toBe(false);
      expect(fs.readdirSync(state)).toEqual([]);
    };

    // A truncated archive: refused, nothing left.
    const cut = path.join(scratch, "cut.tar.gz");
    fs.writeFileSync(cut, fs.readFileSync(archive).subarray(0, Math.floor(fs.statSync(archive).size / 2)));
    const bad1 = umlab(
      ["import", "--cache", cache, "--up", "--stack", "h12-imp", cut, path.join(scratch, "bad1")],
      scratch,
      env,
    );
    expect(bad1.status).not.toBe(0);
    expect(bad1.stderr).toMatch(/is not a readable umlab archive/);
    nothingLeft(path.join(scratch, "bad1"));

    // A hash mismatch: one byte of a COW file changed, the archive otherwise well-formed.
    const x = path.join(scratch, "x");
    fs.mkdirSync(x);
    child_process.execFileSync("tar", ["--sparse", "-xzf", archive, "-C", x]);
    const cow = path.join(x, "disks/g2.0.cow");
    const fd = fs.openSync(cow, "r+");
    fs.writeSync(fd, Buffer.from([0x5a]), 0, 1, 0);
    fs.closeSync(fd);
    const mism = path.join(scratch, "mismatch.tar.gz");
    child_process.execFileSync("tar", ["--sparse", "-czf", mism, "-C", x, "."]);
    fs.rmSync(x, { recursive: true });
    const bad2 = umlab(
      ["import", "--cache", cache, "--up", "--stack", "h12-imp", mism, path.join(scratch, "bad2")],
      scratch,
      env,
    );
    expect(bad2.status).not.toBe(0);
    expect(bad2.stderr).toMatch(
      /disks\/g2\.0\.cow has sha256 [0-9a-f]{64}, the manifest says [0-9a-f]{64}: damaged/,
    );
    nothingLeft(path.join(scratch, "bad2"));

    // --- import --up: the lab comes up restored, its checks pass ------------------------------
    const dest = path.join(scratch, "imported");
    cleanups.push(async () => {
      const s = await LocalWorkspace.selectStack({ stackName: "h12-imp", workDir: dest }, { envVars: env });
      await s.destroy();
      await s.workspace.removeStack("h12-imp", { force: true });
    });
    const t0 = Date.now();
    const im = umlab(["import", "--cache", cache, "--stack", "h12-imp", "--up", archive, dest], scratch, env);
    if (im.status !== 0) console.log(im.stdout, im.stderr);
    expect(im.status).toBe(0);
    expect(im.stdout).toMatch(/checksOk\s*:\s*true/);
    const files = fs.readdirSync(dest);
    for (const f of [
      "Pulumi.yaml",
      "Pulumi.h12-imp.yaml",
      "index.ts",
      "package.json",
      "tsconfig.json",
      "snapshot",
    ])
      expect(files).toContain(f);
    expect(files).not.toContain("node_modules");
    expect(files).not.toContain("Pulumi.h12-teacher.yaml");
    const s = await LocalWorkspace.selectStack({ stackName: "h12-imp", workDir: dest }, { envVars: env });
    const out = await s.outputs();
    const impLab = out.labDir.value as string;
    for (const g of ["g1", "g2", "g3"]) {
      const r = await execInGuest(impLab, g, ["cat", "/root/notes"]);
      expect(r.stdout.trim()).toBe("prepared");
    }
    console.log(
      `export/import: archive ${(fs.statSync(archive).size / MiB).toFixed(1)} MiB (with the image); ` +
        `import --up ${((Date.now() - t0) / 1000).toFixed(1)} s; imported folder ${duMiB(dest).toFixed(1)} MiB on disk ` +
        `(snapshot ${duMiB(path.join(dest, "snapshot")).toFixed(1)} MiB), image cache ${duMiB(cache).toFixed(1)} MiB`,
    );
  }, 1_800_000);
});
