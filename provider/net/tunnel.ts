// One end of a kernel tunnel between hosts (HostLink mechanism "vxlan"): on its host, a vxlan
// device (VNI and remote given, MTU 1450) and a tap joined by a bridge; the tap is made by
// `vde_plug2tap` plugged into the lab's vde switch there, so the switch needs no restart. A
// TunnelEnd is made on each host (`lab.on(host)`: the remote layer runs this handler there), so
// every `ip` call happens on its own host, argv only. Device names are derived from the lab dir
// and the link name (<=15 chars), so two labs never collide. Suspended: the vxlan device is
// down (nothing crosses). Delete stops vde_plug2tap (its tap goes) and removes both devices.
import * as crypto from "crypto";
import * as fs from "fs";
import { z } from "zod";
import * as host from "../host/process";
import * as naming from "../core/naming";
import { fields } from "../core/schemas/fields";
import { replace, inPlace, type ChangePolicy } from "../core/policy";
import { defineProvider } from "../core/define";

/** Inside the tunnel: 1500 minus VXLAN's 50 bytes over IPv4. */
export const VXLAN_MTU = 1450;

const ipv4 = z
  .string()
  .regex(/^\d{1,3}(\.\d{1,3}){3}$/, "an IPv4 address such as 192.0.2.1")
  .refine((a) => a.split(".").every((o) => Number(o) <= 255), "an IPv4 address: each part 0..255");

export function tunnelEndSchema() {
  const { orUnknown, path, name } = fields();
  return z.object({
    labDir: orUnknown(path),
    name,
    /** The vde switch on this host (its control directory). */
    control: orUnknown(path),
    /** The VXLAN network id: the same on both ends (sdk: derived from the link). */
    vni: z.number().int().min(1).max(16_777_215),
    /** This host's address on the network between the hosts. */
    local: ipv4,
    /** The peer's address on that network. */
    remote: ipv4,
    /** UDP port of the tunnel (both ends). */
    port: z.number().int().min(1).max(65535).default(4789),
    switchInstance: z.string().default(""),
    suspended: z.boolean().default(false),
  });
}
export type TunnelEndInputs = z.output<ReturnType<typeof tunnelEndSchema>>;

export const tunnelEndPolicy: ChangePolicy<TunnelEndInputs> = {
  labDir: replace("its devices are named from the lab"),
  name: replace("its devices are named from the link"),
  control: replace("another switch"),
  vni: replace("another tunnel id"),
  local: replace("another local address"),
  remote: replace("another peer"),
  port: replace("another port"),
  switchInstance: replace("the switch restarted: plug again"),
  suspended: inPlace("the vxlan device set down/up"),
};

export interface TunnelEndOutputs extends TunnelEndInputs {
  devices: { vxlan: string; tap: string; bridge: string };
  pid: number;
  instance: string;
  logPath: string;
}

/** Device names (pure, <=15 chars): `uv` + 10 hex of sha256(labDir, name) + x|t|b. */
export function tunnelDevices(labDir: string, name: string): { vxlan: string; tap: string; bridge: string } {
  const h = crypto.createHash("sha256").update(`${labDir}\0${name}`).digest("hex").slice(0, 10);
  return { vxlan: `uv${h}x`, tap: `uv${h}t`, bridge: `uv${h}b` };
}

/** A VNI (pure) from the link's identity: the same on both ends, 1..2^24-1. */
export function tunnelVni(key: string): number {
  const n = parseInt(crypto.createHash("sha256").update(key).digest("hex").slice(0, 6), 16);
  return n === 0 ? 1 : n;
}

