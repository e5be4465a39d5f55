// Run commands in a running guest through its exec agent (docs/guest-contract.md, "Exec
// agent"): a request is a folder `<guestDir>/exec/<id>/` (cmd, stdin) that the guest sees at
// /umlab/exec/<id> over hostfs; the line `X <id>` in the FIFO `agent.in` (con7 in the guest)
// wakes the agent, which runs it in the background and writes out, err and finally rc (one
// write ending in a newline). `K <id>` kills the request's process tree. Nothing is typed on
// the login console and nothing is scraped from it.
//
// The API of this file (`execInGuest`, `ExecResult`, `ExecError`) is what other providers
// (link state, netem impairments) build on: keep it stable.
import * as crypto from "crypto";
import * as fs from "fs";
import * as path from "path";
import * as host from "../host/process";
import * as files from "../host/files";
import * as naming from "../core/naming";
import { giveToGuest } from "../lab/guest-user";
import { commandScript, commandLabel } from "./quote";

export { shQuote, commandScript, commandLabel } from "./quote";

/** The longest timeout a timer can wait (setTimeout fires at once above 2^31-1 ms). */
export const MAX_EXEC_TIMEOUT_MS = 2 ** 31 - 1;
/** stdout and stderr are each read up to this many bytes; longer output sets `truncated`. */
export const MAX_EXEC_OUTPUT_BYTES = 16 * 1024 * 1024;

export interface ExecOptions {
  /** Kill the command (and everything it started, in the guest) after this long. Default 60 s. */
  timeoutMs?: number;
  /** Text given to the command's stdin (default: /dev/null). */
  stdin?: string;
}

export interface ExecResult {
  stdout: string;
  stderr: string;
  exitCode: number;
  /** Host-side round trip, request written to rc read. */
  durationMs: number;
  /** Set when stdout or stderr was longer than MAX_EXEC_OUTPUT_BYTES (16 MiB) and cut there. */
  truncated?: { stdout: boolean; stderr: boolean };
}

export type ExecFailure = "missing" | "down" | "not-ready" | "no-agent" | "timeout" | "unsafe-output";

/** Exec could not run a command to completion; `reason` says why, the message what to do. */
export class ExecError extends Error {
  constructor(
    message: string,
    public readonly reason: ExecFailure,
    public readonly stdout = "",
    public readonly stderr = "",
  ) {
    super(message);
    this.name = "ExecError";
  }
}

/** Guest names present in a lab (folders under `g/`). */
export function labGuests(labDir: string): string[] {
  try {
    return fs.readdirSync(naming.labPaths(labDir).guestsDir).sort();
  } catch {
    return [];
  }
}

const readPid = host.readPid;

/** The pid of a guest's UML process (from `uml_dir/<name>/pid`), if it is alive. */
export function guestPid(labDir: string, guest: string): number | undefined {
  const pid = readPid(`${naming.guestPaths(labDir, guest).umidDir}/pid`);
  return pid && host.processAlive(pid) ? pid : undefined;
}

/** Throws an ExecError naming the guest and what to do, unless it can take exec requests. */
export function assertExecReady(labDir: string, guest: string): void {
  const p = naming.guestPaths(labDir, guest);
  if (!fs.existsSync(p.dir)) {
    const others = labGuests(labDir);
    const hint = !fs.existsSync(labDir)
      ? `the lab directory ${labDir} does not exist either: is the stack up (\`pulumi up\`)?`
      : others.length > 0
        ? `the lab's guests are: ${others.join(", ")}`
        : "the lab has no guests: run `pulumi up`";
    throw new ExecError(`guest "${guest}" does not exist in lab ${labDir} (no ${p.dir}); ${hint}`, "missing");
  }
  const pidFile = `${p.umidDir}/pid`;
  const pid = readPid(pidFile);
  if (!pid || !host.processAlive(pid))
    throw new ExecError(
      `guest "${guest}" is not running (${pid ? `its process ${pid} is gone` : `no ${pidFile}`}): ` +
        "run `pulumi refresh` and then `pulumi up` to boot it again",
      "down",
    );
  if (!fs.existsSync(p.ready))
    throw new ExecError(
      `guest "${guest}" is not ready (no ${p.ready}): it is booting or its boot failed; see ${p.consoleLog}`,
      "not-ready",
    );
  if (!fs.existsSync(`${p.state}/agent`) || !fs.existsSync(p.agentIn))
    throw new ExecError(
      `guest "${guest}" has no exec agent (no ${p.state}/agent or ${p.agentIn}): its image or Guest ` +
        `predates the agent (rebuild the image and replace the guest), or the agent failed to start (see ${p.initLog})`,
      "no-agent",
    );
}

