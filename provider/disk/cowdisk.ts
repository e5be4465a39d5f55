// A sparse copy-on-write disk over a backing image. The backing file is only ever read:
// many COW disks share one backing file, and writing it would invalidate all of them.
import * as fs from "fs";
import type * as pulumi from "@pulumi/pulumi";
import * as host from "../host/process";
import * as naming from "../core/naming";
import { cowDiskSchema, cowDiskPolicy, CowDiskInputs } from "../core/schemas";
import { planFromPolicy, diffResult } from "../core/diff";
import { defineProvider } from "../core/define";
import { restoreCow } from "./restore";

export interface CowDiskOutputs extends CowDiskInputs {
  path: string;
  /** Bytes the COW file occupied on the host when it was created (0 for "boot": UML makes it). */
  allocatedBytes: number;
}

/** A COW disk is bound to its backing file: any change is a new disk (same path, so delete first). */
export function planCowDisk(olds: CowDiskInputs, news: CowDiskInputs): pulumi.dynamic.DiffResult {
  return diffResult(planFromPolicy(cowDiskPolicy, olds, news));
}

export const cowDiskProvider = defineProvider<CowDiskInputs, CowDiskOutputs>({
  schema: cowDiskSchema,
  policy: cowDiskPolicy,

  async create(i) {
    const st = fs.statSync(i.backing, { throwIfNoEntry: false });
    if (!st || !st.isFile())
      throw new Error(`CowDisk ${i.name}: backing file ${i.backing} is not a regular file`);
    const path = naming.cowPath(i.labDir, i.name);
    fs.mkdirSync(naming.labPaths(i.labDir).disksDir, { recursive: true, mode: 0o700 });
    fs.rmSync(path, { force: true });
    let allocatedBytes = 0;
    if (i.fromSnapshot) {
      await restoreCow(i.fromSnapshot, i.backing, path, `CowDisk ${i.name}`);
      allocatedBytes = fs.statSync(path).blocks * 512;
    } else if (i.create === "mkcow") {
      await host.run("uml_mkcow", [path, i.backing]);
      allocatedBytes = fs.statSync(path).blocks * 512;
    }
    return { id: path, outs: { ...i, path, allocatedBytes } };
  },

  read(o) {
    // "boot" disks appear only when their guest first boots; a missing one is not gone.
    return (o.create === "mkcow" || o.fromSnapshot) && !fs.existsSync(o.path) ? undefined : o;
  },

  async delete(o) {
    if (o.path && o.path === naming.cowPath(o.labDir, o.name)) fs.rmSync(o.path, { force: true });
  },
});
