// umlab ls: the labs (and the stack each belongs to) and their guests.
import * as fs from "fs";
import { labGuests, guestPid } from "../provider/exec/agent";
import * as naming from "../provider/core/naming";
import { UsageError, type CliArgs } from "./args";
import { listLabs, resolveLab, labsOfStack } from "./labs";

export async function cmdLs(a: CliArgs, root: string): Promise<number> {
  const fromState = a.lab === undefined ? await labsOfStack(a.stack) : [];
  if (a.lab === undefined && a.stack !== undefined && fromState.length === 0)
    throw new UsageError(
      `stack "${a.stack}" records no lab here: run in the lab's project folder (where Pulumi.yaml is) with a stack that is up (pulumi stack ls)`,
    );
  const stackOf = new Map(fromState.map((l) => [l.dir, l.stack]));
  const labs =
    a.lab !== undefined
      ? [resolveLab(a.lab, root)]
      : fromState.length > 0
        ? fromState.map((l) => l.dir)
        : listLabs(root);
  if (labs.length === 0) console.log(`no labs under ${root}`);
  for (const d of labs) {
    console.log(
      stackOf.has(d)
        ? `${d} (stack ${stackOf.get(d)})`
        : `${d} (under the runtime root; no stack state read)`,
    );
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
