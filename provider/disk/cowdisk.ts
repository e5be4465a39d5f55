// A sparse copy-on-write disk over a backing image. The backing file is only ever read:
// many COW disks share one backing file, and writing it would invalidate all of them.
import * as fs from "fs";
import type * as pulumi from "@pulumi/pulumi";
import * as host from "../host/process";
import * as naming from "../core/naming";
import { schemas, validate, CowDiskInputs, CheckFailure } from "../core/schemas";

export interface CowDiskOutputs extends CowDiskInputs {
  path: string;
  /** Bytes the COW file occupied on the host when it was created (0 for "boot": UML makes it). */
  allocatedBytes: number;
}

/** A COW disk is bound to its backing file: any change is a new disk (same path, so delete first). */
export function planCowDisk(olds: CowDiskInputs, news: CowDiskInputs): pulumi.dynamic.DiffResult {
  const keys = ["labDir", "name", "backing", "create", "backingVersion"] as const;
  const replaces = keys.filter((k) => olds[k] !== news[k]);
  return { changes: replaces.length > 0, replaces, deleteBeforeReplace: true };
}

export function checkCowDisk(news: any): { inputs: any; failures?: CheckFailure[] } {
  const r = validate(schemas().cowDisk, news);
  return r.ok ? { inputs: r.value } : { inputs: news, failures: r.failures };
}

export const cowDiskProvider: pulumi.dynamic.ResourceProvider = {
  async check(_olds: any, news: any) {
    return checkCowDisk(news);
  },

  async diff(_id: string, olds: any, news: any) {
    return planCowDisk(olds, news);
  },

  async create(inputs: any) {
    const i = inputs as CowDiskInputs;
    const st = fs.statSync(i.backing, { throwIfNoEntry: false });
    if (!st || !st.isFile())
      throw new Error(`CowDisk ${i.name}: backing file ${i.backing} is not a regular file`);
    const path = naming.cowPath(i.labDir, i.name);
    fs.mkdirSync(naming.labPaths(i.labDir).disksDir, { recursive: true, mode: 0o700 });
    fs.rmSync(path, { force: true });
    let allocatedBytes = 0;
    if (i.create === "mkcow") {
      await host.run("uml_mkcow", [path, i.backing]);
      allocatedBytes = fs.statSync(path).blocks * 512;
    }
    const outs: CowDiskOutputs = { ...i, path, allocatedBytes };
    return { id: path, outs };
  },

  async read(id: string, props: any) {
    const o = props as CowDiskOutputs;
    // "boot" disks appear only when their guest first boots; a missing one is not gone.
    if (o.create === "mkcow" && !fs.existsSync(o.path)) return { id: "", props: {} };
    return { id, props };
  },

  async delete(_id: string, props: any) {
    const o = props as CowDiskOutputs;
    if (o.path && o.path === naming.cowPath(o.labDir, o.name)) fs.rmSync(o.path, { force: true });
  },
};