/** The `ip` argv lists that make an end (pure). */
export function tunnelCommands(i: TunnelEndInputs): string[][] {
  const d = tunnelDevices(i.labDir, i.name);
  return [
    ["link", "add", d.bridge, "mtu", String(VXLAN_MTU), "type", "bridge"],
    // ageing/learning as any bridge; nolearning would need fdb entries per guest.
    [
      "link",
      "add",
      d.vxlan,
      "mtu",
      String(VXLAN_MTU),
      "type",
      "vxlan",
      "id",
      String(i.vni),
      "local",
      i.local,
      "remote",
      i.remote,
      "dstport",
      String(i.port),
    ],
    ["link", "set", d.vxlan, "master", d.bridge],
    ["link", "set", d.bridge, "up"],
    ...(i.suspended ? [] : [["link", "set", d.vxlan, "up"]]),
  ];
}

const ip = (args: string[], allowFailure = false) =>
  host.run("ip", args, { allowFailure, timeoutMs: 20_000 });

async function exists(dev: string): Promise<boolean> {
  return (await ip(["link", "show", "dev", dev], true)).code === 0;
}

async function removeEnd(o: {
  labDir: string;
  name: string;
  pid?: number;
  instance?: string;
}): Promise<void> {
  if (o.pid) await host.stopRun(o.pid, o.instance);
  const d = tunnelDevices(o.labDir, o.name);
  for (const dev of [d.tap, d.vxlan, d.bridge]) if (await exists(dev)) await ip(["link", "del", dev], true);
}

export const tunnelEndProvider = defineProvider<TunnelEndInputs, TunnelEndOutputs>({
  schema: tunnelEndSchema,
  policy: tunnelEndPolicy,

  async create(i) {
    const d = tunnelDevices(i.labDir, i.name);
    const logPath = `${naming.labPaths(i.labDir).switchesDir}/${i.name}.tunnel.log`;
    if (!fs.existsSync(`${i.control}/ctl`))
      throw new Error(`TunnelEnd ${i.name}: switch ${i.control} is not here (a switch with engine "vde"?)`);
    await removeEnd(i); // what a killed run left
    try {
      for (const args of tunnelCommands(i)) {
        const r = await ip(args, true);
        if (r.code !== 0)
          throw new Error(
            `TunnelEnd ${i.name}: ip ${args.join(" ")} failed: ${host.lastLines(r.stderr, 4)}` +
              (/vxlan/.test(args.join(" "))
                ? "\nFix: load the vxlan module (modprobe vxlan) on this host"
                : ""),
          );
      }
      fs.rmSync(logPath, { force: true });
      const pid = host.spawnDetached("vde_plug2tap", ["-s", i.control, d.tap], { logFile: logPath });
      const made = await host.waitFor(
        async () => (await exists(d.tap)) || !host.processAlive(pid),
        10_000,
        100,
      );
      const instance = host.processInstance(pid) as string;
      if (!made || !host.processAlive(pid)) {
        await removeEnd({ ...i, pid, instance });
        throw new Error(`TunnelEnd ${i.name}: vde_plug2tap did not make ${d.tap}\n${host.fileTail(logPath)}`);
      }
      for (const args of [
        ["link", "set", d.tap, "mtu", String(VXLAN_MTU)],
        ["link", "set", d.tap, "master", d.bridge],
        ["link", "set", d.tap, "up"],
      ]) {
        const r = await ip(args, true);
        if (r.code !== 0) {
          await removeEnd({ ...i, pid, instance });
          throw new Error(`TunnelEnd ${i.name}: ip ${args.join(" ")} failed: ${host.lastLines(r.stderr, 4)}`);
        }
      }
      return { id: `${i.name}@${i.labDir}`, outs: { ...i, devices: d, pid, instance, logPath } };
    } catch (e) {
      await removeEnd(i);
      throw e;
    }
  },

  async read(o) {
    // A reboot or a killed vde_plug2tap: the end is gone, the next up makes it again.
    if (!host.sameRun(o.pid, o.instance) || !(await exists(o.devices.vxlan))) return undefined;
    return o;
  },

  async update(o, n) {
    await ip(["link", "set", o.devices.vxlan, n.suspended ? "down" : "up"]);
    return { ...o, suspended: n.suspended };
  },

  async delete(o) {
    await removeEnd(o);
    fs.rmSync(o.logPath, { force: true });
  },
});
