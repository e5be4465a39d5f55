#!/usr/bin/env node
// The umlab command line: thin commands over the provider layer.
//
//   umlab exec [--stack <stack>] [--lab <lab>] [--timeout <s>] <guest> -- <command> [args...]
//   umlab mconsole [--stack <stack>] [--lab <lab>] <guest> <command> [arg]
//   umlab console [--stack <stack>] [--lab <lab>] <guest>          (Ctrl-] detaches)
//   umlab ls [--stack <stack>] [--lab <lab>]
//   umlab graph [--stack <stack>] [--format dot|mermaid|svg] [--out <file>]
//   umlab merge <guest | COW file> [--into <file>] [--in-place]
//   umlab history <stack>
//   umlab snapshot [--dir <dir>] <stack> <name>
//   umlab export [--images] [--program <dir>] <snapshot dir> <archive>   umlab import [--up] <archive> <dir>
//   umlab new <dir> [--template quickstart|ospf-ring|clone]   umlab setup   umlab pulumi <args...>
//   umlab summary [--title <text>] [<preview.json> | -]
//
// Dispatch only: one file per command (exec.ts, console.ts, ls.ts, new.ts, pulumi.ts), the lab lookup in
// labs.ts (stack state first, see state.ts), argument parsing in args.ts.
import { defaultRuntimeRoot } from "../provider/lab/owned";
import { ExecError } from "../provider/exec/agent";
import { parseArgs, UsageError, CliArgs } from "./args";
import { cmdExec } from "./exec";
import { cmdMconsole } from "./mconsole";
import { cmdLs } from "./ls";
import { cmdConsole } from "./console";
import { cmdNew } from "./new";
import { cmdPulumi, cmdSetup } from "./pulumi";
import { cmdMerge } from "./merge";
import { cmdHistory } from "./history";
import { cmdSnapshot } from "./snapshot";
import { cmdExport, cmdImport } from "./share";
import { cmdSummary } from "./summary";
import { cmdGraph } from "./graph";
import { cmdClass } from "./class";

export { parseArgs, UsageError };

export const USAGE = `usage:
  umlab exec [--stack <stack>] [--lab <lab>] [--timeout <seconds>] <guest> -- <command> [args...]
      run a command in a running guest; its stdout, stderr and exit code are passed through
      (124 when it timed out; it is then killed in the guest). For pipes and the like use
      sh -c '<script>'.
  umlab mconsole [--stack <stack>] [--lab <lab>] <guest> <command> [arg]
      the guest's management console: sysrq <key>, cad, reboot, halt, stop, go, proc <file>,
      version, config <dev>[=<value>] (config ubdN=<file> plugs a disk into the running guest)
  umlab console [--stack <stack>] [--lab <lab>] <guest>
      attach this terminal to the guest's console; Ctrl-] detaches
  umlab ls [--stack <stack>] [--lab <lab>]
      list labs (with their stack) and guests
  umlab graph [--stack <stack>] [--format dot|mermaid|svg] [--out <file>]
      the lab's topology from the stack's state: guests, switches, NICs and addresses, taps,
      serial cables, shared disks, faults on their links (svg: graphviz's dot)
  umlab merge [--stack <stack>] [--lab <lab>] <guest | COW file> [--into <file>] [--in-place]
      merge a halted guest's COW disk with its backing into a new image (the image cache, or
      --into a new file); --in-place is refused naming every COW file that depends on the backing
  umlab history <stack>
      the stack's updates from the file backend's checkpoint history (git commit, changes,
      guests) and what re-applying a prior state can and cannot restore
  umlab snapshot [--dir <dir>] <stack> <name>
      snapshot the disks of every guest of <stack> (guests paused for the copy, then resumed);
      default directory <runtime root>/snapshots/<project>.<stack>.<name>
  umlab export [--images] [--program <lab folder>] [--stack <s>] <snapshot dir> <archive>
      one sparse-aware tar.gz of a snapshot (hashes checked first) and the lab's program and
      stack config (the lab folder: --program, default here), optionally its backing images
  umlab import [--cache <dir>] [--stack <s>] [--up] <archive> <new lab folder>
      verify every hash, write the lab folder (program, config with umlab:restoreFrom, snapshot/),
      put carried images in the image cache; --up: a new stack, up with its disks restored
  umlab new <dir> [--template quickstart|ospf-ring|clone] [--name <project>] [--umlab <spec>]
      make a lab folder that works at once: npm install && npm run up (<spec>: what its
      package.json depends on for umlab; default this umlab's folder)
  umlab setup
      build the Pulumi CLI umlab uses (once per user)
  umlab class up|status|check|reset|down <program dir> [--students <a,b,c | N>] [--parallel K]
        [--set key=value] [--seed <text>] [--force] [--json | --csv]      (reset: <program dir> <student>)
      one stack per student (student-<name>) of one program: up (admission check, refresh, up),
      status/check (one row per student: up/down, each check, last change), reset one, down all
  umlab pulumi <args...>
      run pulumi in a lab folder: local state in .pulumi-state/, a stack selected ("dev")
  umlab summary [--title <text>] [<file> | -]
      the JSON of \`pulumi preview --json\` (or \`refresh --preview-only --json\`) as a markdown
      summary per resource: create/update/replace/delete and which fields, and why
Run in a lab's project folder, the lab is the one in the state of <stack> (default: the
selected stack; also $UMLAB_STACK). <lab> is a lab directory or a lab id under the runtime
root (\$UMLAB_RUNTIME, default /var/tmp/umlab-<uid>); without
either, the one lab there that has a guest of that name (also $UMLAB_LAB); a stack named
with --stack or $UMLAB_STACK is never left for the runtime root.`;

export async function main(args: string[]): Promise<number> {
  const root = defaultRuntimeRoot(process.env);
  let a: CliArgs;
  try {
    // Commands with arguments of their own.
    if (args[0] === "new") return await cmdNew(args.slice(1));
    if (args[0] === "pulumi") return await cmdPulumi(args.slice(1));
    if (args[0] === "setup") return await cmdSetup();
    if (args[0] === "merge") return await cmdMerge(args.slice(1), root);
    if (args[0] === "history") return await cmdHistory(args.slice(1));
    if (args[0] === "snapshot") return await cmdSnapshot(args.slice(1));
    if (args[0] === "export") return await cmdExport(args.slice(1));
    if (args[0] === "import") return await cmdImport(args.slice(1));
    if (args[0] === "summary") return await cmdSummary(args.slice(1));
    if (args[0] === "graph") return await cmdGraph(args.slice(1));
    if (args[0] === "class") return await cmdClass(args.slice(1));
    a = parseArgs(args, process.env);
    if (a.command === "help") {
      console.log(USAGE);
      return 0;
    }
    if (a.command === "exec") return await cmdExec(a, root);
    if (a.command === "mconsole") return await cmdMconsole(a, root);
    if (a.command === "console") return await cmdConsole(a, root);
    return await cmdLs(a, root);
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