/** Write one request line to the agent FIFO (atomic: shorter than PIPE_BUF). */
async function sendLine(fifo: string, line: string, guest: string): Promise<void> {
  let fd: number;
  try {
    fd = fs.openSync(fifo, fs.constants.O_WRONLY | fs.constants.O_NONBLOCK);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new ExecError(
      `guest "${guest}": cannot write to its agent FIFO ${fifo} (${code}): ` +
        "the guest is not running; run `pulumi refresh` and then `pulumi up`",
      "down",
    );
  }
  try {
    for (let tries = 0; ; tries++) {
      try {
        fs.writeSync(fd, line);
        return;
      } catch (e) {
        // A full FIFO (64 KiB of unread requests) drains as the agent reads.
        if ((e as NodeJS.ErrnoException).code !== "EAGAIN" || tries > 200) throw e;
        await host.sleep(10);
      }
    }
  } finally {
    fs.closeSync(fd);
  }
}

/** Wait for `<dir>/rc`: woken by inotify, with a poll as a fallback and a liveness check. */
type RcWait = "done" | "timeout" | "dead" | { unsafe: string };

function waitForRc(dir: string, within: string, timeoutMs: number, alive: () => boolean): Promise<RcWait> {
  const rc = path.join(dir, "rc");
  return new Promise((resolve) => {
    // Declared up front: Pulumi's closure serializer rejects use before declaration.
    let finished = false;
    let watcher: fs.FSWatcher | undefined = undefined;
    let poll: NodeJS.Timeout | undefined = undefined;
    let timer: NodeJS.Timeout | undefined = undefined;
    let ticks = 0;
    const finish = (v: RcWait) => {
      if (finished) return;
      finished = true;
      clearInterval(poll);
      clearTimeout(timer);
      if (watcher) watcher.close();
      resolve(v);
    };
    // The agent writes "<code>\n" in one write: complete once the newline is there.
    // A guest that made rc a FIFO, a symlink or moved the folder away: stop waiting at once.
    const check = () => {
      try {
        if ((files.readGuestFileSync(rc, { maxBytes: 64, within })?.text ?? "").endsWith("\n"))
          finish("done");
      } catch (e) {
        if (e instanceof files.UnsafeFileError) finish({ unsafe: e.message });
      }
    };
    try {
      watcher = fs.watch(dir, check);
      watcher.on("error", () => undefined);
    } catch {
      /* polling alone still works */
    }
    poll = setInterval(() => {
      check();
      if (++ticks % 40 === 0 && !alive()) finish("dead");
    }, 25);
    timer = setTimeout(() => {
      check();
      finish("timeout");
    }, timeoutMs);
    check();
  });
}

/** A small guest-written file (rc): never follows a symlink, never blocks on a FIFO. */
function readText(file: string, within: string): string {
  return files.readGuestTextSync(file, 64, within);
}

/** A guest-written result file (out, err): async, capped, a regular file in the request folder. */
async function readOutput(dir: string, name: string, guest: string, within: string): Promise<files.SafeRead> {
  try {
    return (
      (await files.readGuestFile(path.join(dir, name), { maxBytes: MAX_EXEC_OUTPUT_BYTES, within })) ?? {
        text: "",
        truncated: false,
        size: 0,
      }
    );
  } catch (e) {
    if (!(e instanceof files.UnsafeFileError)) throw e;
    throw new ExecError(
      `guest "${guest}": its exec result was tampered with in the guest (${e.message}); nothing was read`,
      "unsafe-output",
    );
  }
}

