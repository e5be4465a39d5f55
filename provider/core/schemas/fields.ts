// The field validators every component schema is built from, and validation itself.
//
// Schemas are built inside functions, not held in module-level constants: dynamic
// providers are serialized into Pulumi state by value, and a plain function that calls
// require("zod") serializes cleanly where a zod object graph may not.
import { z } from "zod";
import * as naming from "../naming";
import { UNKNOWN } from "../unknown";

export { UNKNOWN };

export interface CheckFailure {
  property: string;
  reason: string;
}

const NAME_RE = /^[a-z][a-z0-9-]{0,22}$/;
const PATH_RE = /^\/[A-Za-z0-9._+/-]*$/;
const MAC_RE = /^[0-9a-f]{2}(:[0-9a-f]{2}){5}$/;
// At most 12 digits: a longer number is no size any host has (and 400 digits parse to Infinity).
const MEMORY_RE = /^([0-9]{1,12})([KMG])$/;
/** The largest guest memory accepted: 256G. */
export const MAX_MEMORY_MIB = 256 * 1024;
const IPV4 =
  "(25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])(\\.(25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])){3}";
const IPV6 = "[0-9a-fA-F:]*:[0-9a-fA-F:.]*";
const IP_RE = new RegExp(`^(${IPV4}|${IPV6})$`);
const CIDR_RE = new RegExp(
  `^((${IPV4})/([0-9]|[12][0-9]|3[0-2])|(${IPV6})/([0-9]|[1-9][0-9]|1[01][0-9]|12[0-8]))$`,
);

/**
 * Kernel arguments umlab sets itself or that reach host files, devices, programs or sockets,
 * by key (the text before "="), matched the way UML matches its own options: by prefix.
 * Each says why and which Guest field to use instead.
 */
export const FORBIDDEN_KERNEL_ARGS: { key: RegExp; why: string }[] = [
  { key: /^ubd/, why: "ubdN= opens a host file as a disk: use Guest.disks (a CowDisk)" },
  { key: /^(eth|vec)/, why: "ethN=/vecN= opens a host network transport: use Guest.nics (a Switch or Tap)" },
  {
    key: /^con(?!sole$)/,
    why: "conN= is umlab's console and exec line (and can open host files, ports and terminals): use Guest.serial for extra lines",
  },
  { key: /^ssl/, why: "sslN= opens host devices or ports: use Guest.serial" },
  { key: /^mem$/, why: "umlab sets mem=: use Guest.memory" },
  {
    key: /^(root|rw$|ro$)/,
    why: "umlab boots ubd0 read-write as root: use Guest.disks (the first disk is /)",
  },
  {
    key: /^hostfs$/,
    why: "umlab confines hostfs to the guest folder: use Guest.files to put files in the guest",
  },
  {
    key: /^init(rd)?$/,
    why: "umlab's init runs the guest contract (initrd= reads a host file): use Guest.startup",
  },
  {
    key: /^(umid|uml_dir|mconsole)$/,
    why: "umlab's management socket and pid file: set by umlab from the lab and name",
  },
  { key: /^umlab\./, why: "umlab.* carries the guest contract: set by umlab" },
  {
    key: /^(xterm|tty)/,
    why: "starts a host program or writes host files: use Guest.serial (pts) and `umlab console`",
  },
  {
    key: /^(iomem|dsp|mixer|hostaudio\.|virtio_uml\.|vfio_uml\.|time[-_]travel)/,
    why: "maps host files, devices or sockets into the guest",
  },
];

/** Why a kernel argument is refused, or undefined when it is allowed. */
export function kernelArgProblem(word: string): string | undefined {
  const key = word.split("=")[0];
  const hit = FORBIDDEN_KERNEL_ARGS.find((f) => f.key.test(key));
  return hit ? `"${word}" is refused: ${hit.why}` : undefined;
}

/** Why a serial line is refused, or undefined when it is allowed (the form is checked by regex). */
export function serialProblem(s: string): string | undefined {
  if (s.startsWith("port:"))
    return `"${s}" is refused: port:N opens a TCP port on the host for anyone who can reach it; use "pts" (then \`umlab console\`) or a SerialCable`;
  if (s.startsWith("fd:"))
    return `"${s}" is refused: the UML process's fds are umlab's (console, exec line, cables); use a SerialCable`;
  if (
    s.startsWith("tty:") &&
    (!s.startsWith("tty:/dev/") ||
      s
        .slice(4)
        .split("/")
        .some((c) => c === ".." || c === "."))
  )
    return `"${s}" is refused: tty: takes a terminal device under /dev/ with no "." or ".." (e.g. "tty:/dev/ttyS0")`;
  return undefined;
}

/** Memory size in MiB, from "64M", "1G", "65536K". */
export function memoryMiB(size: string): number {
  const m = MEMORY_RE.exec(size);
  if (!m) return NaN;
  const n = Number(m[1]);
  return m[2] === "G" ? n * 1024 : m[2] === "M" ? n : n / 1024;
}

/** Builds the zod schemas (see the note at the top of this file). */
/** The shared field validators. */
export function fields() {
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
    })
    .refine((m) => !(memoryMiB(m) > MAX_MEMORY_MIB), {
      message: `use at most ${MAX_MEMORY_MIB / 1024}G: a UML guest's memory is a file on the host`,
    });
  const word = (what: string) =>
    z.string().regex(/^[A-Za-z0-9._:/@%+=,-]+$/, `use a ${what} without spaces or shell characters`);
  const cidr = z.string().regex(CIDR_RE, 'use an address with a prefix length (e.g. "10.0.0.1/24")');
  const ip = z.string().regex(IP_RE, 'use an IPv4 or IPv6 address (e.g. "10.0.0.254")');
  const range = (min: number, max: number, message: string) =>
    z.number({ message }).min(min, message).max(max, message);
  const engine = z.enum(["uml_switch", "vde"], { message: 'use "uml_switch" or "vde"' });

  return { orUnknown, name, path, mac, memory, word, cidr, ip, range, engine };
}

/**
 * A guest file path as umlab stores it: "//etc//hosts/" is "/etc/hosts". Paths that differ
 * only in repeated or trailing slashes name one file, so they must compare equal in a diff.
 */
export function normalizeGuestPath(p: string): string {
  return (
    "/" +
    p
      .split("/")
      .filter((s) => s !== "")
      .join("/")
  );
}

/** Why a `files` key cannot be used, or undefined when it can (after normalizeGuestPath). */
export function guestPathProblem(p: string): string | undefined {
  const parts = p.split("/").filter((s) => s !== "");
  if (parts.length === 0) return 'give a file, not "/"';
  if (parts.includes("..") || parts.includes(".")) return "no '.' or '..' in guest paths";
  if (parts[0] === "umlab")
    return "/umlab is the host's contract folder (docs/guest-contract.md): choose another path";
  return undefined;
}

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

/** The sun_path rule for a lab resource whose name becomes a unix socket path (Switch, Guest). */
export function labSocketFailures(v: { labDir: string; name: string }): CheckFailure[] {
  return socketPathFailures(v.labDir, [v.name], naming.longestSocketPath, naming.MAX_SOCKET_PATH);
}
