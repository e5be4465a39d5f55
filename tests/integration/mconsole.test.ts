// The management console and disk hot-plug on real UML under the real Pulumi engine: sysrq,
// proc and version answer; `stop` freezes the guest (exec gets no answer) and `go` brings it
// back with the same boot id; anything not allowed is refused listing what is; a disk added to
// a running guest is previewed as an update and plugged with the boot id unchanged, written
// in the guest and found in the host file after it is unplugged; a disk another running guest
// has is refused naming it; the talk's "boot the killed node without its disk, look at
// /dev/ubd*, repair it through the console" works from the CLI.
import * as fs from "fs";
import * as path from "path";
import { REPO, testStack, TestStack } from "../helpers/stack";
import { ensureBuilt, labSandbox, LabSandbox, runUmlab } from "../helpers/lab";
import { buildImage, resolveSpec } from "../../provider/image/provider";
import { waitFor } from "../../provider/host/process";
import { exec } from "../../sdk/exec";
import { mconsole, MconsoleRefused } from "../../sdk/mconsole";

const workDir = path.join(REPO, "tests/integration/mconsole-program");

interface GuestInfo {
  name: string;
  pid: number;
  guestDir: string;
  bootId: string;
  mconsole: string;
}

const cli = (args: string[]) => runUmlab(args, { timeoutMs: 60_000 });

const partitions = async (g: GuestInfo) => (await exec(g, "cat /proc/partitions")).stdout;

