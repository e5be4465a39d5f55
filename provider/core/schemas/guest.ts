// A UML guest and its NICs (provider/guest/).
import { z } from "zod";
import { fields, kernelArgProblem, serialProblem, guestPathProblem, normalizeGuestPath } from "./fields";
import { UNKNOWN } from "../unknown";
import { replace, inPlace, derived, type ChangePolicy } from "../policy";

export function nicSchema() {
  const { orUnknown, path, mac, cidr, range, engine } = fields();
  return z.object({
    engine: orUnknown(engine),
    /** uml_switch: control socket; vde: control directory. */
    control: orUnknown(path),
    /** Changes whenever the switch process is (re)started: the NIC must be re-plugged. */
    switchInstance: z.string(),
    /**
     * Known at preview time, changes exactly when the switch is replaced (its replace-triggering
     * inputs). Lets a preview tell a switch updated in place (suspended) from one replaced, while
     * the switch's outputs are unknown.
     */
    switchGeneration: z.string().default(""),
    mac,
    addresses: z.array(orUnknown(cidr)).default([]),
    /** Administratively down in the guest (`ip link set ethN down`): cable unplugged, NIC kept. */
    linkDown: z.boolean().default(false),
    /**
     * In-guest impairment with netem (`tc qdisc replace dev ethN root netem ...`), applied in
     * place; needs iproute2's tc in the image. All zero (or absent) = no qdisc.
     */
    netem: z
      .object({
        lossPercent: range(0, 100, "use 0..100").default(0),
        delayMs: range(0, 60000, "use 0..60000 (milliseconds)").default(0),
        jitterMs: range(0, 60000, "use 0..60000 (milliseconds)").default(0),
        rateKbit: z
          .number({ message: "use a whole number of kbit/s, at least 1 (leave it out for no limit)" })
          .int("use a whole number of kbit/s, at least 1 (leave it out for no limit)")
          .min(1, "use a whole number of kbit/s, at least 1 (leave it out for no limit)")
          .optional(),
      })
      .strict()
      .optional(),
  });
}
export type NicInputs = z.output<ReturnType<typeof nicSchema>>;

