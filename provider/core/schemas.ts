// Validation of every component's inputs, written once with zod and used twice: by the
// SDK constructors (early, friendly errors naming the field) and by the providers' `check`
// (the authority, which also sees values that were unknown at construction).
//
// Schemas are built inside functions, not held in module-level constants: dynamic
// providers are serialized into Pulumi state by value, and a plain function that calls
// require("zod") serializes cleanly where a zod object graph may not.
import { z } from "zod";
import * as naming from "./naming";

/** What an unknown input looks like to a dynamic provider during preview. */
export const UNKNOWN = "04da6b54-80e4-46f7-96ec-b56ff0331ba9";

export interface CheckFailure {
  property: string;
  reason: string;
}

const NAME_RE = /^[a-z][a-z0-9-]{0,22}$/;
const PATH_RE = /^\/[A-Za-z0-9._+/-]*$/;
const MAC_RE = /^[0-9a-f]{2}(:[0-9a-f]{2}){5}$/;
const MEMORY_RE = /^([0-9]+)([KMG])$/;
const IPV4 =
  "(25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])(\\.(25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])){3}";
const IPV6 = "[0-9a-fA-F:]*:[0-9a-fA-F:.]*";
const IP_RE = new RegExp(`^(${IPV4}|${IPV6})$`);
const CIDR_RE = new RegExp(
  `^((${IPV4})/([0-9]|[12][0-9]|3[0-2])|(${IPV6})/([0-9]|[1-9][0-9]|1[01][0-9]|12[0-8]))$`,
);

/** Memory size in MiB, from "64M", "1G", "65536K". */
export function memoryMiB(size: string): number {
  const m = MEMORY_RE.exec(size);
  if (!m) return NaN;
  const n = Number(m[1]);
  return m[2] === "G" ? n * 1024 : m[2] === "M" ? n : n / 1024;
}

