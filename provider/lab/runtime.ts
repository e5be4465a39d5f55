// The lab's runtime directory as a resource: created before everything else in a Lab and
// removed after it, so `pulumi destroy` leaves nothing behind (including what a failed
// create may have left in it).
import * as fs from "fs";
import type * as pulumi from "@pulumi/pulumi";
import * as naming from "../core/naming";
import { schemas, validate, LabRuntimeInputs } from "../core/schemas";

export interface LabRuntimeOutputs extends LabRuntimeInputs {
  dir: string;
}

/** What changes need: a new directory (and so a new lab) whenever root or id change. */
export function planLabRuntime(olds: LabRuntimeInputs, news: LabRuntimeInputs): pulumi.dynamic.DiffResult {
  const replaces = (["root", "labId"] as const).filter((k) => olds[k] !== news[k]);
  return { changes: replaces.length > 0, replaces, deleteBeforeReplace: true };
}

function makeDirs(dir: string): void {
  fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
  fs.chmodSync(dir, 0o700);
  const p = naming.labPaths(dir);
  for (const d of [p.umlDir, p.guestsDir, p.switchesDir, p.disksDir])
    fs.mkdirSync(d, { recursive: true, mode: 0o700 });
}

export const labRuntimeProvider: pulumi.dynamic.ResourceProvider = {
  async check(_olds: any, news: any) {
    const r = validate(schemas().labRuntime, news);
    return r.ok ? { inputs: r.value } : { inputs: news, failures: r.failures };
  },

  async diff(_id: string, olds: any, news: any) {
    return planLabRuntime(olds, news);
  },

  async create(inputs: any) {
    const dir = naming.labDir(inputs.root, inputs.labId);
    fs.mkdirSync(inputs.root, { recursive: true, mode: 0o755 });
    makeDirs(dir);
    return { id: dir, outs: { ...inputs, dir } };
  },

  async read(id: string, props: any) {
    if (!fs.existsSync(props.dir ?? id)) return { id: "", props: {} };
    return { id, props };
  },

  async delete(_id: string, props: any) {
    const dir: string = props.dir;
    // Only ever remove a directory this resource made: <root>/<labId>.
    if (!dir || dir !== naming.labDir(props.root, props.labId)) return;
    fs.rmSync(dir, { recursive: true, force: true });
    try {
      fs.rmdirSync(props.root); // the shared root, when this was its last lab
    } catch {
      // not empty or already gone
    }
  },
};