export function guestSchema() {
  const { orUnknown, name, path, memory, word, cidr, ip } = fields();
  const nic = nicSchema();
  const route = z.object({
    dest: z.union([z.literal("default"), cidr]),
    via: ip,
  });

  const disk = z.object({
    path: orUnknown(path),
    /** For a COW disk: its backing file (`ubdN=<cow>,<backing>`). */
    backing: orUnknown(path).optional(),
  });

  const guest = z.object({
    labDir: orUnknown(path),
    name,
    kernel: path.default("/usr/bin/linux.uml"),
    memory: memory.default("64M"),
    disks: z.array(disk).min(1, "give at least one disk (the root filesystem, ubd0)"),
    nics: z.union([z.literal(UNKNOWN), z.array(nic)]).default([]),
    hostname: z
      .string()
      .regex(/^[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?$/, "use letters, digits and '-' (at most 63)")
      .optional(),
    routes: z.array(route).default([]),
    sysctls: z
      .record(
        z
          .string()
          .regex(/^[a-z0-9_]+(\.[a-z0-9_-]+)+$/, "use a dotted sysctl key (e.g. net.ipv4.ip_forward)"),
        word("sysctl value"),
      )
      .default({}),
    modules: z
      .array(
        z
          .string()
          .regex(/^[A-Za-z0-9_][A-Za-z0-9_-]*$/, "use a module name (e.g. dummy; not starting with '-')"),
      )
      .default([]),
    files: z
      .record(
        z
          .string()
          .regex(/^\/[A-Za-z0-9._+/-]*$/, "use an absolute guest path")
          .superRefine((p, ctx) => {
            const why = guestPathProblem(p);
            if (why) ctx.addIssue({ code: "custom", message: why });
          }),
        z.string(),
      )
      .superRefine((r, ctx) => {
        const seen = new Map<string, string>();
        for (const k of Object.keys(r)) {
          const n = normalizeGuestPath(k);
          const other = seen.get(n);
          if (other !== undefined)
            ctx.addIssue({
              code: "custom",
              path: [k],
              message: `"${k}" and "${other}" are the same file ${n}: keep one`,
            });
          seen.set(n, k);
        }
      })
      .transform((r) => Object.fromEntries(Object.entries(r).map(([k, v]) => [normalizeGuestPath(k), v])))
      .default({}),
    startup: z.string().optional(),
    serial: z
      .array(
        z
          .string()
          .regex(
            /^(null|pts|pty|port:[0-9]+|fd:[0-9]+|tty:\/[A-Za-z0-9._/-]+|cable:\/[A-Za-z0-9._/+-]+)$/,
            'use "pts", "null", "tty:/dev/..." or a SerialCable end (cable.endA)',
          )
          .superRefine((s, ctx) => {
            const why = serialProblem(s);
            if (why) ctx.addIssue({ code: "custom", message: why });
          }),
      )
      .default([]),
    kernelArgs: z
      .array(
        word("kernel argument").superRefine((w, ctx) => {
          const why = kernelArgProblem(w);
          if (why) ctx.addIssue({ code: "custom", message: why });
        }),
      )
      .default([]),
    readyTimeoutSeconds: z.number().int().positive().default(120),
    /** A fault: the guest's kernel is stopped (mconsole `stop`) until unpaused (`go`). */
    paused: z.boolean().default(false),
    /** The dead-man switch: softdog, fed through /dev/umlab-watchdog; unfed, the guest reboots. */
    watchdog: z
      .object({
        timeoutSeconds: z
          .number({ message: "use 1..600 seconds" })
          .int("use 1..600 seconds")
          .min(1, "use 1..600 seconds")
          .max(600, "use 1..600 seconds")
          .default(10),
        kind: z
          .enum(["softdog"], {
            message:
              'use "softdog": UML\'s own harddog (/dev/watchdog) has a fixed timeout in its host helper and kills the whole guest (docs/network.md)',
          })
          .default("softdog"),
      })
      .strict()
      .optional(),
  });
  return guest;
}
export type GuestInputs = z.output<ReturnType<typeof guestSchema>>;

/** Inputs read at boot replace (the guest reboots); the rest change the running guest. */
export const guestPolicy: ChangePolicy<GuestInputs> = {
  labDir: replace("every guest path"),
  name: replace("umid, guest folder, MACs"),
  kernel: replace("another kernel binary"),
  memory: replace("mem= on the kernel command line"),
  disks: replace(
    "ubd0 (root) on the kernel command line; other disks are hot-plugged in place (guest/plan.ts planDisks)",
  ),
  hostname: replace("read by umlab-init at boot"),
  routes: replace("read by umlab-init at boot"),
  sysctls: replace("read by umlab-init at boot"),
  modules: replace("read by umlab-init at boot"),
  files: replace("copied into the guest at boot"),
  startup: replace("run once at boot"),
  serial: replace("sslN= on the kernel command line"),
  kernelArgs: replace("the kernel command line"),
  watchdog: replace("softdog is loaded with its margin at boot"),
  nics: derived("planned NIC by NIC (guest/plan.ts planNics): plug, unplug, readdress, link, netem"),
  readyTimeoutSeconds: inPlace("only how long create waits"),
  paused: inPlace("mconsole stop/go"),
};

/**
 * NIC fields (planNics): a change of any "replace" field re-plugs the NIC (mconsole remove +
 * config), "inPlace" ones are applied through the exec agent. The switch's instance and control
 * are unknown while the switch is updated: then its generation (known) decides.
 */
export const nicPolicy: ChangePolicy<NicInputs> = {
  engine: replace("another transport (daemon or vde)"),
  control: replace("another switch socket"),
  switchInstance: replace("the switch process was restarted: its ports are gone"),
  switchGeneration: derived("stands in for engine/control/switchInstance while they are unknown"),
  mac: replace("the MAC is set when UML plugs the NIC"),
  addresses: inPlace("ip addr flush/add in the guest"),
  linkDown: inPlace("ip link set down/up in the guest"),
  netem: inPlace("tc qdisc replace/del in the guest"),
};
