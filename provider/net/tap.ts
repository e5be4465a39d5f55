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
import { z } from "zod";
import * as host from "../host/process";
import { schemas, validate, CheckFailure, UNKNOWN } from "../core/schemas";

/** Builds the Tap schema (in a function: zod objects do not serialize into state). */
export function tapSchema() {
  const s = schemas();
  return z.object({
    labDir: z.union([z.literal(UNKNOWN), s.path]),
    /** Also the device name in the namespace: at most 15 characters (IFNAMSIZ). */
    name: z
      .string()
      .regex(
        /^[a-z][a-z0-9-]{0,14}$/,
        "use 1-15 characters (a device name): lower-case letters, digits, '-'",
      ),
    engine: z.union([z.literal(UNKNOWN), s.engine]),
    control: z.union([z.literal(UNKNOWN), s.path]),
    switchInstance: z.string(),
    addresses: z.array(z.union([z.literal(UNKNOWN), s.cidr])).default([]),
  });
}
export type TapInputs = z.output<ReturnType<typeof tapSchema>>;

export interface TapOutputs extends TapInputs {
  /** The lab's network namespace: `umlab-<labId>`. */
  namespace: string;
  device: string;
  /** The vde_plug2tap process (its group leader) and `<pid>:<start time>`. */
  pid: number;
  instance: string;
  logPath: string;
}

/** The lab's network namespace, shared by all its taps: `umlab-<labId>` (labId = basename of labDir). */
export function namespaceOf(labDir: string): string {
  return `umlab-${path.basename(labDir)}`;
}

export function tapLogPath(labDir: string, name: string): string {
  return `${labDir}/net/${name}.log`;
}

/**
 * A tap is re-made (delete first: same device name) when its switch changes; addresses change
 * in place. A switch output that is unknown (in a preview, every output of a switch being
 * updated is) counts as unchanged: a suspended switch keeps its instance, and a switch that is
 * really replaced shows as such itself; `up` diffs again with the real values.
 */
export function planTap(olds: TapInputs, news: TapInputs): pulumi.dynamic.DiffResult {
  const replaces = (["labDir", "name", "engine", "control", "switchInstance"] as const).filter(
    (k) => news[k] !== UNKNOWN && olds[k] !== news[k],
  );
  const changes = replaces.length > 0 || JSON.stringify(olds.addresses) !== JSON.stringify(news.addresses);
  return { changes, replaces, deleteBeforeReplace: true };
}

export function checkTap(news: any): { inputs: any; failures?: CheckFailure[] } {
  const r = validate(tapSchema(), news);
  if (!r.ok) return { inputs: news, failures: r.failures };
  if (r.value.engine === "uml_switch")
    return {
      inputs: news,
      failures: [
        {
          property: "switch",
          reason:
            'a Tap needs a switch with engine "vde": uml_switch takes a tap only as a start option (-tap) and vde_plug2tap cannot attach to it',
        },
      ],
    };
  return { inputs: r.value };
}

/** Root or CAP_NET_ADMIN in the effective set: needed for `ip netns add` and tap devices. */
export function hasNetAdmin(): boolean {
  if (process.geteuid?.() === 0) return true;
  try {
    const line = fs
      .readFileSync("/proc/self/status", "utf8")
      .split("\n")
      .find((l) => l.startsWith("CapEff:"));
    return !!line && (BigInt(`0x${line.split(/\s+/)[1]}`) & (1n << 12n)) !== 0n;
  } catch {
    return false;
  }
}

export function requireNetAdmin(what: string): void {
  if (!hasNetAdmin())
    throw new Error(
      `${what} needs root or CAP_NET_ADMIN (it creates a network namespace and a tap device); ` +
        `run pulumi as root, or leave the Tap out and capture with a Capture on a vde switch, which needs no privilege`,
    );
}

export function namespaceExists(ns: string): boolean {
  return fs.existsSync(`/run/netns/${ns}`);
}

/** Create the lab's namespace unless it exists (two taps may race: "exists" is fine). */
export async function ensureNamespace(ns: string): Promise<void> {
  if (!namespaceExists(ns)) {
    const r = await host.run("ip", ["netns", "add", ns], { allowFailure: true });
    if (r.code !== 0 && !namespaceExists(ns))
      throw new Error(`ip netns add ${ns} failed: ${r.stderr.trim()}`);
  }
  await host.run("ip", ["-n", ns, "link", "set", "lo", "up"]);
}

