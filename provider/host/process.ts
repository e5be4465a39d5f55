// The one layer that starts host processes. Always argv arrays, never a shell string
// built from user data. Handlers call these; pure planning code never does.
//
// Dynamic providers are serialized into Pulumi state by value, so this module only uses
// node built-ins and execa (5.x, CommonJS; both captured as require()) and plain functions.
import execa = require("execa");
import * as fs from "fs";
import { readGuestFileSync, readGuestTextSync } from "./files";

export interface RunOptions {
  /** Text written to the tool's stdin. */
  input?: string;
  /** Kill the tool after this many milliseconds (default 120 s). */
  timeoutMs?: number;
  cwd?: string;
  env?: NodeJS.ProcessEnv;
  /** Do not throw on a non-zero exit; the caller inspects `code`. */
  allowFailure?: boolean;
  /** Called with each chunk of output (progress reporting). */
  onOutput?: (chunk: string) => void;
}

export interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** A host tool failed: carries the command and the last lines it printed. */
export class HostToolError extends Error {
  constructor(
    message: string,
    public readonly command: string[],
    public readonly code: number | null,
    public readonly tail: string,
  ) {
    super(message);
    this.name = "HostToolError";
  }
}

/** The last `n` non-empty lines of a text, for error messages. */
export function lastLines(text: string, n = 15): string {
  const lines = text.split("\n").filter((l) => l.trim() !== "");
  return lines.slice(-n).join("\n");
}

/** Run a host tool to completion. Throws HostToolError (with the tool's last lines) on failure. */
export async function run(cmd: string, args: string[], opts: RunOptions = {}): Promise<RunResult> {
  const timeoutMs = opts.timeoutMs ?? 120_000;
  const child = execa(cmd, args, {
    cwd: opts.cwd,
    env: opts.env ?? process.env,
    extendEnv: false,
    // No input: stdin is /dev/null (EOF at once), as a tool run from a script expects.
    ...(opts.input !== undefined ? { input: opts.input } : { stdin: "ignore" as const }),
    timeout: timeoutMs,
    killSignal: "SIGKILL",
    reject: false,
    stripFinalNewline: false,
  });
  if (opts.onOutput) {
    child.stdout?.on("data", (d: Buffer) => opts.onOutput?.(d.toString()));
    child.stderr?.on("data", (d: Buffer) => opts.onOutput?.(d.toString()));
  }
  const r = await child;
  const stdout = String(r.stdout ?? "");
  const stderr = String(r.stderr ?? "");
  const argv = [cmd, ...args];
  if (r.exitCode === undefined && !r.timedOut) {
    // Never started (ENOENT, EACCES, ...).
    const hint =
      (r as { code?: string }).code === "ENOENT" ? ` (is it installed? run \`npm run setup\`)` : "";
    throw new HostToolError(
      `could not run ${cmd}: ${(r as { originalMessage?: string }).originalMessage ?? "could not start"}${hint}`,
      argv,
      null,
      "",
    );
  }
  const code = r.exitCode ?? null;
  if (r.timedOut) {
    const tail = lastLines(stderr + stdout);
    throw new HostToolError(`${cmd} timed out after ${timeoutMs} ms\n${tail}`, argv, code, tail);
  }
  if (code !== 0 && !opts.allowFailure) {
    const tail = lastLines(stderr + "\n" + stdout);
    throw new HostToolError(`${cmd} ${args.join(" ")} exited with ${code}\n${tail}`, argv, code, tail);
  }
  return { code: code ?? -1, stdout, stderr };
}

export interface DetachedOptions {
  /** stdout and stderr of the process go here (appended). */
  logFile: string;
  cwd?: string;
  env?: NodeJS.ProcessEnv;
  /** File descriptors 3.. passed to the child (e.g. a pty for a serial line). */
  extraFds?: number[];
  /** An open file descriptor for the child's stdin (default: /dev/null). */
  stdinFd?: number;
}

/**
 * Start a long-lived process in its own session (so it outlives the provider process
 * and its whole process group can be signalled), with output to a log file.
 * Returns the pid, which is also the process group id.
 */
export function spawnDetached(cmd: string, args: string[], opts: DetachedOptions): number {
  const log = fs.openSync(opts.logFile, "a", 0o600);
  try {
    // cleanup: false, or execa would kill the lab's processes when the provider exits.
    const child = execa(cmd, args, {
      cwd: opts.cwd,
      env: opts.env ?? process.env,
      extendEnv: false,
      detached: true,
      cleanup: false,
      buffer: false,
      reject: false,
      stdio: [opts.stdinFd ?? "ignore", log, log, ...(opts.extraFds ?? [])],
    });
    if (child.pid === undefined) throw new Error(`could not start ${cmd}`);
    child.unref();
    return child.pid;
  } finally {
    fs.closeSync(log);
  }
}

/** Is a process with this pid alive (and not a zombie)? */
export function processAlive(pid: number | undefined): boolean {
  if (!pid || pid <= 0) return false;
  try {
    process.kill(pid, 0);
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === "EPERM";
  }
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, "utf8");
    // The state letter follows the parenthesised command name.
    const state = stat.slice(stat.lastIndexOf(")") + 2, stat.lastIndexOf(")") + 3);
    return state !== "Z" && state !== "X";
  } catch {
    return false;
  }
}

