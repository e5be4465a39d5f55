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
