#!/usr/bin/env node
// The umlab command line: thin commands over the provider layer.
//
//   umlab exec [--lab <lab>] [--timeout <s>] <guest> -- <command> [args...]
//   umlab console [--lab <lab>] <guest>          (Ctrl-] detaches)
//   umlab ls [--lab <lab>]
//
// A guest is found by name in the labs under ${UMLAB_RUNTIME:-/var/tmp/umlab}; `--lab` (or
// $UMLAB_LAB) picks one lab when several have a guest of that name: a lab directory, or a
// lab id (the directory's name, e.g. umlabosp-dev-1a2b3c).
import * as fs from "fs";
import * as path from "path";
import { execInGuest, ExecError, labGuests, guestPid } from "../provider/exec/agent";
import * as naming from "../provider/core/naming";

export const USAGE = `usage:
  umlab exec [--lab <lab>] [--timeout <seconds>] <guest> -- <command> [args...]
      run a command in a running guest; its stdout, stderr and exit code are passed through
      (124 when it timed out; it is then killed in the guest). For pipes and the like use
      sh -c '<script>'.
  umlab console [--lab <lab>] <guest>
      attach this terminal to the guest's console; Ctrl-] detaches
  umlab ls [--lab <lab>]
      list labs and guests
<lab> is a lab directory or a lab id under \${UMLAB_RUNTIME:-/var/tmp/umlab} (default: the
one lab that has a guest of that name; also $UMLAB_LAB).`;

export class UsageError extends Error {}

export interface CliArgs {
  command: "exec" | "console" | "ls" | "help";
  lab?: string;
  timeoutSeconds?: number;
  guest?: string;
  argv: string[];
}

/** Parse the command line (argv after `node umlab.js`). */
export function parseArgs(args: string[], env: Record<string, string | undefined> = {}): CliArgs {
  const [command, ...rest] = args;
  if (command === undefined || command === "help" || command === "--help" || command === "-h")
    return { command: "help", argv: [] };
  if (command !== "exec" && command !== "console" && command !== "ls")
    throw new UsageError(`unknown command "${command}"`);
  const out: CliArgs = { command, argv: [], lab: env.UMLAB_LAB || undefined };
  let i = 0;
  for (; i < rest.length; i++) {
    const a = rest[i];
    if (a === "--") {
      i++;
      break;
    }
    if (a === "--lab" || a === "--timeout") {
      const v = rest[++i];
      if (v === undefined) throw new UsageError(`${a} needs a value`);
      if (a === "--lab") out.lab = v;
      else {
        out.timeoutSeconds = Number(v);
        if (!(out.timeoutSeconds > 0))
          throw new UsageError(`--timeout wants a number of seconds, not "${v}"`);
      }
    } else if (a.startsWith("--lab=")) out.lab = a.slice(6);
    else if (a.startsWith("--timeout=")) {
      out.timeoutSeconds = Number(a.slice(10));
      if (!(out.timeoutSeconds > 0)) throw new UsageError(`--timeout wants a number of seconds`);
    } else if (a.startsWith("-")) throw new UsageError(`unknown option ${a}`);
    else if (out.guest === undefined && command !== "ls") out.guest = a;
    else {
      // `umlab exec g1 ls -l` without `--`: the command starts here.
      if (command !== "exec") throw new UsageError(`unexpected argument "${a}"`);
      break;
    }
  }
  out.argv = rest.slice(i);
  if (command !== "ls" && !out.guest) throw new UsageError(`${command}: name the guest`);
  if (command === "exec" && out.argv.length === 0) throw new UsageError("exec: give the command after --");
  if (command !== "exec" && out.argv.length > 0) throw new UsageError(`unexpected argument "${out.argv[0]}"`);
  return out;
}

/** Lab directories under the runtime root (each holds `g/`). */
export function listLabs(root: string): string[] {
  try {
    return fs
      .readdirSync(root)
      .map((e) => path.join(root, e))
      .filter((d) => fs.existsSync(naming.labPaths(d).guestsDir))
      .sort();
  } catch {
    return [];
  }
}

/** The lab directory `--lab` names: a path, or a lab id under the runtime root. */
export function resolveLab(lab: string, root: string): string {
  const dir = lab.includes("/") ? path.resolve(lab) : path.join(root, lab);
  if (!fs.existsSync(dir)) {
    const labs = listLabs(root).map((d) => path.basename(d));
    throw new UsageError(
      `no lab ${dir}` +
        (labs.length ? ` (labs under ${root}: ${labs.join(", ")})` : ` (no labs under ${root})`),
    );
  }
  return dir;
}

/** Find the lab of guest `guest`: the given lab, else the one lab under the root that has it. */
export function findGuest(guest: string, lab: string | undefined, root: string): string {
  if (lab !== undefined) return resolveLab(lab, root);
  const labs = listLabs(root);
  const having = labs.filter((d) => fs.existsSync(naming.guestPaths(d, guest).dir));
  if (having.length === 1) return having[0];
  if (having.length === 0) {
    const all = labs.flatMap((d) => labGuests(d).map((g) => `${g} (${path.basename(d)})`));
    throw new UsageError(
      `no guest "${guest}" in any lab under ${root}` +
        (all.length
          ? `; guests: ${all.join(", ")}`
          : ": no labs are up (set UMLAB_RUNTIME if yours live elsewhere)"),
    );
  }
  throw new UsageError(
    `guest "${guest}" is in several labs: ${having.map((d) => path.basename(d)).join(", ")}; pick one with --lab <lab id>`,
  );
}