/** The command line of a process (argv), or undefined when it is gone. */
export function processCmdline(pid: number): string[] | undefined {
  try {
    return fs
      .readFileSync(`/proc/${pid}/cmdline`, "utf8")
      .split("\0")
      .filter((s) => s !== "");
  } catch {
    return undefined;
  }
}

/** Send a signal to a whole process group (pid of a spawnDetached leader). Ignores a missing group. */
export function signalGroup(pgid: number, signal: NodeJS.Signals): void {
  // kill(-1) signals every process we may signal, kill(-0) our own group: never.
  if (!Number.isInteger(pgid) || pgid <= 1)
    throw new Error(`refusing to signal process group ${pgid}: only a group umlab started (pid > 1)`);
  try {
    process.kill(-pgid, signal);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== "ESRCH") throw e;
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** Poll `test` every `intervalMs` until it returns a truthy value or `timeoutMs` passes. */
export async function waitFor<T>(
  test: () => T | Promise<T>,
  timeoutMs: number,
  intervalMs = 50,
): Promise<T | undefined> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await test();
    if (v) return v;
    if (Date.now() >= deadline) return undefined;
    await sleep(intervalMs);
  }
}

/**
 * Stop a process group: SIGTERM, wait up to `graceMs`, then SIGKILL, and wait until the
 * leader is gone. Leaves no orphaned helpers (UML guests fork helper processes).
 */
export async function stopGroup(pgid: number, graceMs = 3000): Promise<void> {
  if (!processAlive(pgid)) {
    signalGroup(pgid, "SIGKILL"); // helpers may survive a dead leader
    return;
  }
  signalGroup(pgid, "SIGTERM");
  if (await waitFor(() => !processAlive(pgid), graceMs)) {
    signalGroup(pgid, "SIGKILL");
    return;
  }
  signalGroup(pgid, "SIGKILL");
  await waitFor(() => !processAlive(pgid), 5000);
}

/** Write a file atomically: a temp file in the same directory, then rename. */
export function writeFileAtomic(path: string, data: string | Buffer, mode = 0o600): void {
  const tmp = `${path}.tmp-${process.pid}-${Date.now()}`;
  // "wx": never write through a symlink planted under the temp name (a guest's folder).
  fs.writeFileSync(tmp, data, { mode, flag: "wx" });
  // Exactly `mode`, whatever the umask (scripts/env.sh sets 077): a guest that runs as a user
  // of its own reads its config and files by their "other" bits.
  fs.chmodSync(tmp, mode);
  fs.renameSync(tmp, path);
}

/**
 * `<pid>:<start time>` of a live (not zombie) process, or undefined. Unlike a bare pid it
 * names one run of a process, so a reused pid is never mistaken for ours.
 */
export function processInstance(pid: number | undefined): string | undefined {
  if (!pid || pid <= 0) return undefined;
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, "utf8");
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    if (fields[0] === "Z" || fields[0] === "X") return undefined;
    return `${pid}:${fields[19]}`; // field 22 of stat: starttime (clock ticks after boot)
  } catch {
    return undefined;
  }
}

/** Is `pid` still the run recorded as `instance` (and not a reused pid)? */
export function sameRun(pid: number | undefined, instance: string | undefined): boolean {
  return !!pid && processInstance(pid) === instance;
}

/** Stop a process group, but only while it is still the run we started (pids get reused). */
export async function stopRun(pid: number | undefined, instance: string | undefined): Promise<void> {
  if (sameRun(pid, instance)) await stopGroup(pid as number);
}

/** A pid written in a file (a daemon's pid file), or undefined while there is none. */
export function readPid(file: string): number | undefined {
  try {
    // No symlink followed, no FIFO blocked on, at most 64 bytes (provider/host/files.ts).
    const n = Number(readGuestTextSync(file, 64).trim());
    return Number.isInteger(n) && n > 0 ? n : undefined;
  } catch {
    return undefined;
  }
}

/** The last `n` lines of a log file for an error message; "(none)" when it cannot be read. */
export function fileTail(file: string, n = 15): string {
  try {
    // The last 256 KiB: a guest can make its logs huge, a FIFO or a symlink (files.ts).
    const r = readGuestFileSync(file, { maxBytes: 256 * 1024, tail: true });
    return r === undefined ? "(none)" : lastLines(r.text, n);
  } catch {
    return "(none)";
  }
}

/**
 * Run a tool attached to this terminal (stdin, stdout, stderr inherited) and return its exit
 * code: for commands a person drives, like `umlab pulumi up`.
 */
export async function runAttached(
  cmd: string,
  args: string[],
  opts: { cwd?: string; env?: NodeJS.ProcessEnv } = {},
): Promise<number> {
  const r = await execa(cmd, args, {
    cwd: opts.cwd,
    env: opts.env ?? process.env,
    extendEnv: false,
    stdio: "inherit",
    reject: false,
  });
  if (r.exitCode === undefined) {
    const hint = (r as { code?: string }).code === "ENOENT" ? " (is it installed?)" : "";
    throw new HostToolError(`could not run ${cmd}${hint}`, [cmd, ...args], null, "");
  }
  return r.exitCode;
}
