// npm run drill -- <drill> [--stack <s>] [--dir <lab folder>]   (npm run drill -- list)
// Runs one drill of the ha-cluster lab against its running stack and prints its steps and result.
import * as path from "path";
import { PACKAGE_ROOT } from "../../../cli/toolchain";
import { Cluster } from "./cluster";
import { DRILLS, findDrill } from "./drills";
import { DrillResult, DrillRun, ProbeFactory } from "./runner";
import { DrillStack } from "./stack";

export class DrillUsageError extends Error {}

/** Run drill `name` on `stack` (the code `npm run drill` runs; the tests and the bench call it too). */
export async function runDrill(
  name: string,
  stack: DrillStack,
  opts: { probe?: ProbeFactory; print?: (l: string) => void } = {},
): Promise<DrillResult> {
  let drill;
  try {
    drill = findDrill(name);
  } catch (e) {
    throw new DrillUsageError((e as Error).message);
  }
  if (drill.needs) throw new DrillUsageError(`drill ${name} is not here yet: it needs ${drill.needs}`);
  const print = opts.print ?? ((l: string) => console.log(l));
  print(`== drill ${name}: ${drill.summary}`);
  const run = new DrillRun(stack, new Cluster(await stack.outputs()), name, opts.probe, print);
  await drill.run(run);
  return run.result;
}

export function listDrills(): string {
  return DRILLS.map(
    (d) => `${d.name.padEnd(22)} ${d.summary}${d.needs ? `  [needs ${d.needs.split(" (")[0]}]` : ""}`,
  ).join("\n");
}

export function parseArgs(argv: string[]): { drill?: string; stack?: string; dir: string } {
  const out: { drill?: string; stack?: string; dir: string } = {
    dir: path.join(PACKAGE_ROOT, "examples/ha-cluster"),
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === "--stack" || a === "--dir") {
      const v = argv[++i];
      if (!v)
        throw new DrillUsageError(
          `${a} needs a value (${a === "--stack" ? "a stack name" : "the lab folder"})`,
        );
      if (a === "--stack") out.stack = v;
      else out.dir = path.resolve(v);
    } else if (a.startsWith("-"))
      throw new DrillUsageError(`unknown option ${a}: the options are --stack <s>, --dir <lab folder>`);
    else if (out.drill) throw new DrillUsageError(`one drill at a time (got ${out.drill} and ${a})`);
    else out.drill = a;
  }
  return out;
}

async function main(argv: string[]): Promise<number> {
  try {
    const a = parseArgs(argv);
    if (!a.drill || a.drill === "list" || a.drill === "help") {
      console.log(`npm run drill -- <drill> [--stack <s>] [--dir <lab folder>]\n\n${listDrills()}`);
      return a.drill ? 0 : 2;
    }
    findDrill(a.drill);
    const result = await runDrill(a.drill, await DrillStack.forFolder(a.dir, a.stack));
    const { formatResult } = await import("./runner");
    console.log(formatResult(result));
    return result.restored ? 0 : 1;
  } catch (e) {
    console.error(`drill: ${(e as Error).message}`);
    return e instanceof DrillUsageError || /^unknown drill/.test((e as Error).message) ? 2 : 1;
  }
}

if (require.main === module) main(process.argv.slice(2)).then((c) => process.exit(c));