async function deviceExists(ns: string, dev: string): Promise<boolean> {
  if (!namespaceExists(ns)) return false;
  const r = await host.run("ip", ["-n", ns, "link", "show", "dev", dev], { allowFailure: true });
  return r.code === 0;
}

/** Remove the namespace when nothing but `lo` is left in it (its last tap is gone). */
export async function removeNamespaceIfUnused(ns: string): Promise<void> {
  if (!namespaceExists(ns)) return;
  const r = await host.run("ip", ["-n", ns, "-o", "link", "show"], { allowFailure: true });
  const links = r.stdout
    .split("\n")
    .filter((l) => l.trim() !== "")
    .map((l) => l.split(":")[1]?.trim().split("@")[0]);
  if (links.some((l) => l && l !== "lo")) return;
  await host.run("ip", ["netns", "del", ns], { allowFailure: true });
}

async function setAddresses(ns: string, dev: string, addresses: string[], flush: boolean): Promise<void> {
  if (flush) await host.run("ip", ["-n", ns, "addr", "flush", "dev", dev]);
  for (const a of addresses) await host.run("ip", ["-n", ns, "addr", "add", a, "dev", dev]);
  await host.run("ip", ["-n", ns, "link", "set", dev, "up"]);
}

async function stopTap(o: Pick<TapOutputs, "pid" | "instance" | "namespace" | "device">): Promise<void> {
  await host.stopRun(o.pid, o.instance);
  // The device goes with the process; remove one a killed process left behind.
  if (o.namespace && (await deviceExists(o.namespace, o.device)))
    await host.run("ip", ["-n", o.namespace, "link", "del", o.device], { allowFailure: true });
}

export const tapProvider: pulumi.dynamic.ResourceProvider = {
  async check(_olds: any, news: any) {
    return checkTap(news);
  },

  async diff(_id: string, olds: any, news: any) {
    return planTap(olds, news);
  },

  async create(inputs: any) {
    const t = inputs as TapInputs;
    requireNetAdmin(`Tap "${t.name}"`);
    const ns = namespaceOf(t.labDir);
    const logPath = tapLogPath(t.labDir, t.name);
    fs.mkdirSync(path.dirname(logPath), { recursive: true, mode: 0o700 });
    await ensureNamespace(ns);
    if (await deviceExists(ns, t.name)) await host.run("ip", ["-n", ns, "link", "del", t.name]);
    // `ip netns exec` execs vde_plug2tap in place: the pid we get is the plug's.
    const pid = host.spawnDetached("ip", ["netns", "exec", ns, "vde_plug2tap", "-s", t.control, t.name], {
      logFile: logPath,
    });
    const up = await host.waitFor(
      async () => (await deviceExists(ns, t.name)) || !host.processAlive(pid),
      10_000,
      100,
    );
    if (!up || !host.processAlive(pid)) {
      await host.stopGroup(pid);
      await removeNamespaceIfUnused(ns);
      throw new Error(`Tap ${t.name}: vde_plug2tap did not create the device\n${fileTail(logPath)}`);
    }
    const instance = host.processInstance(pid) as string;
    try {
      await setAddresses(ns, t.name, t.addresses, false);
    } catch (e) {
      await stopTap({ pid, instance, namespace: ns, device: t.name });
      await removeNamespaceIfUnused(ns);
      throw e;
    }
    const outs: TapOutputs = { ...t, namespace: ns, device: t.name, pid, instance, logPath };
    return { id: `${ns}/${t.name}`, outs };
  },

  async read(id: string, props: any) {
    const o = props as TapOutputs;
    if (!host.sameRun(o.pid, o.instance)) return { id: "", props: {} };
    return { id, props };
  },

  async update(_id: string, olds: any, news: any) {
    const o = olds as TapOutputs;
    const n = news as TapInputs;
    await setAddresses(o.namespace, o.device, n.addresses, true);
    return { outs: { ...o, ...n } };
  },

  async delete(_id: string, props: any) {
    const o = props as TapOutputs;
    await stopTap(o);
    await removeNamespaceIfUnused(o.namespace);
    fs.rmSync(o.logPath, { force: true });
  },
};

function fileTail(file: string): string {
  try {
    return host.lastLines(fs.readFileSync(file, "utf8"), 15);
  } catch {
    return "";
  }
}
