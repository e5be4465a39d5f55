// Which lab a command means: `--lab` (a lab directory or id), else the lab recorded in the
// state of the Pulumi stack of the current project (\`--stack\` or the selected one), else the
// one lab under the runtime root that has the guest.
import * as fs from "fs";
import * as path from "path";
import { labGuests } from "../provider/exec/agent";
import * as naming from "../provider/core/naming";
import { UsageError } from "./args";
import { stackLabs, exportStack, labsInDeployment, StackLab } from "./state";
import { assertOwnedDir } from "../provider/lab/owned";

/** A lab dir the CLI writes requests into must be this user's own (provider/lab/owned.ts). */
export function ownLab(dir: string): string {
  try {
    assertOwnedDir(dir, "the lab directory");
  } catch (e) {
    throw new UsageError((e as Error).message);
  }
  return dir;
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
  return ownLab(dir);
}

/**
 * Find the lab of guest `guest`: the given lab, else the stack's lab that has it, else the one
 * lab under the root that has it. With `stack` (the user named one: --stack or $UMLAB_STACK)
 * only that stack's labs count: never a same-named guest of another stack.
 */
export function findGuest(
  guest: string,
  lab: string | undefined,
  root: string,
  fromState: StackLab[] = [],
  stack?: string,
): string {
  if (lab !== undefined) return resolveLab(lab, root);
  const inStack = fromState.filter((l) => fs.existsSync(naming.guestPaths(l.dir, guest).dir));
  if (inStack.length === 1) return ownLab(inStack[0].dir);
  if (stack !== undefined) {
    const guests = fromState.flatMap((l) => labGuests(l.dir));
    throw new UsageError(
      fromState.length === 0
        ? `stack "${stack}" records no lab here: run in the lab's project folder (where Pulumi.yaml is) with a stack that is up (pulumi stack ls), or pick the lab with --lab`
        : `no guest "${guest}" in stack "${stack}"` +
            (guests.length
              ? ` (its guests: ${guests.join(", ")})`
              : " (none of its guests is up: pulumi up)"),
    );
  }
  const labs = listLabs(root);
  const having = labs.filter((d) => fs.existsSync(naming.guestPaths(d, guest).dir));
  if (having.length === 1) return ownLab(having[0]);
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

/** The labs a command considers from the stack state; [] without a project or a stack. */
export async function labsOfStack(stack: string | undefined): Promise<StackLab[]> {
  return stackLabs(process.cwd(), stack);
}

/**
 * The lab of a guest for exec/console/mconsole/merge, and the stack it belongs to (undefined when
 * it was found under the runtime root, not through a stack's state).
 */
export async function guestLab(
  guest: string,
  a: { lab?: string; stack?: string },
  root: string,
): Promise<{ dir: string; stack?: string }> {
  if (a.lab !== undefined) return { dir: resolveLab(a.lab, root) };
  const e = await exportStack(process.cwd(), a.stack);
  const fromState = e ? labsInDeployment(e.exported, e.stack) : [];
  const dir = findGuest(guest, undefined, root, fromState, a.stack);
  return { dir, stack: fromState.find((l) => l.dir === dir)?.stack };
}
