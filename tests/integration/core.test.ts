// The core lab on real UML under the real Pulumi engine (Automation API): two stacks of one
// program side by side; guests ping each other through the switch; a NIC added to a
// running guest is an in-place update that does not reboot it; a killed guest is noticed
// by refresh and brought back by up; destroy leaves no process, socket or file; the
// shared backing image is never written.
import * as child_process from "child_process";
import * as fs from "fs";
import * as path from "path";
import { REPO, testStack, TestStack } from "../helpers/stack";
import {
  labSandbox,
  LabSandbox,
  processesMentioning,
  consolePing,
  type GuestInfo as LabGuestInfo,
} from "../helpers/lab";
import { buildImage, resolveSpec, sha256File } from "../../provider/image/provider";
import { processAlive, waitFor } from "../../provider/host/process";
import { exec } from "../../sdk/exec";

const workDir = path.join(REPO, "tests/integration/core-program");

type GuestInfo = Pick<LabGuestInfo, "name" | "pid" | "mconsole" | "consoleLog" | "guestDir" | "bootId">;

function mconsole(socket: string, ...words: string[]): { ok: boolean; text: string } {
  const r = child_process.spawnSync("uml_mconsole", [socket, ...words], {
    encoding: "utf8",
    timeout: 15_000,
  });
  const out = (r.stdout ?? "").trim();
  return { ok: r.status === 0 && out.startsWith("OK"), text: out.replace(/^(OK|ERR)\s*/, "").trim() };
}

/** Every file, directory and socket under a directory (empty when it does not exist). */
function tree(dir: string): string[] {
  if (!fs.existsSync(dir)) return [];
  return (fs.readdirSync(dir, { recursive: true }) as string[]).map((p) => path.join(dir, p));
}

async function pingsDone(g: GuestInfo, neighbours: string[]): Promise<boolean> {
  const files = neighbours.map((n) => path.join(g.guestDir, "state", `ping-${n}`));
  return !!(await waitFor(() => files.every((f) => fs.existsSync(f)), 90_000, 250));
}

function uptime(g: GuestInfo): number {
  const r = mconsole(g.mconsole, "proc", "uptime");
  return Number(r.text.split(/\s+/)[0]);
}

const ADDR = ["10.0.0.1", "10.0.0.2", "10.0.0.3"];

