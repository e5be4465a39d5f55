// The lab's runtime directory as a resource: created before everything else in a Lab and
// removed after it, so `pulumi destroy` leaves nothing behind (including what a failed
// create may have left in it).
import * as fs from "fs";
import type * as pulumi from "@pulumi/pulumi";
import * as naming from "../core/naming";
import { reapUnder } from "../host/reap";
import { removeNamespaceIfUnused } from "../host/netns";
import { labRuntimeSchema, labRuntimePolicy, LabRuntimeInputs } from "../core/schemas";
import { planFromPolicy, diffResult } from "../core/diff";
import { defineProvider } from "../core/define";
import { ensureOwnedDir, assertOwnedDir, dirFacts } from "./owned";

export interface LabRuntimeOutputs extends LabRuntimeInputs {
  dir: string;
}

/** A new directory (and so a new lab) whenever root or id change (core/schemas/lab.ts). */
export function planLabRuntime(olds: LabRuntimeInputs, news: LabRuntimeInputs): pulumi.dynamic.DiffResult {
  return diffResult(planFromPolicy(labRuntimePolicy, olds, news));
}

/**
 * The root and the lab dir are made (0700) or found, and used only when each is this user's own
 * real directory, not group/other-writable (owned.ts): another local user who made either first,
 * or planted a link there, gets a refusal naming the path and its owner, and nothing of theirs
 * is written.
 */
function makeDirs(root: string, dir: string): void {
  ensureOwnedDir(root, "the runtime root", true);
  ensureOwnedDir(dir, "the lab directory");
  fs.chmodSync(dir, 0o700); // checked above: ours and not a link
  const p = naming.labPaths(dir);
  for (const d of [p.umlDir, p.guestsDir, p.switchesDir, p.disksDir])
    fs.mkdirSync(d, { recursive: true, mode: 0o700 });
}

export const labRuntimeProvider = defineProvider<LabRuntimeInputs, LabRuntimeOutputs>({
  schema: labRuntimeSchema,
  policy: labRuntimePolicy,

  async create(i) {
    const dir = naming.labDir(i.root, i.labId);
    makeDirs(i.root, dir);
    return { id: dir, outs: { ...i, dir } };
  },

  read(o) {
    // The directory is the lab's: gone (e.g. a reboot cleared /var/tmp), the next up makes it.
    return fs.existsSync(o.dir) ? o : undefined;
  },

  async delete(o) {
    // Only ever remove a directory this resource made: <root>/<labId>, and only while the root
    // and it are still this user's own (never another user's directory or a link's target).
    // The root stays: it is per user, or one the user named (UMLAB_RUNTIME), maybe shared.
    if (!o.dir || o.dir !== naming.labDir(o.root, o.labId)) return;
    const rootThere = dirFacts(o.root) !== undefined;
    if (rootThere) assertOwnedDir(o.root, "the runtime root");
    const dirThere = rootThere && dirFacts(o.dir) !== undefined;
    if (dirThere) assertOwnedDir(o.dir, "the lab directory");
    // Everything still running under the lab dir (orphans of interrupted runs, which no state
    // records) goes first, whole process groups; throws, so destroy fails, if any survives.
    await reapUnder(o.dir);
    // Its taps' namespace, once the reaped tap processes took their devices with them (the
    // name is per lab id: one still holding devices may be another root's lab of that id).
    await removeNamespaceIfUnused(naming.namespaceOf(o.dir));
    if (!dirThere) return;
    fs.rmSync(o.dir, { recursive: true, force: true });
  },
});
