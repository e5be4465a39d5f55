// Faults as state (the one imperative fault, crashGuest, is in provider/guest/power.ts).
//
// - Impairment: a lossy/slow link between a guest NIC and a vde switch. It is a private
//   vde_switch (the guest plugs into it like into any switch) joined to the real switch by
//   a VDE `wirefilter` carrying the loss/delay/rate settings. Changing the settings, or the
//   real switch restarting, restarts only the wirefilter: the guest's NIC stays plugged.
//   (The busybox image's `tc` has no netem, so the filter lives on the host side.)
// Switch `suspended` and Guest `paused` live in provider/switch.ts and provider/guest.ts.
import * as fs from "fs";
import type * as pulumi from "@pulumi/pulumi";
import { z } from "zod";
import * as host from "../host/process";
import { schemas, validate, CheckFailure, UNKNOWN } from "../core/schemas";

/** Builds the Impairment schema (in a function: zod objects do not serialize into state). */
export function impairmentSchema() {
  const s = schemas();
  const unk = <T extends z.ZodTypeAny>(t: T) => z.union([z.literal(UNKNOWN), t]);
  return z.object({
    labDir: unk(s.path),
    name: s.name,
    /** The real switch (its engine, control and instance). */
    upstreamEngine: unk(s.engine),
    upstream: unk(s.path),
    upstreamInstance: z.string(),
    /** Frames lost, percent, each direction (0: none). */
    lossPercent: z.number().min(0).max(100).default(0),
    /** Added one-way delay in milliseconds, each direction. */
    delayMs: z.number().int().min(0).default(0),
    /** Bandwidth limit in kbit/s, each direction (0: unlimited). */
    rateKbit: z.number().int().min(0).default(0),
  });
}
export type ImpairmentInputs = z.output<ReturnType<typeof impairmentSchema>>;

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

export function impairmentPaths(labDir: string, name: string) {
  const base = `${labDir}/imp/${name}`;
  return {
    dir: `${labDir}/imp`,
    control: base,
    pidFile: `${base}.pid`,
    log: `${base}.log`,
    filterPid: `${base}.wf.pid`,
    filterLog: `${base}.wf.log`,
  };
}

/** wirefilter's settings as argv (only the ones set, so "all zero" is a plain wire). */
export function filterArgs(i: Pick<ImpairmentInputs, "lossPercent" | "delayMs" | "rateKbit">): string[] {
  const out: string[] = [];
  if (i.lossPercent > 0) out.push("-l", String(i.lossPercent));
  if (i.delayMs > 0) out.push("-d", String(i.delayMs));
  if (i.rateKbit > 0) out.push("-b", String(i.rateKbit * 125)); // bytes per second
  return out;
}

/**
 * Only its place replaces an impairment; settings and the upstream switch change in place. An
 * unknown upstream output (a preview of the switch's update) counts as unchanged, as in planTap.
 */
export function planImpairment(olds: ImpairmentInputs, news: ImpairmentInputs): pulumi.dynamic.DiffResult {
  const replaces = (["labDir", "name"] as const).filter((k) => olds[k] !== news[k]);
  const inPlace = (
    ["upstreamEngine", "upstream", "upstreamInstance", "lossPercent", "delayMs", "rateKbit"] as const
  ).filter((k) => news[k] !== UNKNOWN && olds[k] !== news[k]);
  return { changes: replaces.length + inPlace.length > 0, replaces, deleteBeforeReplace: true };
}

export function checkImpairment(news: any): { inputs: any; failures?: CheckFailure[] } {
  const r = validate(impairmentSchema(), news);
  if (!r.ok) return { inputs: news, failures: r.failures };
  if (r.value.upstreamEngine === "uml_switch")
    return {
      inputs: news,
      failures: [
        {
          property: "switch",
          reason: 'an Impairment needs a switch with engine "vde" (wirefilter plugs into vde switches only)',
        },
      ],
    };
  return { inputs: r.value };
}

function readPid(file: string): number | undefined {
  try {
    return Number(fs.readFileSync(file, "utf8").trim()) || undefined;
  } catch {
    return undefined;
  }
}

function tailOf(file: string): string {
  try {
    return host.lastLines(fs.readFileSync(file, "utf8"), 10);
  } catch {
    return "";
  }
}

/** Run a daemonizing tool and return the pid from its pid file. */
async function startDaemon(cmd: string, args: string[], pidFile: string, log: string): Promise<number> {
  fs.rmSync(pidFile, { force: true });
  await host.run(cmd, args, { timeoutMs: 10_000 });
  const pid = await host.waitFor(() => readPid(pidFile), 10_000);
  if (!pid) throw new Error(`${cmd} did not write ${pidFile}\n${tailOf(log)}`);
  return pid;
}

async function startFilter(i: ImpairmentInputs): Promise<{ filterPid: number; filterInstance: string }> {
  const p = impairmentPaths(i.labDir, i.name);
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

export const impairmentProvider: pulumi.dynamic.ResourceProvider = {
  async check(_olds: any, news: any) {
    return checkImpairment(news);
  },

  async diff(_id: string, olds: any, news: any) {
    return planImpairment(olds, news);
  },

  async create(inputs: any) {
    const i = inputs as ImpairmentInputs;
    const p = impairmentPaths(i.labDir, i.name);
    fs.mkdirSync(p.dir, { recursive: true, mode: 0o700 });
    fs.rmSync(p.control, { recursive: true, force: true });
    const pid = await startDaemon("vde_switch", ["-s", p.control, "-d", "-p", p.pidFile], p.pidFile, p.log);
    const instance = host.processInstance(pid) as string;
    let filter;
    try {
      filter = await startFilter(i);
    } catch (e) {
      await host.stopGroup(pid);
      throw e;
    }
    const outs: ImpairmentOutputs = {
      ...i,
      control: p.control,
      engine: "vde",
      pid,
      instance,
      ...filter,
    };
    return { id: `${i.name}@${i.labDir}`, outs };
  },

  async read(id: string, props: any) {
    const o = props as ImpairmentOutputs;
    // The private switch gone: gone (the next up makes it, and guests re-plug). A wirefilter
    // that died alone is not noticed here yet: the link stays cut until the next settings change.
    if (!host.sameRun(o.pid, o.instance)) return { id: "", props: {} };
    return { id, props };
  },

  async update(_id: string, olds: any, news: any) {
    const o = olds as ImpairmentOutputs;
    const n = news as ImpairmentInputs;
    await host.stopRun(o.filterPid, o.filterInstance);
    const filter = await startFilter(n);
    const outs: ImpairmentOutputs = {
      ...o,
      ...n,
      control: o.control,
      engine: "vde",
      ...filter,
    };
    return { outs };
  },

  async delete(_id: string, props: any) {
    const o = props as ImpairmentOutputs;
    await host.stopRun(o.filterPid, o.filterInstance);
    await host.stopRun(o.pid, o.instance);
    const p = impairmentPaths(o.labDir, o.name);
    for (const f of [p.control, p.pidFile, p.log, p.filterPid, p.filterLog])
      fs.rmSync(f, { recursive: true, force: true });
  },
};
