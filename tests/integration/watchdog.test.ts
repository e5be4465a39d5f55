// The Guest's watchdog option on real UML under the real Pulumi engine: a guest with
// `watchdog: { timeoutSeconds: 5 }` has /dev/umlab-watchdog (softdog); while a feeder started
// through the exec agent writes to it the guest keeps running; once the feeder stops, softdog
// reboots the guest inside the same host process (new boot id, the init runs again); a new
// timeout previews as a replace; destroy leaves nothing.
import * as fs from "fs";
import * as path from "path";
import { REPO, testStack, TestStack } from "../helpers/stack";
import {
  ensureBuilt,
  labSandbox,
  LabSandbox,
  processesMentioning,
  type GuestInfo as LabGuestInfo,
} from "../helpers/lab";
import { buildImage, resolveSpec } from "../../provider/image/provider";
import { processAlive, processInstance, waitFor } from "../../provider/host/process";
import { mconsole } from "../../provider/host/mconsole";
import { exec } from "../../sdk/exec";

const workDir = path.join(REPO, "tests/integration/watchdog-program");

type GuestInfo = Pick<LabGuestInfo, "name" | "pid" | "guestDir" | "bootId" | "mconsole">;

async function bootId(g: GuestInfo): Promise<string> {
  const r = await mconsole.proc(g.mconsole, "sys/kernel/random/boot_id", 5000);
  return r.ok ? r.text.trim() : "";
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe("Guest watchdog: the dead-man switch", () => {
  let sandbox: LabSandbox | undefined;
  let scratch: string;
  let runtime: string;
  let t: TestStack;
  let labDir: string;
  let g1: GuestInfo;

  beforeAll(async () => {
    sandbox = labSandbox("wd", "uwd");
    ({ scratch, runtime } = sandbox);
    ensureBuilt();
    const image = await buildImage(resolveSpec({ preset: "busybox", cacheDir: path.join(scratch, "cache") }));
    t = await testStack(workDir, "watchdog", { backing: image.path });
    const up = await t.stack.up();
    expect(up.summary.result).toBe("succeeded");
    labDir = up.outputs.labDir.value;
    g1 = up.outputs.guest.value as GuestInfo;
  }, 300_000);

  afterAll(async () => {
    if (t) await t.dispose().catch(() => undefined);
    sandbox?.cleanup();
  }, 300_000);

  test("the guest has /dev/umlab-watchdog: softdog with the configured timeout", async () => {
    expect(fs.readFileSync(path.join(g1.guestDir, "config"), "utf8")).toContain("watchdog softdog 5\n");
    const r = await exec(g1, "readlink /dev/umlab-watchdog; test -c /dev/umlab-watchdog && echo char-device");
    expect(r.stdout).toBe("/dev/watchdog1\nchar-device\n");
    // This kernel exposes neither softdog's parameters nor watchdog sysfs attributes: its log says.
    const log = await exec(g1, "dmesg | grep 'softdog: initialized'");
    expect(log.stdout).toMatch(/soft_margin=5 sec .*nowayout=1/);
    expect(fs.readFileSync(path.join(g1.guestDir, "state", "init.log"), "utf8")).toContain(
      "ok: ln -sf /dev/watchdog1 /dev/umlab-watchdog",
    );
  });

  test("fed, the guest keeps running; once the feeder stops it reboots in the same host process", async () => {
    const before = await bootId(g1);
    expect(before).toBe(g1.bootId);
    const instance = processInstance(g1.pid);
    // A feeder detached from the request: feeds every second (counting in /run/feeds, a
    // tmpfs) until /run/stop-feeding exists.
    const feeder = await exec(
      g1,
      "(exec 3>/dev/umlab-watchdog; i=0; while [ ! -e /run/stop-feeding ]; do echo 1 >&3; " +
        "i=$((i+1)); echo $i >/run/feeds; sleep 1; done) </dev/null >/dev/null 2>&1 &",
    );
    expect(feeder.exitCode).toBe(0);
    // Three timeouts while fed: no reboot.
    await sleep(15_000);
    expect(await bootId(g1)).toBe(before);
    expect(Number((await exec(g1, ["cat", "/run/feeds"])).stdout)).toBeGreaterThan(1);

    const readyFile = path.join(g1.guestDir, "state", "ready");
    const readyBefore = fs.statSync(readyFile).mtimeMs;
    await exec(g1, ["touch", "/run/stop-feeding"]);
    const stopped = Date.now();
    let after = before;
    const rebooted = await waitFor(
      async () => {
        after = await bootId(g1);
        return after !== "" && after !== before;
      },
      120_000,
      250,
    );
    const rebootMs = Date.now() - stopped;
    expect(rebooted).toBe(true);
    // The init ran again: state/ready rewritten, the symlink back, the exec agent answering.
    expect(
      await waitFor(
        () => fs.existsSync(readyFile) && fs.statSync(readyFile).mtimeMs > readyBefore,
        120_000,
        100,
      ),
    ).toBe(true);
    console.log(
      `watchdog reboot: new boot id ${rebootMs} ms after the feeder stopped (timeout 5 s); ready again after ${
        Date.now() - stopped
      } ms`,
    );
    const r = await exec(g1, "readlink /dev/umlab-watchdog; test -e /run/stop-feeding || echo new-boot");
    expect(r.stdout).toBe("/dev/watchdog1\nnew-boot\n");
    // Same host process: no plug-pull.
    expect(processAlive(g1.pid)).toBe(true);
    expect(processInstance(g1.pid)).toBe(instance);
    expect(fs.readFileSync(path.join(g1.guestDir, "console.log"), "utf8")).toMatch(/softdog.*reboot/i);
  }, 300_000);

  test("a new watchdog timeout previews as a replace; destroy leaves nothing", async () => {
    await t.stack.setConfig("timeoutSeconds", { value: "6" });
    const preview = await t.stack.preview({ diff: true });
    expect(preview.changeSummary).toEqual({ same: expect.any(Number), replace: 1 });
    expect(preview.stdout).toMatch(/umlab:Guest: \(replace\)/);
    expect(preview.stdout).toMatch(/watchdog/);

    const d = await t.stack.destroy();
    expect(d.summary.result).toBe("succeeded");
    expect(fs.existsSync(labDir)).toBe(false);
    expect(processesMentioning(runtime)).toEqual([]);
    expect(processAlive(g1.pid)).toBe(false);
  }, 300_000);
});