/** Throws unless `timeoutMs` is a duration a timer can wait for. */
export function checkTimeout(timeoutMs: number): number {
  if (!Number.isFinite(timeoutMs) || timeoutMs <= 0 || timeoutMs > MAX_EXEC_TIMEOUT_MS)
    throw new Error(
      `exec: timeoutMs ${timeoutMs} is out of range: give a number of milliseconds above 0 and at most ` +
        `${MAX_EXEC_TIMEOUT_MS} (about 24.8 days; a longer timer would fire at once)`,
    );
  return timeoutMs;
}

let sequence = 0;

/**
 * Run `command` in guest `guest` of the lab at `labDir` and wait for it: its stdout, stderr and
 * exit code. Throws ExecError when the guest is missing, down, not ready, has no agent, or the
 * command runs longer than `timeoutMs` (then it is killed in the guest, its child processes too).
 * Requests may run concurrently.
 */
export async function execInGuest(
  labDir: string,
  guest: string,
  command: string | string[],
  opts: ExecOptions = {},
): Promise<ExecResult> {
  const t0 = Date.now();
  const timeoutMs = checkTimeout(opts.timeoutMs ?? 60_000);
  const script = commandScript(command);
  assertExecReady(labDir, guest);
  const p = naming.guestPaths(labDir, guest);
  const id = [
    Date.now().toString(36),
    process.pid.toString(36),
    (sequence++).toString(36),
    crypto.randomBytes(3).toString("hex"),
  ].join("-");
  const dir = path.join(p.execDir, id);
  fs.mkdirSync(p.execDir, { recursive: true, mode: 0o700 });
  // Not recursive, and files created exclusively: nothing the guest planted is followed.
  fs.mkdirSync(dir, { mode: 0o700 });
  try {
    fs.writeFileSync(path.join(dir, "cmd"), script, { flag: "wx", mode: 0o600 });
    if (opts.stdin !== undefined)
      fs.writeFileSync(path.join(dir, "stdin"), opts.stdin, { flag: "wx", mode: 0o600 });
    // The guest's UML process may run as a user of its own (core/guest-user.ts): it reads the
    // request and writes out/err/rc here.
    giveToGuest(labDir, [dir, path.join(dir, "cmd"), path.join(dir, "stdin")]);
    await sendLine(p.agentIn, `X ${id}\n`, guest);
    const how = await waitForRc(dir, p.dir, timeoutMs, () => guestPid(labDir, guest) !== undefined);
    if (how === "timeout" || typeof how === "object") {
      await sendLine(p.agentIn, `K ${id}\n`, guest).catch(() => undefined);
      // Return once the agent has killed it, so the caller never races a leftover command.
      await host.waitFor(() => fs.existsSync(path.join(dir, "killed")), 6000, 20);
    }
    if (typeof how === "object")
      throw new ExecError(
        `guest "${guest}": its exec result was tampered with in the guest (${how.unsafe}); ` +
          `\`${commandLabel(command)}\` was killed and nothing was read`,
        "unsafe-output",
      );
    // Checked against the guest's folder (the root of its hostfs, which it cannot replace):
    // a request folder the guest swapped for a symlink resolves outside it.
    const out = await readOutput(dir, "out", guest, p.dir);
    const err = await readOutput(dir, "err", guest, p.dir);
    const stdout = out.text;
    const stderr = err.text;
    if (how === "dead")
      throw new ExecError(
        `guest "${guest}" stopped while running \`${commandLabel(command)}\`: ` +
          "run `pulumi refresh` and then `pulumi up` to boot it again",
        "down",
        stdout,
        stderr,
      );
    if (how === "timeout") {
      throw new ExecError(
        `guest "${guest}": \`${commandLabel(command)}\` timed out after ${timeoutMs} ms (killed in the guest)`,
        "timeout",
        stdout,
        stderr,
      );
    }
    const exitCode = Number(readText(path.join(dir, "rc"), p.dir).trim());
    return {
      stdout,
      stderr,
      exitCode: Number.isInteger(exitCode) ? exitCode : -1,
      durationMs: Date.now() - t0,
      ...(out.truncated || err.truncated
        ? { truncated: { stdout: out.truncated, stderr: err.truncated } }
        : {}),
    };
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

/** `<labDir>/g/<name>` (a Guest's guestDir output) → [labDir, name]. */
export function splitGuestDir(guestDir: string): [string, string] {
  return [path.dirname(path.dirname(guestDir)), path.basename(guestDir)];
}
