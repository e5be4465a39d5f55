// A SharedDisk on real UML (tests/integration/mconsole-program with sharedMiB): both guests
// boot with it attached (ubd1); the second guest to open it fails (UML's fcntl lock, EAGAIN,
// its console naming the holder's pid), for a mount and for a raw read alike; after the first
// releases it (umount, then halt) the second gets it and reads what the first wrote; a replace
// while guests have it is refused naming them, and the file is kept; destroy removes it.
import * as fs from "fs";
import * as path from "path";
import { REPO, testStack, TestStack } from "../helpers/stack";
import { ensureBuilt, labSandbox, LabSandbox } from "../helpers/lab";
import { buildImage, resolveSpec } from "../../provider/image/provider";
import { processAlive, waitFor } from "../../provider/host/process";
import { exec } from "../../sdk/exec";
import { mconsole } from "../../sdk/mconsole";

const workDir = path.join(REPO, "tests/integration/mconsole-program");

interface GuestInfo {
  name: string;
  pid: number;
  guestDir: string;
  bootId: string;
  mconsole: string;
}

const MOUNT = "mkdir -p /mnt/s && mount /dev/ubdb /mnt/s";

describe("SharedDisk: alternating access, never concurrent", () => {
  let sandbox: LabSandbox | undefined;
  let t: TestStack;
  let g1: GuestInfo;
  let g2: GuestInfo;
  let shared: string;

  beforeAll(async () => {
    sandbox = labSandbox("shared", "ucs");
    ensureBuilt();
    const image = await buildImage(
      resolveSpec({ preset: "busybox", cacheDir: path.join(sandbox.scratch, "cache") }),
    );
    t = await testStack(workDir, "con-shared", { backing: image.path, sharedMiB: "16" });
    const up = await t.stack.up();
    expect(up.summary.result).toBe("succeeded");
    [g1, g2] = up.outputs.guestInfo.value as GuestInfo[];
    shared = up.outputs.sharedPath.value;
  }, 300_000);

  afterAll(async () => {
    if (t) await t.dispose().catch(() => undefined);
    sandbox?.cleanup();
  }, 300_000);

  test("the file is made with its filesystem and both guests have it attached", async () => {
    expect(fs.statSync(shared).size).toBe(16 << 20);
    // ext4's superblock magic 0xEF53 at byte 1080.
    expect(fs.readFileSync(shared).readUInt16LE(1080)).toBe(0xef53);
    for (const g of [g1, g2]) expect((await exec(g, "cat /proc/partitions")).stdout).toMatch(/ubdb/);
  }, 60_000);

  test("the second opener fails while the first has it mounted", async () => {
    const a = await exec(g1, `${MOUNT} && echo from-g1 > /mnt/s/f && sync && echo mounted`);
    expect(a.stdout).toBe("mounted\n");
    const b = await exec(g2, `${MOUNT}; echo rc=$?`);
    expect(b.stdout).toMatch(/rc=[1-9]/);
    expect(b.stderr).toMatch(/Resource temporarily unavailable/);
    const raw = await exec(g2, "dd if=/dev/ubdb of=/dev/null bs=512 count=1; echo rc=$?");
    expect(raw.stdout).toMatch(/rc=[1-9]/);
    const log = path.join(g2.guestDir, "console.log");
    expect(fs.readFileSync(log, "utf8")).toMatch(/file already locked by pid \d+/);
    // g1 still has it and writes on.
    expect((await exec(g1, "cat /mnt/s/f")).stdout).toBe("from-g1\n");
  }, 120_000);

  test("after the first releases it (umount), the second gets it and sees the first's data", async () => {
    expect((await exec(g1, "umount /mnt/s && echo released")).stdout).toBe("released\n");
    const b = await exec(g2, `${MOUNT} && cat /mnt/s/f && echo from-g2 > /mnt/s/g && sync`);
    expect(b.stderr).toBe("");
    expect(b.stdout).toBe("from-g1\n");
    // Now g1 is the one refused.
    expect((await exec(g1, `${MOUNT}; echo rc=$?`)).stdout).toMatch(/rc=[1-9]/);
  }, 120_000);

  test("a replace while guests have it is refused naming them (preview and up); nothing reboots", async () => {
    await t.stack.setConfig("sharedMiB", { value: "32" });
    const pre = await t.stack.preview().catch((e) => e);
    expect(String(pre)).toMatch(/SharedDisk data: cannot replace \(sizeMiB changed\) .* attached to/);
    const err = await t.stack.up().catch((e) => e);
    expect(String(err)).toMatch(/SharedDisk data: cannot replace \(sizeMiB changed\) .* attached to/);
    expect(String(err)).toMatch(/guest g1/);
    expect(String(err)).toMatch(/guest g2/);
    expect(fs.statSync(shared).size).toBe(16 << 20);
    expect((await exec(g2, "cat /mnt/s/g")).stdout).toBe("from-g2\n");
    for (const g of [g1, g2])
      expect((await mconsole(g, "proc sys/kernel/random/boot_id")).trim()).toBe(g.bootId);
    await t.stack.setConfig("sharedMiB", { value: "16" });
  }, 300_000);

  test("a halted holder releases it: the other guest mounts it", async () => {
    await mconsole(g2, "halt").catch(() => undefined);
    expect(await waitFor(() => !processAlive(g2.pid), 60_000, 200)).toBeTruthy();
    const a = await exec(g1, `${MOUNT} && cat /mnt/s/g && umount /mnt/s`);
    expect(a.stdout).toBe("from-g2\n");
  }, 120_000);

  test("destroy removes the file", async () => {
    const d = await t.stack.destroy();
    expect(d.summary.result).toBe("succeeded");
    expect(fs.existsSync(shared)).toBe(false);
  }, 300_000);
});
