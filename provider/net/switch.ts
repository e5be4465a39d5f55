// A virtual switch: a uml_switch or vde_switch process in its own session, so it outlives
// the provider process and can be stopped as a group.
import * as fs from "fs";
import type * as pulumi from "@pulumi/pulumi";
import * as host from "../host/process";
import * as naming from "../core/naming";
import { schemas, checkLabSocketOwner, SwitchInputs, CheckFailure } from "../core/schemas";

export interface SwitchOutputs extends SwitchInputs {
  /** uml_switch: the control socket; vde: the control directory (what guests attach to). */
  control: string;
  pid: number;
  /**
   * `<pid>:<start time>`: names this run of the switch process. Guests take it as a NIC
   * input, so a restarted or replaced switch shows up as an in-place re-plug of their NICs.
   */
  instance: string;
  logPath: string;
}

/**
 * Every input but `suspended` is part of the process's identity: a change restarts it (same
 * paths, so delete first). `suspended` is a fault applied in place (SIGSTOP/SIGCONT), keeping
 * `instance`, so guests are not re-plugged.
 */
export function planSwitch(olds: SwitchInputs, news: SwitchInputs): pulumi.dynamic.DiffResult {
  const keys = ["labDir", "name", "engine", "hub"] as const;
  const replaces = keys.filter((k) => olds[k] !== news[k]);
  const suspend = !!olds.suspended !== !!news.suspended;
  return { changes: replaces.length > 0 || suspend, replaces, deleteBeforeReplace: true };
}

/** Stop (SIGSTOP) or resume (SIGCONT) the switch's process group: its ports go silent or come back. */
export function suspendSwitch(pid: number, suspended: boolean): void {
  host.signalGroup(pid, suspended ? "SIGSTOP" : "SIGCONT");
}

/** The argv that starts a switch in the foreground (uml_switch) or as a daemon with a pid file (vde). */
export function switchCommand(inputs: SwitchInputs): { cmd: string; args: string[] } {
  const p = naming.switchPaths(inputs.labDir, inputs.name, inputs.engine);
  if (inputs.engine === "vde") {
    // vde_switch in the foreground exits at EOF on stdin: run it as its own daemon.
    return {
      cmd: "vde_switch",
      args: ["-s", p.control, "-d", "-p", p.pidFile, ...(inputs.hub ? ["-x"] : [])],
    };
  }
  return { cmd: "uml_switch", args: ["-unix", p.control, ...(inputs.hub ? ["-hub"] : [])] };
}

function removePaths(inputs: SwitchInputs): void {
  const p = naming.switchPaths(inputs.labDir, inputs.name, inputs.engine);
  for (const f of [p.control, p.pidFile, p.log]) fs.rmSync(f, { recursive: true, force: true });
}

async function stopSwitch(props: SwitchOutputs): Promise<void> {
  // Only signal the process we started (the pid may have been reused since).
  if (host.sameRun(props.pid, props.instance)) {
    suspendSwitch(props.pid, false); // a stopped process would not act on SIGTERM
    await host.stopGroup(props.pid);
  }
}

export function checkSwitch(news: any): { inputs: any; failures?: CheckFailure[] } {
  return checkLabSocketOwner(schemas().switch, news);
}

export const switchProvider: pulumi.dynamic.ResourceProvider = {
  async check(_olds: any, news: any) {
    return checkSwitch(news);
  },

  async diff(_id: string, olds: any, news: any) {
    return planSwitch(olds, news);
  },

  async create(inputs: any) {
    const i = inputs as SwitchInputs;
    const p = naming.switchPaths(i.labDir, i.name, i.engine);
    removePaths(i); // a stale socket from a switch that died
    const { cmd, args } = switchCommand(i);
    const started = host.spawnDetached(cmd, args, { logFile: p.log });
    let pid = started;
    if (i.engine === "vde") {
      const fromFile = await host.waitFor(() => {
        try {
          return Number(fs.readFileSync(p.pidFile, "utf8").trim()) || undefined;
        } catch {
          return undefined;
        }
      }, 10_000);
      if (!fromFile) throw new Error(`vde_switch did not write ${p.pidFile}\n${tail(p.log)}`);
      pid = fromFile;
    }
    const up = await host.waitFor(() => fs.existsSync(p.socket) && host.processAlive(pid), 10_000);
    if (!up) {
      await host.stopGroup(pid);
      throw new Error(`${cmd} did not create ${p.socket}\n${tail(p.log)}`);
    }
    const instance = host.processInstance(pid) as string;
    if (i.suspended) suspendSwitch(pid, true);
    const outs: SwitchOutputs = { ...i, control: p.control, pid, instance, logPath: p.log };
    return { id: `${i.name}@${i.labDir}`, outs };
  },

  async update(_id: string, olds: any, news: any) {
    // Only `suspended` changes in place (planSwitch replaces for everything else).
    const o = olds as SwitchOutputs;
    const n = news as SwitchInputs;
    if (host.sameRun(o.pid, o.instance)) suspendSwitch(o.pid, n.suspended);
    return { outs: { ...o, suspended: n.suspended } };
  },

  async read(id: string, props: any) {
    const o = props as SwitchOutputs;
    // A switch that died (or whose pid now names another process) is gone: the next
    // `pulumi up` starts it again, and the guests re-plug their NICs.
    if (
      !host.sameRun(o.pid, o.instance) ||
      !fs.existsSync(naming.switchPaths(o.labDir, o.name, o.engine).socket)
    )
      return { id: "", props: {} };
    return { id, props };
  },

  async delete(_id: string, props: any) {
    await stopSwitch(props as SwitchOutputs);
    removePaths(props as SwitchOutputs);
  },
};

function tail(file: string): string {
  try {
    return host.lastLines(fs.readFileSync(file, "utf8"), 15);
  } catch {
    return "";
  }
}
