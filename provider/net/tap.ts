// A host tap device on a lab switch, inside the lab's own network namespace (never the
// root namespace), so the host side can ping and sniff: `ip netns exec <ns> ping ...`.
//
// The tap is made by `vde_plug2tap` run inside the namespace: it opens the tap, plugs into
// a running vde_switch, and the device lives exactly as long as that process. uml_switch
// cannot take a tap after it started (`uml_switch -tap` is a start option, and
// vde_plug2tap does not speak to its socket), so a Tap needs a `vde` switch.
import * as fs from "fs";
import * as path from "path";
import type * as pulumi from "@pulumi/pulumi";
import * as host from "../host/process";
import * as netns from "../host/netns";
import * as naming from "../core/naming";
import { tapSchema, tapPolicy, TapInputs, CheckFailure } from "../core/schemas";
import { planFromPolicy, diffResult } from "../core/diff";
import { defineProvider, checkInputs } from "../core/define";

export interface TapOutputs extends TapInputs {
  /** The lab's network namespace: `umlab-<labId>`. */
  namespace: string;
  device: string;
  /** The vde_plug2tap process (its group leader) and `<pid>:<start time>`. */
  pid: number;
  instance: string;
  logPath: string;
}

/** Re-made when its switch changes, addresses in place (core/schemas/tap.ts tapPolicy). */
export function planTap(olds: TapInputs, news: TapInputs): pulumi.dynamic.DiffResult {
  return diffResult(planFromPolicy(tapPolicy, olds, news));
}

/** What zod cannot see: vde_plug2tap attaches to vde switches only. */
function tapFailures(t: TapInputs): CheckFailure[] {
  if (t.engine !== "uml_switch") return [];
  return [
    {
      property: "switch",
      reason:
        'a Tap needs a switch with engine "vde": uml_switch takes a tap only as a start option (-tap) and vde_plug2tap cannot attach to it',
    },
  ];
}

export function checkTap(news: any): { inputs: any; failures?: CheckFailure[] } {
  return checkInputs(tapSchema(), news, tapFailures);
}

async function stopTap(o: Pick<TapOutputs, "pid" | "instance" | "namespace" | "device">): Promise<void> {
  await host.stopRun(o.pid, o.instance);
  // The device goes with the process; remove one a killed process left behind.
  if (o.namespace && (await netns.deviceExists(o.namespace, o.device)))
    await netns.deleteDevice(o.namespace, o.device, true);
}

export const tapProvider = defineProvider<TapInputs, TapOutputs>({
  schema: tapSchema,
  policy: tapPolicy,
  checkMore: tapFailures,

  async create(t) {
    netns.requireNetAdmin(`Tap "${t.name}"`);
    const ns = naming.namespaceOf(t.labDir);
    const logPath = naming.tapLogPath(t.labDir, t.name);
    fs.mkdirSync(path.dirname(logPath), { recursive: true, mode: 0o700 });
    await netns.ensureNamespace(ns);
    if (await netns.deviceExists(ns, t.name)) await netns.deleteDevice(ns, t.name);
    const plug = netns.inNamespace(ns, "vde_plug2tap", ["-s", t.control, t.name]);
    const pid = host.spawnDetached(plug.cmd, plug.args, { logFile: logPath });
    const up = await host.waitFor(
      async () => (await netns.deviceExists(ns, t.name)) || !host.processAlive(pid),
      10_000,
      100,
    );
    if (!up || !host.processAlive(pid)) {
      await host.stopGroup(pid);
      await netns.removeNamespaceIfUnused(ns);
      throw new Error(`Tap ${t.name}: vde_plug2tap did not create the device\n${host.fileTail(logPath)}`);
    }
    const instance = host.processInstance(pid) as string;
    try {
      await netns.setAddresses(ns, t.name, t.addresses, false);
    } catch (e) {
      await stopTap({ pid, instance, namespace: ns, device: t.name });
      await netns.removeNamespaceIfUnused(ns);
      throw e;
    }
    return { id: `${ns}/${t.name}`, outs: { ...t, namespace: ns, device: t.name, pid, instance, logPath } };
  },

  async update(o, n) {
    // Only `addresses` changes in place (the policy replaces for everything else).
    await netns.setAddresses(o.namespace, o.device, n.addresses, true);
    return { ...o, ...n };
  },

  async delete(o) {
    await stopTap(o);
    await netns.removeNamespaceIfUnused(o.namespace);
    fs.rmSync(o.logPath, { force: true });
  },
});
