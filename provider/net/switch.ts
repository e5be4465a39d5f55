// A virtual switch: a uml_switch or vde_switch process in its own session, so it outlives
// the provider process and can be stopped as a group.
import * as fs from "fs";
import type * as pulumi from "@pulumi/pulumi";
import * as host from "../host/process";
import * as reap from "../host/reap";
import * as naming from "../core/naming";
import { giveToGuest } from "../lab/guest-user";
import { switchSchema, switchPolicy, labSocketFailures, SwitchInputs } from "../core/schemas";
import { planFromPolicy, diffResult } from "../core/diff";
import { defineProvider } from "../core/define";

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

/** Every input but `suspended` restarts the process (core/schemas/switch.ts switchPolicy). */
export function planSwitch(olds: SwitchInputs, news: SwitchInputs): pulumi.dynamic.DiffResult {
  return diffResult(planFromPolicy(switchPolicy, olds, news));
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

export const switchProvider = defineProvider<SwitchInputs, SwitchOutputs>({
  schema: switchSchema,
  policy: switchPolicy,
  checkMore: labSocketFailures,

  async create(i) {
    const p = naming.switchPaths(i.labDir, i.name, i.engine);
    const { cmd, args } = switchCommand(i);
    // A switch of this name still running (an interrupted run: no state records it) would
    // keep its socket and its guests' links: stop it first, then the stale files.
    await reap.reapPrevious(cmd, [p.control], `switch ${i.name}`);
    removePaths(i);
    const started = host.spawnDetached(cmd, args, { logFile: p.log });
    let pid = started;
    if (i.engine === "vde") {
      const fromFile = await host.waitFor(() => host.readPid(p.pidFile), 10_000);
      if (!fromFile) {
        await reap.reapPrevious(cmd, [p.control], `switch ${i.name}`);
        throw new Error(`vde_switch did not write ${p.pidFile}\n${host.fileTail(p.log)}`);
      }
      pid = fromFile;
    }
    const up = await host.waitFor(() => fs.existsSync(p.socket) && host.processAlive(pid), 10_000);
    if (!up) {
      await host.stopGroup(pid);
      throw new Error(`${cmd} did not create ${p.socket}\n${host.fileTail(p.log)}`);
    }
    // Guests may run as a user of their own (core/guest-user.ts): they connect to the control
    // socket and (vde) bind their port sockets in the control directory.
    giveToGuest(i.labDir, [p.control, p.socket]);
    const instance = host.processInstance(pid) as string;
    if (i.suspended) suspendSwitch(pid, true);
    return { id: `${i.name}@${i.labDir}`, outs: { ...i, control: p.control, pid, instance, logPath: p.log } };
  },

  async update(o, n) {
    // Only `suspended` changes in place (the policy replaces for everything else).
    if (host.sameRun(o.pid, o.instance)) suspendSwitch(o.pid, n.suspended);
    return { ...o, suspended: n.suspended };
  },

  read(o) {
    // A switch that died (or whose pid now names another process) is gone: the next
    // `pulumi up` starts it again, and the guests re-plug their NICs.
    const alive =
      host.sameRun(o.pid, o.instance) && fs.existsSync(naming.switchPaths(o.labDir, o.name, o.engine).socket);
    return alive ? o : undefined;
  },

  async delete(o) {
    await stopSwitch(o);
    removePaths(o);
  },
});
