// netem on a NIC, in the guest, under the real Pulumi engine: two Debian guests on one switch;
// a loss setting on g2's NIC previews as an update, is applied in place through the exec agent
// and shows in ping statistics; a reboot keeps it (the init applies the contract's netem line);
// removing it clears it in place (same boot id).
import * as fs from "fs";
import * as path from "path";
import { REPO, testStack, TestStack } from "../helpers/stack";
import { labSandbox, LabSandbox, type GuestInfo as LabGuestInfo } from "../helpers/lab";
import { parsePingStats } from "../helpers/ospf";
import { processAlive, waitFor } from "../../provider/host/process";
import { exec } from "../../sdk/exec";

const workDir = path.join(REPO, "tests/integration/netem-program");

type GuestInfo = Pick<LabGuestInfo, "name" | "pid" | "guestDir" | "bootId">;

describe("netem on a NIC in the guest", () => {
  let sandbox: LabSandbox | undefined;
  let t: TestStack;
  let g1: GuestInfo;
  let g2: GuestInfo;

  beforeAll(async () => {
    sandbox = labSandbox("netem", "unm");
    t = await testStack(workDir, "netem");
    const up = await t.stack.up();
    expect(up.summary.result).toBe("succeeded");
    [g1, g2] = up.outputs.guestInfo.value as GuestInfo[];
  }, 900_000);

  afterAll(async () => {
    if (t) await t.dispose().catch(() => undefined);
    sandbox?.cleanup();
  }, 300_000);

  const ping = async (count: number) =>
    parsePingStats(
      (
        await exec(g1, ["ping", "-c", String(count), "-i", "0.2", "-W", "1", "10.0.0.2"], {
          timeoutMs: 60_000,
        })
      ).stdout,
    );

  test("a loss setting is an in-place update that shows in ping statistics, survives a reboot; removing it clears it", async () => {
    const one = async () => (await exec(g1, ["ping", "-c", "1", "-W", "1", "10.0.0.2"])).exitCode;
    expect(await waitFor(async () => (await one()) === 0, 20_000, 200)).toBe(true);

    await t.stack.setConfig("loss", { value: "40" });
    const preview = await t.stack.preview({ diff: true });
    expect(preview.changeSummary).toEqual({ same: expect.any(Number), update: 1 });
    expect(preview.stdout).not.toMatch(/replace/);
    await t.stack.up();
    expect((await exec(g2, ["tc", "qdisc", "show", "dev", "eth0"])).stdout).toMatch(/netem .*loss 40%/);
    expect(fs.readFileSync(path.join(g2.guestDir, "config"), "utf8")).toContain(
      "netem eth0 loss 40 delay 0 jitter 0 rate 0\n",
    );
    const lossy = await ping(30);
    console.log(`netem loss 40 %: ${lossy.lost} of ${lossy.transmitted} pings lost`);
    expect(lossy.transmitted).toBe(30);
    expect(lossy.lost).toBeGreaterThan(0);

    // A reboot keeps it: the init applies the config's netem line (kill -9, refresh, up).
    process.kill(-g2.pid, "SIGKILL");
    await waitFor(() => !processAlive(g2.pid), 10_000);
    await t.stack.refresh();
    const rebooted = await t.stack.up();
    const g2New = (rebooted.outputs.guestInfo.value as GuestInfo[])[1];
    expect(g2New.bootId).not.toBe(g2.bootId);
    g2 = g2New;
    expect(fs.readFileSync(path.join(g2.guestDir, "state/init.log"), "utf8")).toContain(
      "ok: tc qdisc replace dev eth0 root netem loss 40%",
    );
    expect((await exec(g2, ["tc", "qdisc", "show", "dev", "eth0"])).stdout).toMatch(/netem .*loss 40%/);

    await t.stack.setConfig("loss", { value: "0" });
    const back = await t.stack.preview({ diff: true });
    expect(back.changeSummary).toEqual({ same: expect.any(Number), update: 1 });
    await t.stack.up();
    expect((await exec(g2, ["tc", "qdisc", "show", "dev", "eth0"])).stdout).not.toMatch(/netem/);
    const clean = await ping(20);
    console.log(`netem removed: ${clean.lost} of ${clean.transmitted} pings lost`);
    expect(clean).toMatchObject({ transmitted: 20, lost: 0 });
    const after = (await t.stack.outputs()).guestInfo.value as GuestInfo[];
    expect(after[1].bootId).toBe(g2.bootId);
    expect(after[1].pid).toBe(g2.pid);
  }, 300_000);
});
