// The Guest resource's handlers: a UML guest is one linux.uml process (plus its helpers) in
// its own session. What UML can change while running (its NICs, disks other than ubd0, paused) changes in place;
// everything the guest reads at boot is a replace (core/schemas/guest.ts guestPolicy,
// guest/plan.ts). Booting: guest/boot.ts; NICs: guest/nics.ts; halt/pause: guest/power.ts.
import * as fs from "fs";
import * as host from "../host/process";
import * as reap from "../host/reap";
import * as naming from "../core/naming";
import {
  guestSchema,
  guestPolicy,
  labSocketFailures,
  GuestInputs,
  NicInputs,
  CheckFailure,
} from "../core/schemas";
import { checkInputs, defineProvider } from "../core/define";
import { planGuest, planNics, netemSettings, SWITCH_GONE } from "./plan";
import { bootGuest } from "./boot";
import { applyNicOps, setNetem } from "./nics";
import { readBootId, setPaused, stopGuest } from "./power";
import { hotplugDir, plugDisk, unplugDisk } from "./hotplug";

export interface GuestOutputs extends GuestInputs {
  pid: number;
  /** `<pid>:<start time>` of the UML process (guards against pid reuse). */
  instance: string;
  /** The guest kernel's boot id: unchanged by in-place updates, new after any (re)boot. */
  bootId: string;
  /** `uml_mconsole <mconsole> <command>` talks to the running guest. */
  mconsole: string;
  consoleLog: string;
  guestDir: string;
}

export function checkGuest(news: any): { inputs: any; failures?: CheckFailure[] } {
  return checkInputs(guestSchema(), news, labSocketFailures);
}

/** A NIC whose switch process died has a dead link: marked so the next preview shows its re-plug. */
function markDeadSwitches(nics: NicInputs[]): NicInputs[] {
  return nics.map((n) => {
    const pid = Number(String(n.switchInstance).split(":")[0]);
    const alive = pid > 0 && host.processInstance(pid) === n.switchInstance;
    return alive || n.switchInstance === SWITCH_GONE ? n : { ...n, switchInstance: SWITCH_GONE };
  });
}

/**
 * Stop a running process of this guest that no state records: any process whose argv names
 * its umid and the lab's uml_dir (so also the one in its pid file `<uml_dir>/<umid>/pid`),
 * checked again in /proc just before it is signalled (pids get reused).
 */
export async function stopOrphanGuest(g: Pick<GuestInputs, "labDir" | "name">): Promise<number> {
  const words = [`umid=${g.name}`, `uml_dir=${naming.labPaths(g.labDir).umlDir}`];
  return reap.reapMatching((q) => words.every((w) => q.argv.includes(w)), `guest ${g.name}`);
}

export const guestProvider = defineProvider<GuestInputs, GuestOutputs>({
  schema: guestSchema,
  policy: guestPolicy,
  checkMore: labSocketFailures,
  plan: planGuest,

  async create(g) {
    const p = naming.guestPaths(g.labDir, g.name);
    // Create runs, so no state records this guest: a live process of it is an orphan of an
    // interrupted or failed run (it would hold the name and the mconsole socket). Stop it.
    await stopOrphanGuest(g);
    const { pid, instance } = await bootGuest(g);
    try {
      const bootId = await readBootId(p.mconsole);
      // The init applied the netem lines (or logged why not): check them now, so a guest whose
      // image cannot do netem fails here with the reason instead of running without it.
      const nics = Array.isArray(g.nics) ? (g.nics as NicInputs[]) : [];
      for (const [k, nic] of nics.entries()) if (netemSettings(nic)) await setNetem(g, k);
      if (g.paused) await setPaused({ name: g.name, mconsole: p.mconsole }, true);
      const outs: GuestOutputs = {
        ...g,
        pid,
        instance,
        bootId,
        mconsole: p.mconsole,
        consoleLog: p.consoleLog,
        guestDir: p.dir,
      };
      return { id: `${g.name}@${g.labDir}`, outs };
    } catch (e) {
      // Nothing records this process once create fails: never leave it running.
      host.signalGroup(pid, "SIGCONT"); // a paused guest is not stopped, but be sure
      await host.stopGroup(pid);
      throw e;
    }
  },

  read(o) {
    if (host.sameRun(o.pid, o.instance))
      // The switch itself is dropped by the same refresh; its guests' NICs say it is gone.
      return Array.isArray(o.nics) ? { ...o, nics: markDeadSwitches(o.nics as NicInputs[]) } : o;
    // Dead (kill -9, crash, halted from inside): gone, so the next `up` boots it again.
    // Its helpers may still run in its process group: stop them now.
    if (o.pid && !host.processAlive(o.pid)) host.signalGroup(o.pid, "SIGKILL");
    return undefined;
  },

  async update(o, n) {
    const plan = planGuest(o, n);
    const ops =
      plan.nicOps ??
      planNics(Array.isArray(o.nics) ? o.nics : [], Array.isArray(n.nics) ? (n.nics as NicInputs[]) : []);
    // Resume before (console commands need a running kernel), pause after the NIC changes.
    if (o.paused && !n.paused) await setPaused(o, false);
    if (ops.length > 0) await applyNicOps(o, n, ops);
    for (const op of plan.diskOps ?? [])
      if (op.kind === "unplug") await unplugDisk(o, op.index);
      else await plugDisk(o, op.index, n.disks[op.index].path as string);
    if (n.paused && !o.paused) await setPaused(o, true);
    return {
      ...n,
      pid: o.pid,
      instance: o.instance,
      bootId: o.bootId,
      mconsole: o.mconsole,
      consoleLog: o.consoleLog,
      guestDir: o.guestDir,
    };
  },

  async delete(o) {
    if (o.paused) await setPaused(o, false).catch(() => undefined); // a halt needs a running kernel
    await stopGuest(o);
    const p = naming.guestPaths(o.labDir, o.name);
    fs.rmSync(p.umidDir, { recursive: true, force: true });
    fs.rmSync(p.dir, { recursive: true, force: true });
    fs.rmSync(hotplugDir(o.labDir, o.name), { recursive: true, force: true });
  },
});