/** Builds the zod schemas (see the note at the top of this file). */
export function schemas() {
  // Values computed by other resources may be unknown during preview.
  const orUnknown = <T extends z.ZodTypeAny>(s: T) => z.union([z.literal(UNKNOWN), s]);
  const name = z
    .string()
    .regex(
      NAME_RE,
      "use 1-23 characters: lower-case letters, digits and '-', starting with a letter (e.g. \"r1\")",
    );
  const path = z
    .string()
    .regex(
      PATH_RE,
      "use an absolute path of letters, digits and . _ + - / only (no spaces or commas: UML splits its arguments on them)",
    );
  const mac = z
    .string()
    .regex(MAC_RE, 'use six lower-case hex pairs separated by ":" (e.g. "02:00:00:00:00:01")')
    .refine((m) => (parseInt(m.slice(0, 2), 16) & 1) === 0, {
      message: "use a unicast MAC: the first byte must be even (e.g. 02:...)",
    });
  const memory = z
    .string()
    .regex(MEMORY_RE, 'use a number with K, M or G (e.g. "64M")')
    .refine((m) => memoryMiB(m) >= 48, {
      message: "use at least 48M (64M is safe): the UML 6.1 kernel panics at boot with 32M",
    });
  const word = (what: string) =>
    z.string().regex(/^[A-Za-z0-9._:/@%+=,-]+$/, `use a ${what} without spaces or shell characters`);
  const cidr = z.string().regex(CIDR_RE, 'use an address with a prefix length (e.g. "10.0.0.1/24")');
  const ip = z.string().regex(IP_RE, 'use an IPv4 or IPv6 address (e.g. "10.0.0.254")');
  const range = (min: number, max: number, message: string) =>
    z.number({ message }).min(min, message).max(max, message);
  const engine = z.enum(["uml_switch", "vde"], { message: 'use "uml_switch" or "vde"' });

  const labRuntime = z.object({
    root: path,
    labId: z.string().regex(/^[a-z0-9-]{1,40}$/, "use the id from naming.labId()"),
  });

  const sw = z.object({
    labDir: orUnknown(path),
    name,
    engine: engine.default("uml_switch"),
    hub: z.boolean().default(false),
    /** A fault: the switch process group is stopped (SIGSTOP) and forwards nothing. */
    suspended: z.boolean().default(false),
  });

  const cowDisk = z.object({
    labDir: orUnknown(path),
    name,
    backing: orUnknown(path),
    /** "mkcow": create now with uml_mkcow; "boot": UML creates it at first boot. */
    create: z.enum(["mkcow", "boot"], { message: 'use "mkcow" or "boot"' }).default("mkcow"),
    /** Changes when the backing file's content changes (e.g. the Image's hash): forces a new COW. */
    backingVersion: z.string().default(""),
  });

  const nic = z.object({
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
    modules: z.array(z.string().regex(/^[A-Za-z0-9_-]+$/, "use a module name (e.g. dummy)")).default([]),
    files: z
      .record(
        z
          .string()
          .regex(/^\/[A-Za-z0-9._+/-]*$/, "use an absolute guest path")
          .refine((p) => !p.split("/").includes(".."), {
            message: "no '..' in guest paths",
          }),
        z.string(),
      )
      .default({}),
    startup: z.string().optional(),
    serial: z
      .array(
        z
          .string()
          .regex(
            /^(null|pts|pty|port:[0-9]+|fd:[0-9]+|tty:\/[A-Za-z0-9._/-]+|cable:\/[A-Za-z0-9._/+-]+)$/,
            'use "pts", "null", "port:N", "fd:N", "tty:/dev/..." or a SerialCable end (cable.endA)',
          ),
      )
      .default([]),
    kernelArgs: z.array(word("kernel argument")).default([]),
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

  return {
    name,
    path,
    mac,
    memory,
    cidr,
    ip,
    engine,
    labRuntime,
    switch: sw,
    cowDisk,
    nic,
    route,
    disk,
    guest,
  };
}

export type Schemas = ReturnType<typeof schemas>;
export type SwitchInputs = z.output<Schemas["switch"]>;
export type CowDiskInputs = z.output<Schemas["cowDisk"]>;
export type NicInputs = z.output<Schemas["nic"]>;
export type GuestInputs = z.output<Schemas["guest"]>;
export type LabRuntimeInputs = z.output<Schemas["labRuntime"]>;

/** Property path of a zod issue as Pulumi names it: `nics[0].mac`. */
export function propertyPath(path: ReadonlyArray<PropertyKey>): string {
  let out = "";
  for (const p of path) out += typeof p === "number" ? `[${p}]` : out === "" ? String(p) : `.${String(p)}`;
  return out;
}

/**
 * Validate `value` against `schema`: the parsed value (defaults filled in), or the
 * failures, each naming the property and saying how to fix it.
 */
export function validate<T extends z.ZodTypeAny>(
  schema: T,
  value: unknown,
): { ok: true; value: z.output<T> } | { ok: false; failures: CheckFailure[] } {
  const r = schema.safeParse(value);
  if (r.success) return { ok: true, value: r.data };
  return {
    ok: false,
    failures: r.error.issues.map((i) => ({ property: propertyPath(i.path), reason: i.message })),
  };
}

/** The extra rule zod cannot see: socket paths must fit in sun_path. */
export function socketPathFailures(
  labDir: string,
  names: string[],
  longest: (dir: string, n: string) => string,
  max: number,
): CheckFailure[] {
  if (labDir === UNKNOWN) return [];
  const out: CheckFailure[] = [];
  for (const n of names) {
    const p = longest(labDir, n);
    if (Buffer.byteLength(p) > max)
      out.push({
        property: "labDir",
        reason: `the socket path ${p} is ${Buffer.byteLength(p)} bytes; unix sockets allow ${max}: set UMLAB_RUNTIME to a shorter directory or use a shorter name`,
      });
  }
  return out;
}

/**
 * `check` of a lab resource whose name becomes a unix socket path (Switch, Guest): the zod
 * schema, then the sun_path limit. Failures come back with the inputs as given.
 */
export function checkLabSocketOwner<T extends { labDir: string; name: string }>(
  schema: z.ZodType<T>,
  news: any,
): { inputs: any; failures?: CheckFailure[] } {
  const r = validate(schema, news);
  if (!r.ok) return { inputs: news, failures: r.failures };
  const f = socketPathFailures(
    r.value.labDir,
    [r.value.name],
    naming.longestSocketPath,
    naming.MAX_SOCKET_PATH,
  );
  return f.length ? { inputs: news, failures: f } : { inputs: r.value };
}