describe("core lab: Switch, CowDisk, Guest and Lab on real UML", () => {
  let sandbox: LabSandbox | undefined;
  let scratch: string;
  let runtime: string;
  let backing: string;
  let backingSha: string;
  const stacks: TestStack[] = [];

  beforeAll(async () => {
    sandbox = labSandbox("core", "uct");
    ({ scratch, runtime } = sandbox);
    const image = await buildImage(resolveSpec({ preset: "busybox", cacheDir: path.join(scratch, "cache") }));
    backing = image.path;
    backingSha = await sha256File(backing);
  }, 300_000);

  afterAll(async () => {
    for (const t of stacks) await t.dispose().catch(() => undefined);
    // Whatever a failure left running: whole process groups (UML helpers too), then the dirs.
    sandbox?.cleanup();
  }, 300_000);

  async function upStack(name: string): Promise<{ t: TestStack; guests: GuestInfo[]; labDir: string }> {
    const t = await testStack(workDir, name, { backing });
    stacks.push(t);
    const up = await t.stack.up();
    expect(up.summary.result).toBe("succeeded");
    return {
      t,
      guests: up.outputs.guestInfo.value as GuestInfo[],
      labDir: up.outputs.labDir.value as string,
    };
  }

  test("two stacks of one program run side by side; each lab's guests ping each other; in-place NIC add; kill -9 + refresh + up; destroy leaves nothing", async () => {
    // --- two stacks at once --------------------------------------------------------------
    const [a, b] = await Promise.all([upStack("a"), upStack("b")]);
    expect(a.labDir).not.toBe(b.labDir);
    for (const lab of [a, b]) {
      expect(fs.statSync(lab.labDir).mode & 0o777).toBe(0o700);
      expect(Buffer.byteLength(lab.guests[0].mconsole)).toBeLessThan(108);
      for (const [k, g] of lab.guests.entries()) {
        expect(processAlive(g.pid)).toBe(true);
        expect(fs.statSync(g.mconsole).isSocket()).toBe(true);
        expect(fs.existsSync(path.join(g.guestDir, "state", "ready"))).toBe(true);
        // The startup script pinged every neighbour through the switch.
        expect(
          await pingsDone(
            g,
            ADDR.filter((_, j) => j !== k),
          ),
        ).toBe(true);
      }
    }

    // IPv4 NIC addresses carry their broadcast address (brd +): heartbeat's bcast needs it.
    const inet = await exec({ labDir: a.labDir, name: "g1" }, ["ip", "-4", "addr", "show", "dev", "eth0"]);
    expect(inet.stdout).toMatch(/inet 10\.0\.0\.1\/24 brd 10\.0\.0\.255 /);

    // --- a no-op preview is quiet ------------------------------------------------------
    const quiet = await a.t.stack.preview();
    expect(Object.keys(quiet.changeSummary)).toEqual(["same"]);

    // --- add a NIC to a running guest ------------------------------------------------------
    const g1 = a.guests[0];
    const uptimeBefore = uptime(g1);
    expect(mconsole(g1.mconsole, "proc", "sys/net/ipv4/conf/eth1/forwarding").ok).toBe(false);
    await a.t.stack.setConfig("extraNic", { value: "true" });
    const preview = await a.t.stack.preview({ diff: true });
    expect(preview.changeSummary).toEqual({ same: expect.any(Number), update: 1 });
    expect(preview.stdout).toMatch(/~ pulumi-nodejs:dynamic\/umlab:Guest: \(update\)[\s\S]*g1/);
    expect(preview.stdout).not.toMatch(/replace/);
    const up2 = await a.t.stack.up();
    expect(up2.summary.resourceChanges).toEqual({ same: expect.any(Number), update: 1 });
    // The NIC is there, the guest was not rebooted: same boot id, uptime kept growing.
    expect(mconsole(g1.mconsole, "proc", "sys/net/ipv4/conf/eth1/forwarding").ok).toBe(true);
    expect(mconsole(g1.mconsole, "proc", "sys/kernel/random/boot_id").text).toBe(g1.bootId);
    expect(uptime(g1)).toBeGreaterThan(uptimeBefore);
    const g1After = (up2.outputs.guestInfo.value as GuestInfo[])[0];
    expect(g1After.pid).toBe(g1.pid);

    // --- kill -9 a guest: refresh notices, up brings it back ----------------------------
    const g2 = a.guests[1];
    process.kill(g2.pid, "SIGKILL");
    await waitFor(() => !processAlive(g2.pid), 10_000);
    const refresh = await a.t.stack.refresh();
    expect(refresh.summary.resourceChanges).toMatchObject({ delete: 1 });
    // Its helper processes went with it (refresh signals the dead guest's group).
    expect(processesMentioning(`umid=g2 `).filter((p) => p.cmd.includes(a.labDir))).toEqual([]);
    const back = await a.t.stack.preview();
    expect(back.changeSummary).toEqual({ same: expect.any(Number), create: 1 });
    const up3 = await a.t.stack.up();
    expect(up3.summary.resourceChanges).toMatchObject({ create: 1 });
    const g2New = (up3.outputs.guestInfo.value as GuestInfo[])[1];
    expect(g2New.pid).not.toBe(g2.pid);
    expect(processAlive(g2New.pid)).toBe(true);
    expect(mconsole(g2New.mconsole, "version").ok).toBe(true);
    expect(g2New.bootId).not.toBe(g2.bootId);

    // --- destroying one stack leaves the other running ----------------------------------
    const d1 = await a.t.stack.destroy();
    expect(d1.summary.result).toBe("succeeded");
    expect(fs.existsSync(a.labDir)).toBe(false);
    expect(processesMentioning(a.labDir)).toEqual([]);
    for (const g of b.guests) {
      expect(processAlive(g.pid)).toBe(true);
      expect(mconsole(g.mconsole, "version").ok).toBe(true);
    }

    // --- and then nothing is left at all ------------------------------------------------
    const d2 = await b.t.stack.destroy();
    expect(d2.summary.result).toBe("succeeded");
    expect(processesMentioning(runtime)).toEqual([]);
    for (const g of [...a.guests, ...b.guests, g2New]) expect(processAlive(g.pid)).toBe(false);
    expect(tree(runtime)).toEqual([]);

    // The shared backing image was only ever read.
    expect(await sha256File(backing)).toBe(backingSha);
  });

  test("a replaced or restarted switch re-plugs its guests' NICs in place: no guest reboots, traffic flows again", async () => {
    const c = await upStack("c");
    for (const [k, g] of c.guests.entries())
      expect(
        await pingsDone(
          g,
          ADDR.filter((_, j) => j !== k),
        ),
      ).toBe(true);

    // A refresh of a running, unchanged lab changes nothing.
    const quiet = await c.t.stack.refresh();
    expect(Object.keys(quiet.summary.resourceChanges ?? {})).toEqual(["same"]);

    // uml_switch -> vde_switch: the switches are replaced (delete first: same names), the
    // guests only see their NICs re-plugged.
    await c.t.stack.setConfig("engine", { value: "vde" });
    const preview = await c.t.stack.preview({ diff: true });
    expect(preview.changeSummary).toEqual({ same: expect.any(Number), replace: 2, update: 3 });
    expect(preview.stdout).not.toMatch(/Guest[^\n]*replace/);
    const up = await c.t.stack.up();
    expect(up.summary.resourceChanges).toEqual({ same: expect.any(Number), replace: 2, update: 3 });
    const after = up.outputs.guestInfo.value as GuestInfo[];
    for (const [k, g] of c.guests.entries()) {
      expect(after[k].pid).toBe(g.pid);
      expect(mconsole(g.mconsole, "proc", "sys/kernel/random/boot_id").text).toBe(g.bootId);
    }
    expect(await consolePing(c.guests[0], "10.0.0.3", "reping")).toBe(true);
    expect(await consolePing(c.guests[1], "10.0.0.1", "reping")).toBe(true);

    // kill -9 the switch: refresh notices, up restarts it and re-plugs the guests.
    const sw0 = (up.outputs.switches.value as Record<string, { pid: number }>).sw0.pid;
    process.kill(sw0, "SIGKILL");
    await waitFor(() => !processAlive(sw0), 10_000);
    const refresh = await c.t.stack.refresh();
    expect(refresh.summary.resourceChanges).toMatchObject({ delete: 1 });
    const again = await c.t.stack.preview();
    expect(again.changeSummary).toEqual({ same: expect.any(Number), create: 1, update: 3 });
    await c.t.stack.up();
    expect(await consolePing(c.guests[2], "10.0.0.2", "reping")).toBe(true);
    for (const g of c.guests)
      expect(mconsole(g.mconsole, "proc", "sys/kernel/random/boot_id").text).toBe(g.bootId);

    // A guest whose mconsole socket is gone (as when it is stuck rebooting) is still
    // stopped by destroy: its process group is signalled.
    fs.rmSync(c.guests[0].mconsole);
    await c.t.stack.destroy();
    expect(processAlive(c.guests[0].pid)).toBe(false);
    expect(fs.existsSync(c.labDir)).toBe(false);
    expect(processesMentioning(c.labDir)).toEqual([]);
  });
});
