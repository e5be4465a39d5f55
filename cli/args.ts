// Parsing the umlab command line (pure: no I/O).
export class UsageError extends Error {}

export interface CliArgs {
  command: "exec" | "mconsole" | "console" | "ls" | "help";
  /** The stack whose lab to use (its state names the lab); also $UMLAB_STACK. */
  stack?: string;
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
  if (command !== "exec" && command !== "mconsole" && command !== "console" && command !== "ls")
    throw new UsageError(`unknown command "${command}"`);
  const out: CliArgs = {
    command,
    argv: [],
    lab: env.UMLAB_LAB || undefined,
    stack: env.UMLAB_STACK || undefined,
  };
  let i = 0;
  for (; i < rest.length; i++) {
    const a = rest[i];
    if (a === "--") {
      i++;
      break;
    }
    if (a === "--lab" || a === "--timeout" || a === "--stack") {
      const v = rest[++i];
      if (v === undefined) throw new UsageError(`${a} needs a value`);
      if (a === "--lab") out.lab = v;
      else if (a === "--stack") out.stack = v;
      else {
        out.timeoutSeconds = Number(v);
        if (!(out.timeoutSeconds > 0))
          throw new UsageError(`--timeout wants a number of seconds, not "${v}"`);
      }
    } else if (a.startsWith("--lab=")) out.lab = a.slice(6);
    else if (a.startsWith("--stack=")) out.stack = a.slice(8);
    else if (a.startsWith("--timeout=")) {
      out.timeoutSeconds = Number(a.slice(10));
      if (!(out.timeoutSeconds > 0)) throw new UsageError(`--timeout wants a number of seconds`);
    } else if (a.startsWith("-")) throw new UsageError(`unknown option ${a}`);
    else if (out.guest === undefined && command !== "ls") out.guest = a;
    else {
      // `umlab exec g1 ls -l` without `--`: the command starts here.
      if (command !== "exec" && command !== "mconsole") throw new UsageError(`unexpected argument "${a}"`);
      break;
    }
  }
  out.argv = rest.slice(i);
  if (command !== "ls" && !out.guest) throw new UsageError(`${command}: name the guest`);
  if (out.guest !== undefined && !/^[a-z][a-z0-9-]{0,22}$/.test(out.guest))
    throw new UsageError(
      `${command}: "${out.guest}" is not a guest name (1-23 lower-case letters, digits and '-', starting with a letter)`,
    );
  if (command === "exec" && out.argv.length === 0) throw new UsageError("exec: give the command after --");
  if (command === "mconsole" && out.argv.length === 0)
    throw new UsageError(
      "mconsole: give the console command after the guest (e.g. umlab mconsole g1 sysrq s)",
    );
  if (command !== "exec" && command !== "mconsole" && out.argv.length > 0)
    throw new UsageError(`unexpected argument "${out.argv[0]}"`);
  return out;
}
