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

export interface LabRuntimeOutputs extends LabRuntimeInputs {
  dir: string;
}

/** A new directory (and so a new lab) whenever root or id change (core/schemas/lab.ts). */
export function planLabRuntime(olds: LabRuntimeInputs, news: LabRuntimeInputs): pulumi.dynamic.DiffResult {
  return diffResult(planFromPolicy(labRuntimePolicy, olds, news));
}

function makeDirs(dir: string): void {
  fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
  fs.chmodSync(dir, 0o700);
  const p = naming.labPaths(dir);
  for (const d of [p.umlDir, p.guestsDir, p.switchesDir, p.disksDir])
    fs.mkdirSync(d, { recursive: true, mode: 0o700 });
}

export const labRuntimeProvider = defineProvider<LabRuntimeInputs, LabRuntimeOutputs>({
  schema: labRuntimeSchema,
  policy: labRuntimePolicy,

  async create(i) {
    const dir = naming.labDir(i.root, i.labId);
    fs.mkdirSync(i.root, { recursive: true, mode: 0o755 });
    makeDirs(dir);
    return { id: dir, outs: { ...i, dir } };
  },

  read(o) {
    // The directory is the lab's: gone (e.g. a reboot cleared /var/tmp), the next up makes it.
    return fs.existsSync(o.dir) ? o : undefined;
  },

  async delete(o) {
    // Only ever remove a directory this resource made: <root>/<labId>.
    if (!o.dir || o.dir !== naming.labDir(o.root, o.labId)) return;
    // Everything still running under the lab dir (orphans of interrupted runs, which no state
    // records) goes first, whole process groups; throws, so destroy fails, if any survives.
    await reapUnder(o.dir);
    // Its taps' namespace, once the reaped tap processes took their devices with them (the
    // name is per lab id: one still holding devices may be another root's lab of that id).
    await removeNamespaceIfUnused(naming.namespaceOf(o.dir));
    fs.rmSync(o.dir, { recursive: true, force: true });
    try {
      fs.rmdirSync(o.root); // the shared root, when this was its last lab
    } catch {
      // not empty or already gone
    }
  },
});
