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
/** A Host given by its fields (address, user, port, privateKey path, ...). */
export type SshHostInput = z.input<ReturnType<typeof hostSchema>>;
export type Host = z.output<ReturnType<typeof hostSchema>>;

/**
 * A `@pulumi/command` connection (remote.Command's `connection`, a plain object): the same
 * object reaches the host for both. Its `privateKey` and `hostKey` are contents, which
 * remote.Command uses; umlab's ssh reads files, so give `privateKey` (a path) and `knownHosts`
 * beside `connection` when the connection carries contents.
 */
export interface CommandConnection {
  host: string;
  port?: number;
  user?: string;
  privateKey?: string;
  hostKey?: string;
  /** Accepted and not used by umlab (its ssh: ConnectTimeout=15, one attempt). */
  dialErrorLimit?: number;
  perDialTimeout?: number;
  /** Refused: umlab's ssh logs in with keys, without a prompt, directly or by proxyCommand. */
  password?: string;
  privateKeyPassword?: string;
  agentSocketPath?: string;
  proxy?: unknown;
}
/** A Host given by a @pulumi/command connection plus umlab's own fields. */
export type ConnectionHostInput = Omit<SshHostInput, "address" | "user" | "port"> & {
  connection: CommandConnection;
};
export type HostInput = SshHostInput | ConnectionHostInput;

const REFUSED_IN_CONNECTION: Record<string, string> = {
  password: "umlab's ssh logs in with a key (BatchMode, no prompt): leave password out, give a key",
  privateKeyPassword: "umlab's ssh cannot answer a passphrase: use an unencrypted key or an agent",
  agentSocketPath:
    "umlab's ssh uses the agent in SSH_AUTH_SOCK of the pulumi process: leave agentSocketPath out (set SSH_AUTH_SOCK)",
  proxy:
    "give umlab's own proxyCommand (ssh's ProxyCommand words) beside connection instead of connection.proxy",
};

/** A connection-style host mapped to the fields form, or failures naming `connection.<field>`. */
function fromConnection(v: Record<string, unknown>): { value: unknown; failures: CheckFailure[] } {
  const { connection, ...rest } = v;
  const failures: CheckFailure[] = [];
  const bad = (property: string, reason: string) => failures.push({ property, reason });
  if (!connection || typeof connection !== "object" || Array.isArray(connection)) {
    bad(
      "connection",
      "give a plain object { host, port, user, privateKey } (as remote.Command's connection)",
    );
    return { value: rest, failures };
  }
  const c = connection as Record<string, unknown>;
  if ((c as { __pulumiOutput?: unknown }).__pulumiOutput)
    bad(
      "connection",
      "give a plain object, not a pulumi Output (umlab places components when the program runs)",
    );
  for (const k of ["address", "user", "port"])
    if (k in rest)
      bad(k, `give it once: in connection (${k === "address" ? "host" : k}) or as ${k}, not both`);
  for (const [k, why] of Object.entries(REFUSED_IN_CONNECTION))
    if (c[k] !== undefined) bad(`connection.${k}`, why);
  const known = new Set([
    "host",
    "port",
    "user",
    "privateKey",
    "hostKey",
    "dialErrorLimit",
    "perDialTimeout",
  ]);
  for (const k of Object.keys(c))
    if (!known.has(k) && !(k in REFUSED_IN_CONNECTION))
      bad(`connection.${k}`, "not a field of @pulumi/command's connection: remove it");
  const mapped: Record<string, unknown> = { ...rest, address: c.host };
  if (c.user !== undefined) mapped.user = c.user;
  if (c.port !== undefined) mapped.port = c.port;
  const key = c.privateKey;
  if (typeof key === "string" && key.startsWith("/")) {
    if (rest.privateKey === undefined) mapped.privateKey = key; // a path: umlab can use it as it is
  } else if (key !== undefined && rest.privateKey === undefined)
    bad(
      "connection.privateKey",
      'umlab\'s ssh reads the key from a file: add privateKey: "/path/to/key" beside connection (remote.Command keeps using the contents)',
    );
  if (c.hostKey !== undefined && rest.knownHosts === undefined)
    bad(
      "connection.hostKey",
      'umlab checks host keys from a known_hosts file: add knownHosts: "/path/known_hosts" holding this key beside connection',
    );
  return { value: mapped, failures };
}

/** The host parsed (defaults filled), or failures each naming `host.<field>` and its fix. */
export function checkHost(v: unknown): { ok: true; host: Host } | { ok: false; failures: CheckFailure[] } {
  const conn =
    v && typeof v === "object" && "connection" in v
      ? fromConnection(v as Record<string, unknown>)
      : { value: v, failures: [] };
  const r = validate(hostSchema(), conn.value);
  // In the connection form, a field the connection gave is named as the user wrote it.
  const inConnection: Record<string, string> = {
    address: "connection.host",
    user: "connection.user",
    port: "connection.port",
  };
  const schemaFailures = (r.ok ? [] : r.failures).map((f) =>
    conn.value !== v && f.property && inConnection[f.property]
      ? { ...f, property: inConnection[f.property] }
      : f,
  );
  const failures = [...conn.failures, ...schemaFailures];
  if (r.ok && failures.length === 0) return { ok: true, host: r.value };
  return {
    ok: false,
    failures: failures.map((f) => ({
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
