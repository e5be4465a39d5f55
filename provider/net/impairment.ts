// Faults as state (the one imperative fault, crashGuest, is in provider/guest/power.ts).
//
// - Impairment: a lossy/slow link between a guest NIC and a vde switch. It is a private
//   vde_switch (the guest plugs into it like into any switch) joined to the real switch by
//   a VDE `wirefilter` carrying the loss/delay/rate settings. Changing the settings, or the
//   real switch restarting, restarts only the wirefilter: the guest's NIC stays plugged.
//   (The busybox image's `tc` has no netem, so the filter lives on the host side.)
// Switch `suspended` and Guest `paused` live in provider/net/switch.ts and provider/guest/power.ts.
import * as fs from "fs";
import type * as pulumi from "@pulumi/pulumi";
import * as host from "../host/process";
import * as reap from "../host/reap";
import * as naming from "../core/naming";
import { giveToGuest } from "../lab/guest-user";
import {
  impairmentSchema,
  impairmentPolicy,
  ImpairmentInputs,
  CheckFailure,
  labSocketFailures,
} from "../core/schemas";
import { planFromPolicy, diffResult } from "../core/diff";
import { defineProvider, checkInputs } from "../core/define";

export interface ImpairmentOutputs extends ImpairmentInputs {
  /** What guests plug into (a NIC `switch`): always a vde control directory. */
  control: string;
  engine: "vde";
  /** The private switch's process and `<pid>:<start time>` (NICs take it as switchInstance). */
  pid: number;
  instance: string;
  filterPid: number;
  filterInstance: string;
}

/** wirefilter's settings as argv (only the ones set, so "all zero" is a plain wire). */
export function filterArgs(i: Pick<ImpairmentInputs, "lossPercent" | "delayMs" | "rateKbit">): string[] {
  const out: string[] = [];
  if (i.lossPercent > 0) out.push("-l", String(i.lossPercent));
  if (i.delayMs > 0) out.push("-d", String(i.delayMs));
  if (i.rateKbit > 0) out.push("-b", String(i.rateKbit * 125)); // bytes per second
  return out;
}

/** Only its place replaces; settings and upstream in place (core/schemas/impairment.ts). */
export function planImpairment(olds: ImpairmentInputs, news: ImpairmentInputs): pulumi.dynamic.DiffResult {
  return diffResult(planFromPolicy(impairmentPolicy, olds, news));
}

/**
 * What zod cannot see: wirefilter plugs into vde switches only, and the private switch's
 * sockets (its control socket, the ports guests and the wirefilter bind) must fit in sun_path.
 */
function impairmentFailures(i: ImpairmentInputs): CheckFailure[] {
  if (i.upstreamEngine === "uml_switch")
    return [
      {
        property: "switch",
        reason: 'an Impairment needs a switch with engine "vde" (wirefilter plugs into vde switches only)',
      },
    ];
  return labSocketFailures(i);
}

export function checkImpairment(news: any): { inputs: any; failures?: CheckFailure[] } {
  return checkInputs(impairmentSchema(), news, impairmentFailures);
}

/** Run a daemonizing tool and return the pid from its pid file (also HostLink's filter). */
export async function startDaemon(
  cmd: string,
  args: string[],
  pidFile: string,
  log: string,
): Promise<number> {
  fs.rmSync(pidFile, { force: true });
  await host.run(cmd, args, { timeoutMs: 10_000 });
  const pid = await host.waitFor(() => host.readPid(pidFile), 10_000);
  if (!pid) throw new Error(`${cmd} did not write ${pidFile}\n${host.fileTail(log, 10)}`);
  return pid;
}

async function startFilter(i: ImpairmentInputs): Promise<{ filterPid: number; filterInstance: string }> {
  const p = naming.impairmentPaths(i.labDir, i.name);
  await reap.reapPrevious("wirefilter", [p.filterPid], `impairment ${i.name}`);
  const pid = await startDaemon(
    "wirefilter",
    ["-v", `${p.control}:${i.upstream}`, ...filterArgs(i), "--daemon", "--pidfile", p.filterPid],
    p.filterPid,
    p.filterLog,
  );
  const instance = host.processInstance(pid);
  if (!instance) throw new Error(`wirefilter for ${i.name} exited at once`);
  return { filterPid: pid, filterInstance: instance };
}

export const impairmentProvider = defineProvider<ImpairmentInputs, ImpairmentOutputs>({
  schema: impairmentSchema,
  policy: impairmentPolicy,
  checkMore: impairmentFailures,

  async create(i) {
    const p = naming.impairmentPaths(i.labDir, i.name);
    fs.mkdirSync(p.dir, { recursive: true, mode: 0o700 });
    // Its private switch and wirefilter still running (an interrupted run): stop them first.
    await reap.reapPrevious("wirefilter", [p.filterPid], `impairment ${i.name}`);
    await reap.reapPrevious("vde_switch", [p.pidFile], `impairment ${i.name}`);
    fs.rmSync(p.control, { recursive: true, force: true });
    const pid = await startDaemon("vde_switch", ["-s", p.control, "-d", "-p", p.pidFile], p.pidFile, p.log);
    const instance = host.processInstance(pid) as string;
    // Guests may run as a user of their own (core/guest-user.ts): they plug in here.
    await host.waitFor(() => fs.existsSync(`${p.control}/ctl`), 10_000);
    giveToGuest(i.labDir, [p.control, `${p.control}/ctl`]);
    let filter;
    try {
      filter = await startFilter(i);
    } catch (e) {
      await host.stopGroup(pid);
      throw e;
    }
    const outs: ImpairmentOutputs = { ...i, control: p.control, engine: "vde", pid, instance, ...filter };
    return { id: `${i.name}@${i.labDir}`, outs };
  },

  // read: the default (gone when the private switch is gone: the next up makes it, and guests
  // re-plug). A wirefilter that died alone is not noticed here yet: the link stays cut until
  // the next settings change.

  async update(o, n) {
    // Settings or the upstream switch: a new wirefilter, the same private switch.
    await host.stopRun(o.filterPid, o.filterInstance);
    const filter = await startFilter(n);
    return { ...o, ...n, control: o.control, engine: "vde", ...filter };
  },

  async delete(o) {
    await host.stopRun(o.filterPid, o.filterInstance);
    await host.stopRun(o.pid, o.instance);
    const p = naming.impairmentPaths(o.labDir, o.name);
    for (const f of [p.control, p.pidFile, p.log, p.filterPid, p.filterLog])
      fs.rmSync(f, { recursive: true, force: true });
  },
});
