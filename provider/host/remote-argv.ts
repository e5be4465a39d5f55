// Pure: what a Host is (its schema: every field that reaches ssh's argv or the remote shell is
// held to a character set that no shell gives a meaning to), and the fixed ssh argv that runs
// umlab's remote entry on it (provider/remote-main.ts). No user data is ever sent as command
// text: the operation and its inputs go as JSON on ssh's stdin (provider/host/remote.ts).
import * as nodePath from "path";
import { z } from "zod";
import { validate, type CheckFailure } from "../core/schemas/fields";

/** A path: absolute, letters, digits and `. _ + - /` only (safe in a remote shell word). */
const PATH_RE = /^\/[A-Za-z0-9._+/-]*$/;
/** A host name, IPv4 or IPv6 address; never starting with `-` (no ssh option injection). */
const ADDRESS_RE = /^([A-Za-z0-9]([A-Za-z0-9.-]{0,251}[A-Za-z0-9])?|[0-9a-fA-F]*:[0-9a-fA-F:.]+)$/;
const USER_RE = /^[a-z_][a-z0-9_-]{0,31}$/;
const NAME_RE = /^[a-z][a-z0-9-]{0,22}$/;
/** One word of a proxy command: what ssh's `sh -c` and its `%` expansion leave alone. */
export const PROXY_WORD_RE = /^[A-Za-z0-9._+/:@=,-]{1,200}$/;
/** A program on the remote host: an absolute path or a bare name looked up in its PATH. */
const PROGRAM_RE = /^(\/[A-Za-z0-9._+/-]*|[A-Za-z0-9._+][A-Za-z0-9._+-]*)$/;

export function hostSchema() {
  const p = (what: string) =>
    z
      .string()
      .regex(PATH_RE, `${what}: use an absolute path of letters, digits and . _ + - / only`)
      .refine((s) => !s.split("/").includes(".."), `${what}: no ".." in the path`);
  return z
    .object({
      /** The host's name in errors, state and ids. */
      name: z
        .string()
        .regex(NAME_RE, "use a short name: a lowercase letter, then lowercase letters, digits, -"),
      address: z
        .string()
        .regex(ADDRESS_RE, "use a host name or an IP address (letters, digits, . - :; not starting with -)"),
      user: z.string().regex(USER_RE, "use a login name such as root or umlab").default("root"),
      port: z
        .number()
        .int()
        .min(1, "use a TCP port 1-65535")
        .max(65535, "use a TCP port 1-65535")
        .default(22),
      /** The private key ssh authenticates with (`-i`); default: ssh's own (agent, ~/.ssh/id_*). */
      privateKey: p("the private key file").optional(),
      /** The known_hosts file holding the host's key; host keys are always checked strictly. */
      knownHosts: p("the known_hosts file").optional(),
      /** How ssh reaches the host (ssh's ProxyCommand), as argv words: e.g. ["ip","netns","exec","ns1","nc","127.0.0.1","22"]. */
      proxyCommand: z
        .array(z.string().regex(PROXY_WORD_RE, "use words of letters, digits and . _ + / : @ = , - only"))
        .min(1, "give the command's words, or leave proxyCommand out")
        .optional(),
      /** The runtime root on that host (where its labs' directories live). */
      runtimeRoot: p("the runtime root"),
      /** The image cache on that host (images are copied there by content hash). */
      cache: p("the image cache"),
      /** umlab installed on that host: its package directory (default: where it is here). */
      umlab: p("umlab's directory").optional(),
      /** node on that host: a path or a name in its PATH (default: node). */
      node: z
        .string()
        .regex(PROGRAM_RE, "use an absolute path or a program name")
        .refine((s) => !s.split("/").includes(".."), 'no ".." in the path')
        .default("node"),
    })
    .strict();
}
export type HostInput = z.input<ReturnType<typeof hostSchema>>;
export type Host = z.output<ReturnType<typeof hostSchema>>;

/** The host parsed (defaults filled), or failures each naming `host.<field>` and its fix. */
export function checkHost(v: unknown): { ok: true; host: Host } | { ok: false; failures: CheckFailure[] } {
  const r = validate(hostSchema(), v);
  if (r.ok) return { ok: true, host: r.value };
  return {
    ok: false,
    failures: r.failures.map((f) => ({
      property: f.property ? `host.${f.property}` : "host",
      reason: f.reason,
    })),
  };
}

/** The host parsed, or an Error naming each bad field. */
export function parseHost(v: unknown): Host {
  const r = checkHost(v);
  if (r.ok) return r.host;
  throw new Error(`umlab: bad host: ${r.failures.map((f) => `${f.property}: ${f.reason}`).join("; ")}`);
}

/** This umlab's package directory (dist/provider/host/ -> the package). */
export function localUmlab(): string {
  return nodePath.resolve(__dirname, "../../..");
}

/** The remote entry on a host: `<umlab>/dist/provider/remote-main.js`. */
export function remoteMain(h: Host, here = localUmlab()): string {
  return `${h.umlab ?? here}/dist/provider/remote-main.js`;
}

/** `user@address port` for messages. */
export function hostLabel(h: Host): string {
  return `host "${h.name}" (${h.user}@${h.address} port ${h.port})`;
}

/**
 * ssh's options for a host: no user or system config (`-F none`: what is here is all), never a
 * prompt (BatchMode), the host key always checked (StrictHostKeyChecking=yes).
 */
export function sshOptions(h: Host): string[] {
  const o = (kv: string) => ["-o", kv];
  return [
    "-F",
    "none",
    ...o("BatchMode=yes"),
    ...o("StrictHostKeyChecking=yes"),
    ...o("ConnectTimeout=15"),
    ...o("ServerAliveInterval=15"),
    ...o("ServerAliveCountMax=4"),
    ...o("LogLevel=ERROR"),
    ...(h.knownHosts ? o(`UserKnownHostsFile=${h.knownHosts}`) : []),
    ...(h.privateKey ? ["-i", h.privateKey, ...o("IdentitiesOnly=yes")] : []),
    ...(h.proxyCommand ? o(`ProxyCommand=${h.proxyCommand.join(" ")}`) : []),
    "-p",
    String(h.port),
    "-l",
    h.user,
  ];
}

/**
 * The whole ssh argv that runs umlab's remote entry on the host: fixed words only (the
 * schema's character sets), the request goes on stdin.
 */
export function remoteArgv(h: Host, here = localUmlab()): string[] {
  return [...sshOptions(h), "--", h.address, h.node, remoteMain(h, here)];
}

/** The ssh argv that runs `words` (fixed, checked words) on the host, e.g. vde_plug <socket>. */
export function sshCommandArgv(h: Host, words: string[]): string[] {
  for (const w of words)
    if (!PROXY_WORD_RE.test(w))
      throw new Error(`umlab: refusing to send ${JSON.stringify(w)} to a remote shell`);
  return [...sshOptions(h), "--", h.address, ...words];
}

/** Two hosts are the same place when every field that says where things run is the same. */
export function sameHost(a: Host | undefined, b: Host | undefined): boolean {
  if (!a || !b) return !a && !b;
  const key = (h: Host) =>
    JSON.stringify([
      h.name,
      h.address,
      h.user,
      h.port,
      h.proxyCommand ?? [],
      h.runtimeRoot,
      h.cache,
      h.umlab ?? "",
    ]);
  return key(a) === key(b);
}