async function cmdExec(a: CliArgs, root: string): Promise<number> {
  const labDir = findGuest(a.guest!, a.lab, root);
  try {
    const r = await execInGuest(labDir, a.guest!, a.argv, {
      timeoutMs: (a.timeoutSeconds ?? 3600) * 1000,
    });
    process.stdout.write(r.stdout);
    process.stderr.write(r.stderr);
    return r.exitCode;
  } catch (e) {
    if (e instanceof ExecError) {
      process.stdout.write(e.stdout);
      process.stderr.write(e.stderr);
      console.error(`umlab: ${e.message}`);
      return e.reason === "timeout" ? 124 : 1;
    }
    throw e;
  }
}

function cmdLs(a: CliArgs, root: string): number {
  const labs = a.lab !== undefined ? [resolveLab(a.lab, root)] : listLabs(root);
  if (labs.length === 0) console.log(`no labs under ${root}`);
  for (const d of labs) {
    console.log(d);
    for (const g of labGuests(d)) {
      const pid = guestPid(d, g);
      const ready = fs.existsSync(naming.guestPaths(d, g).ready);
      console.log(
        `  ${g.padEnd(24)} ${pid ? `running (pid ${pid})${ready ? "" : ", booting"}` : "not running"}`,
      );
    }
  }
  return 0;
}

/**
 * Attach to the guest's console: print what the console writes (the log, from now on) and
 * send what is typed to the FIFO that feeds con0. On a terminal, keys go through raw and
 * Ctrl-] detaches; from a pipe, lines are sent until end of input, then output is shown for
 * one more second.
 */
async function cmdConsole(a: CliArgs, root: string): Promise<number> {
  const labDir = findGuest(a.guest!, a.lab, root);
  const p = naming.guestPaths(labDir, a.guest!);
  if (!guestPid(labDir, a.guest!)) {
    console.error(
      `umlab: guest "${a.guest}" is not running: run \`pulumi refresh\` and then \`pulumi up\` to boot it again`,
    );
    return 1;
  }
  const input = fs.openSync(p.consoleIn, fs.constants.O_WRONLY | fs.constants.O_NONBLOCK);
  let offset = fs.statSync(p.consoleLog).size;
  const pump = () => {
    let size: number;
    try {
      size = fs.statSync(p.consoleLog).size;
    } catch {
      return;
    }
    if (size <= offset) return;
    const buf = Buffer.alloc(size - offset);
    const fd = fs.openSync(p.consoleLog, "r");
    try {
      const n = fs.readSync(fd, buf, 0, buf.length, offset);
      offset += n;
      process.stdout.write(buf.subarray(0, n));
    } finally {
      fs.closeSync(fd);
    }
  };
  const timer = setInterval(pump, 50);
  const tty = process.stdin.isTTY === true;
  if (tty) {
    process.stderr.write(`umlab: attached to ${a.guest}'s console (Ctrl-] detaches)\r\n`);
    process.stdin.setRawMode(true);
  }
  const send = (data: Buffer) => {
    for (let tries = 0; ; tries++) {
      try {
        fs.writeSync(input, data);
        return;
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== "EAGAIN" || tries > 100) throw e;
      }
    }
  };
  await new Promise<void>((resolve) => {
    process.stdin.on("data", (d: Buffer) => {
      const stop = tty ? d.indexOf(0x1d) : -1; // Ctrl-]
      if (stop >= 0) {
        if (stop > 0) send(d.subarray(0, stop));
        resolve();
        return;
      }
      send(d);
    });
    process.stdin.on("end", () => setTimeout(resolve, 1000));
  });
  if (tty) {
    process.stdin.setRawMode(false);
    process.stderr.write("\r\numlab: detached\r\n");
  }
  pump();
  clearInterval(timer);
  fs.closeSync(input);
  process.stdin.pause();
  return 0;
}

export async function main(args: string[]): Promise<number> {
  const root = naming.runtimeRoot(process.env);
  let a: CliArgs;
  try {
    a = parseArgs(args, process.env);
    if (a.command === "help") {
      console.log(USAGE);
      return 0;
    }
    if (a.command === "exec") return await cmdExec(a, root);
    if (a.command === "console") return await cmdConsole(a, root);
    return cmdLs(a, root);
  } catch (e) {
    if (e instanceof UsageError) {
      console.error(`umlab: ${e.message}`);
      if (/unknown|needs|wants|name the|give the|unexpected/.test(e.message)) console.error(USAGE);
      return 2;
    }
    if (e instanceof ExecError) {
      console.error(`umlab: ${e.message}`);
      return 1;
    }
    throw e;
  }
}

if (require.main === module) {
  main(process.argv.slice(2)).then(
    (code) => {
      process.exitCode = code;
    },
    (e) => {
      console.error(`umlab: ${(e as Error).stack ?? e}`);
      process.exitCode = 1;
    },
  );
}
