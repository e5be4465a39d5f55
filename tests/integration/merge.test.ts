// COW merge on real UML: a busybox guest writes a file and is halted; its COW disk merged
// with the shared backing into a new image (an Image `fromCow`, and `umlab merge --into`:
// the same bytes); a new guest on that image sees the file; the other guests over the old
// backing read clean (e2fsck) and boot again; merging a running guest and the in-place
// merge are refused (the latter naming every dependent); the backing's sha256 never changes.
import * as child_process from "child_process";
import * as fs from "fs";
import * as path from "path";
import { REPO, testStack, TestStack } from "../helpers/stack";
import {
  ensureBuilt,
  labSandbox,
  LabSandbox,
  type GuestInfo as LabGuestInfo,
  runUmlab,
} from "../helpers/lab";
import { buildImage, resolveSpec, sha256File } from "../../provider/image/provider";
import { processAlive, waitFor } from "../../provider/host/process";
import { exec } from "../../sdk/exec";
import * as naming from "../../provider/core/naming";

const workDir = path.join(REPO, "tests/integration/merge-program");

type GuestInfo = Pick<LabGuestInfo, "name" | "pid" | "guestDir" | "bootId" | "mconsole">;

const cli = (args: string[], env: Record<string, string> = {}) => runUmlab(args, { env });

async function halt(g: GuestInfo): Promise<void> {
  child_process.spawnSync("uml_mconsole", [g.mconsole, "halt"], { timeout: 30_000 });
  expect(await waitFor(() => !processAlive(g.pid), 60_000, 200)).toBeTruthy();
}

/** e2fsck -fn of an image file: 0 when the filesystem is clean. */
function fsck(image: string): { code: number | null; out: string } {
  const r = child_process.spawnSync("e2fsck", ["-fn", image], { encoding: "utf8", timeout: 120_000 });
  return { code: r.status, out: `${r.stdout}${r.stderr}` };
}

describe("COW merge: a guest's changes become a new image, the shared backing is never rewritten", () => {
  let sandbox: LabSandbox | undefined;
  let scratch: string;
  let cacheDir: string;
  let backing: string;
  let backingSha: string;
  const stacks: TestStack[] = [];

  beforeAll(async () => {
    sandbox = labSandbox("merge", "umg");
    ({ scratch } = sandbox);
    ensureBuilt();
    cacheDir = path.join(scratch, "cache");
    const image = await buildImage(resolveSpec({ preset: "busybox", cacheDir }));
    backing = image.path;
    backingSha = await sha256File(backing);
  }, 300_000);

  afterAll(async () => {
    for (const t of stacks.reverse()) await t.dispose().catch(() => undefined);
    sandbox?.cleanup();
  }, 600_000);

  test("merge g1 into a new image; m1 sees g1's file; g2/g3 read clean and boot; in place refused", async () => {
    const a = await testStack(workDir, "merge-a", { backing });
    stacks.push(a);
    const upA = await a.stack.up();
    expect(upA.summary.result).toBe("succeeded");
    const labA: string = upA.outputs.labDir.value;
    const [g1, g2, g3] = upA.outputs.guestInfo.value as GuestInfo[];
    const cow = (g: string) => naming.cowPath(labA, `${g}-root`);
    const env = { UMLAB_CACHE: cacheDir };

    expect((await exec(g1, "echo hello-from-g1 > /root/marker && sync")).exitCode).toBe(0);
    expect((await exec(g2, "echo g2-data > /root/g2file && sync")).exitCode).toBe(0);

    // --- a running guest's COW file is refused: the guest writes it ---------------------
    const running = cli(["merge", "--lab", labA, "g1"], env);
    expect(running.status).toBe(1);
    expect(running.stderr).toMatch(
      /cannot merge .*g1-root\.cow: (it is open in process|its guest g1 is running)/,
    );
    expect(running.stderr).toContain("Halt the guest first");

    await halt(g1);

    // --- in place: refused, naming each dependent (lab, guest, file) ---------------------
    const inPlace = cli(["merge", cow("g1"), "--in-place"], env);
    expect(inPlace.status).toBe(1);
    const labId = path.basename(labA);
    expect(inPlace.stderr).toContain("refusing to merge");
    expect(inPlace.stderr).toContain(`lab ${labId}, guest g2: ${cow("g2")}`);
    expect(inPlace.stderr).toContain(`lab ${labId}, guest g3: ${cow("g3")}`);
    expect(inPlace.stderr).toContain("published image in the image cache");
    expect(await sha256File(backing)).toBe(backingSha);

    // --- Image fromCow in another stack: a new guest on the merged image sees the file ---
    const b = await testStack(workDir, "merge-b", { backing, guests: "", fromCow: cow("g1"), cacheDir });
    stacks.push(b);
    const upB = await b.stack.up();
    expect(upB.summary.result).toBe("succeeded");
    const merged = upB.outputs.mergedImage.value as { path: string; sha256: string; key: string };
    expect(merged.path).toBe(path.join(cacheDir, "images", `${merged.sha256}.img`));
    expect(merged.key).toBe(merged.sha256);
    expect(await sha256File(merged.path)).toBe(merged.sha256);
    const [m1] = upB.outputs.guestInfo.value as GuestInfo[];
    expect((await exec(m1, ["cat", "/root/marker"])).stdout).toBe("hello-from-g1\n");
    expect((await exec(m1, ["hostname"])).stdout.trim()).toBe("m1");
    // A second preview: the merged image is no change (its key is its bytes at the merge).
    const pre = await b.stack.preview();
    expect(pre.changeSummary).toEqual({ same: expect.any(Number) });

    // --- the CLI's merge of the same COW file gives the same bytes ----------------------
    const into = path.join(scratch, "g1-merged.img");
    const viaCli = cli(["merge", cow("g1"), "--into", into], env);
    expect(viaCli.status).toBe(0);
    expect(viaCli.stdout).toContain(into);
    expect(await sha256File(into)).toBe(merged.sha256);
    expect(fsck(into).code).toBe(0);

    // --- the other guests over the old backing: filesystems clean, and they boot ---------
    await halt(g2);
    await halt(g3);
    for (const g of ["g2", "g3"]) {
      const img = path.join(scratch, `${g}.img`);
      expect(cli(["merge", cow(g), "--into", img], env).status).toBe(0);
      const r = fsck(img);
      expect({ g, code: r.code }).toEqual({ g, code: 0 });
      fs.rmSync(img);
    }
    const refresh = await a.stack.refresh();
    expect(refresh.summary.result).toBe("succeeded");
    const again = await a.stack.up();
    expect(again.summary.result).toBe("succeeded");
    const [h1, h2, h3] = again.outputs.guestInfo.value as GuestInfo[];
    expect(new Set([h1.bootId, h2.bootId, h3.bootId, g1.bootId, g2.bootId, g3.bootId]).size).toBe(6);
    expect((await exec(h2, ["cat", "/root/g2file"])).stdout).toBe("g2-data\n");
    expect((await exec(h1, ["cat", "/root/marker"])).stdout).toBe("hello-from-g1\n");
    expect((await exec(h3, ["ls", "/root/marker"])).exitCode).not.toBe(0); // g1's file stayed g1's
    expect(await sha256File(backing)).toBe(backingSha);
  }, 1_200_000);
});
