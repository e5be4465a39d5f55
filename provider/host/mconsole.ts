// A typed client of uml_mconsole, UML's management console: one function per command umlab
// uses, each against the guest's mconsole socket (`<uml_dir>/<umid>/mconsole`).
import { run } from "./process";

export interface MconsoleReply {
  ok: boolean;
  text: string;
}

/** One uml_mconsole command against a socket path. Never throws for an ERR reply. */
export async function mconsoleCommand(
  socket: string,
  words: string[],
  timeoutMs = 15_000,
): Promise<MconsoleReply> {
  const r = await run("uml_mconsole", [socket, ...words], { allowFailure: true, timeoutMs });
  const out = r.stdout.trim();
  return {
    ok: r.code === 0 && out.startsWith("OK"),
    text: out.replace(/^(OK|ERR)\s*/, "") || r.stderr.trim(),
  };
}

type Reply = Promise<MconsoleReply>;

/** The commands (DESIGN.md, "Facts about UML"): `timeoutMs` defaults to 15 s. */
export const mconsole = {
  /** The guest kernel's version: a cheap "is it answering". */
  version: (socket: string, timeoutMs?: number): Reply => mconsoleCommand(socket, ["version"], timeoutMs),
  /** Stop the guest cleanly (it runs its shutdown, then the process exits). */
  halt: (socket: string, timeoutMs?: number): Reply => mconsoleCommand(socket, ["halt"], timeoutMs),
  reboot: (socket: string, timeoutMs?: number): Reply => mconsoleCommand(socket, ["reboot"], timeoutMs),
  /** Ctrl-Alt-Del, as the guest's init handles it. */
  cad: (socket: string, timeoutMs?: number): Reply => mconsoleCommand(socket, ["cad"], timeoutMs),
  sysrq: (socket: string, key: string, timeoutMs?: number): Reply =>
    mconsoleCommand(socket, ["sysrq", key], timeoutMs),
  /** Freeze the guest kernel (the Guest's `paused` fault); `go` resumes it. */
  stop: (socket: string, timeoutMs?: number): Reply => mconsoleCommand(socket, ["stop"], timeoutMs),
  go: (socket: string, timeoutMs?: number): Reply => mconsoleCommand(socket, ["go"], timeoutMs),
  /** `config <device>=<value>` plugs a device (`eth1`, `vde,...`); without a value it queries it. */
  config: (socket: string, device: string, value?: string, timeoutMs?: number): Reply =>
    mconsoleCommand(socket, ["config", value === undefined ? device : `${device}=${value}`], timeoutMs),
  /** Unplug a device (UML refuses an interface that is up: take it down in the guest first). */
  remove: (socket: string, device: string, timeoutMs?: number): Reply =>
    mconsoleCommand(socket, ["remove", device], timeoutMs),
  /** A file under the guest's /proc, e.g. `sys/kernel/random/boot_id`. */
  proc: (socket: string, file: string, timeoutMs?: number): Reply =>
    mconsoleCommand(socket, ["proc", file], timeoutMs),
  /** Write a line into the guest kernel's log. */
  log: (socket: string, text: string, timeoutMs?: number): Reply =>
    mconsoleCommand(socket, ["log", text], timeoutMs),
};

/** The commands `umlab mconsole` and the SDK's `mconsole()` pass on, with what each takes. */
export const MCONSOLE_COMMANDS: Record<string, string> = {
  sysrq: "sysrq <key>  (one of 0-9 a-z, e.g. s = sync, c = crash)",
  cad: "cad",
  reboot: "reboot",
  halt: "halt",
  stop: "stop",
  go: "go",
  proc: "proc <file>  (under the guest's /proc, e.g. sys/kernel/random/boot_id)",
  version: "version",
  config: "config <dev>  or  config <dev>=<value>  (dev: ubdN, ethN, sslN, conN)",
};

export class MconsoleRefused extends Error {}

function refuse(why: string): never {
  const list = Object.values(MCONSOLE_COMMANDS)
    .map((c) => `  ${c}`)
    .join("\n");
  throw new MconsoleRefused(`${why}; the allowed console commands are:\n${list}`);
}

/**
 * Check a console command given as words (`["sysrq", "s"]`, or one string split on blanks) and
 * give back the words for uml_mconsole. Pure. Refuses anything not in MCONSOLE_COMMANDS (e.g.
 * `remove`, `log`, `exec`: umlab plans device removal itself) and any malformed argument.
 */
export function mconsoleWords(command: string | string[]): string[] {
  const words = (typeof command === "string" ? command.trim().split(/\s+/) : command).filter((w) => w !== "");
  const [verb, ...args] = words;
  if (verb === undefined) refuse("give a console command");
  if (!Object.prototype.hasOwnProperty.call(MCONSOLE_COMMANDS, verb))
    refuse(`"${verb}" is not an allowed console command`);
  const want = (n: number) => {
    if (args.length !== n)
      refuse(
        `${verb} takes ${n === 0 ? "no argument" : "one argument"} (${MCONSOLE_COMMANDS[verb]}), got ${args.length}`,
      );
  };
  if (verb === "sysrq") {
    want(1);
    if (!/^[0-9a-z]$/.test(args[0])) refuse(`sysrq: "${args[0]}" is not a sysrq key (one of 0-9, a-z)`);
  } else if (verb === "proc") {
    want(1);
    const file = args[0].replace(/^\/proc\//, "");
    if (!/^[A-Za-z0-9_.+-][A-Za-z0-9_.+/-]*$/.test(file) || file.split("/").includes(".."))
      refuse(`proc: "${args[0]}" is not a file under /proc (e.g. meminfo, sys/kernel/random/boot_id)`);
    return [verb, file];
  } else if (verb === "config") {
    want(1);
    const m = /^((?:ubd|eth|ssl|con)[0-9]{1,2})(?:=(.+))?$/.exec(args[0]);
    if (!m) refuse(`config: "${args[0]}" is not <dev> or <dev>=<value> with dev ubdN, ethN, sslN or conN`);
    if (m[2] !== undefined && !/^[A-Za-z0-9_.,:/+=-]+$/.test(m[2]))
      refuse(`config: the value "${m[2]}" has characters a device setting never has`);
  } else want(0);
  return [verb, ...args];
}