describe("mconsole and disk hot-plug", () => {
  let sandbox: LabSandbox | undefined;
  let t: TestStack;
  let labDir: string;
  let g1: GuestInfo;
  let g2: GuestInfo;
  let disk: string;

  beforeAll(async () => {
    sandbox = labSandbox("mconsole", "ucn");
    ensureBuilt();
    const cache = path.join(sandbox.scratch, "cache");
    const image = await buildImage(resolveSpec({ preset: "busybox", cacheDir: cache }));
    t = await testStack(workDir, "con-mconsole", { backing: image.path });
    const up = await t.stack.up();
    expect(up.summary.result).toBe("succeeded");
    labDir = up.outputs.labDir.value;
    [g1, g2] = up.outputs.guestInfo.value as GuestInfo[];
    disk = path.join(labDir, "data1.img");
    fs.writeFileSync(disk, Buffer.alloc(4 << 20));
  }, 300_000);

  afterAll(async () => {
    if (t) await t.dispose().catch(() => undefined);
    sandbox?.cleanup();
  }, 300_000);

  test("version, proc and sysrq answer through the SDK and the CLI", async () => {
    expect(await mconsole(g1, "version")).toMatch(/6\.1/);
    expect((await mconsole(g1, ["proc", "sys/kernel/random/boot_id"])).trim()).toBe(g1.bootId);
    await mconsole(g1, "sysrq s");
    const log = path.join(g1.guestDir, "console.log");
    expect(
      await waitFor(() => /Emergency Sync/.test(fs.readFileSync(log, "utf8")), 10_000, 100),
    ).toBeTruthy();
    const r = cli(["mconsole", "--lab", labDir, "g1", "proc", "meminfo"]);
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/MemTotal/);
  }, 60_000);

  test("commands outside the list are refused, listing what is allowed, and nothing is sent", async () => {
    const r = cli(["mconsole", "--lab", labDir, "g1", "remove", "ubd0"]);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/"remove" is not an allowed console command/);
    expect(r.stderr).toMatch(/sysrq <key>/);
    await expect(mconsole(g1, "sysrq ;")).rejects.toBeInstanceOf(MconsoleRefused);
    await expect(mconsole(g1, "halt now")).rejects.toThrow(/halt takes no argument/);
    // Still running, same boot.
    expect((await mconsole(g1, "proc sys/kernel/random/boot_id")).trim()).toBe(g1.bootId);
    const gone = cli(["mconsole", "--lab", labDir, "g9", "version"]);
    expect(gone.status).not.toBe(0);
    expect(gone.stderr).toMatch(/not running|no console socket/);
  }, 60_000);

  test("stop freezes the guest (exec gets no answer), go brings it back with the same boot id", async () => {
    expect(cli(["mconsole", "--lab", labDir, "g1", "stop"]).status).toBe(0);
    try {
      const err = await exec(g1, "echo alive", { timeoutMs: 3000 }).catch((e) => e);
      expect(err.reason).toBe("timeout");
    } finally {
      expect(cli(["mconsole", "--lab", labDir, "g1", "go"]).status).toBe(0);
    }
    expect((await exec(g1, "echo alive", { timeoutMs: 30_000 })).stdout).toBe("alive\n");
    expect((await mconsole(g1, "proc sys/kernel/random/boot_id")).trim()).toBe(g1.bootId);
  }, 90_000);

  test("a disk added to a running guest is an update: plugged, written, boot id unchanged", async () => {
    await t.stack.setConfig("g1Disk", { value: disk });
    const pre = await t.stack.preview();
    expect(pre.changeSummary.update).toBe(1);
    expect(pre.changeSummary.replace ?? 0).toBe(0);
    const up = await t.stack.up();
    expect(up.summary.result).toBe("succeeded");
    const now = (up.outputs.guestInfo.value as GuestInfo[])[0];
    expect(now.bootId).toBe(g1.bootId);
    expect(now.pid).toBe(g1.pid);
    expect(await partitions(g1)).toMatch(/ubdb/);
    expect((await exec(g1, "printf hotplug-marker-1 > /dev/ubdb && sync && echo ok")).stdout).toBe("ok\n");
  }, 300_000);

  test("the same disk is refused for another running guest, naming the one that has it", async () => {
    await t.stack.setConfig("g2Disk", { value: disk });
    const err = await t.stack.up().catch((e) => e);
    expect(String(err)).toMatch(/in use by guest g1/);
    expect(await partitions(g2)).not.toMatch(/ubdb/);
    await t.stack.removeConfig("g2Disk");
  }, 300_000);

  test("removing it unplugs it in place; the host file has what the guest wrote", async () => {
    await t.stack.removeConfig("g1Disk");
    const up = await t.stack.up();
    expect(up.summary.resourceChanges?.replace ?? 0).toBe(0);
    expect((up.outputs.guestInfo.value as GuestInfo[])[0].bootId).toBe(g1.bootId);
    expect(await partitions(g1)).not.toMatch(/ubdb/);
    expect(fs.readFileSync(disk).subarray(0, 16).toString()).toBe("hotplug-marker-1");
  }, 300_000);

  test("a host file the guest must not have is refused, and nothing is plugged", async () => {
    for (const [file, why] of [
      ["/etc/shadow", /not writable by the guests' user|cannot link it/],
      ["/dev/sda", /no such regular file/],
      [labDir, /no such regular file/],
    ] as const) {
      const r = cli(["mconsole", "--lab", labDir, "g2", "config", `ubd1=${file}`]);
      expect(r.status).toBe(1);
      expect(r.stderr).toMatch(why);
    }
    expect(cli(["mconsole", "--lab", labDir, "g2", "config", `ubd0=${disk}`]).stderr).toMatch(/root disk/);
    expect(await partitions(g2)).not.toMatch(/ubdb/);
    expect(fs.readdirSync(path.join(labDir, "hotplug", "g2"))).toEqual([]);
  }, 120_000);

  test("the talk's repair: a guest without its disk shows it missing; mconsole config plugs it", async () => {
    // g2 booted without ubd1 (the killed node, rebooted without its shared disk).
    expect(await partitions(g2)).not.toMatch(/ubdb/);
    const r = cli(["mconsole", "--lab", labDir, "g2", "config", `ubd1=${disk}`]);
    expect(r.stderr).toBe("");
    expect(r.status).toBe(0);
    expect(await partitions(g2)).toMatch(/ubdb/);
    expect((await exec(g2, "head -c 16 /dev/ubdb")).stdout).toBe("hotplug-marker-1");
    expect((await mconsole(g2, "proc sys/kernel/random/boot_id")).trim()).toBe(g2.bootId);
  }, 120_000);
});
