import * as pulumi from "@pulumi/pulumi";
import { UmlabResource } from "./resource";
import { snapshotSchema } from "../provider/core/schemas";
import type { Lab } from "./lab";
import type { Guest } from "./guest";
import { preflight } from "./validate";

export interface SnapshotArgs {
  lab: Lab;
  /** The guests whose disks are snapshotted (each is quiesced for the copy, then resumed). */
  guests: Guest[];
  /** Snapshot name (`[a-z][a-z0-9-]*`); default: the resource name. */
  name?: string;
  /**
   * Where the snapshot lives (outside the lab dir: a clone in another stack reads it). Default
   * `<runtime root>/snapshots/<project>.<stack>.<name>`.
   */
  dir?: pulumi.Input<string>;
  /** Values recorded as the manifest's `outputs` (e.g. the addresses a clone's checks use). */
  outputs?: pulumi.Input<Record<string, pulumi.Input<unknown>>>;
}

/**
 * A snapshot of running guests' disks, taken once when created and kept until deleted
 * (deleting it removes its directory). Restore a disk from it with CowDisk `fromSnapshot`.
 */
export class Snapshot extends UmlabResource {
  /** The snapshot directory (`manifest.json`, `disks/<guest>.<k>.cow`). */
  declare readonly dir: pulumi.Output<string>;
  declare readonly createdAt: pulumi.Output<string>;
  /** Apparent and allocated bytes of its COW files. */
  declare readonly bytes: pulumi.Output<number>;
  declare readonly allocated: pulumi.Output<number>;

  constructor(name: string, args: SnapshotArgs, opts?: pulumi.CustomResourceOptions) {
    const snapName = args.name ?? name;
    const project = pulumi.getProject();
    const stack = pulumi.getStack();
    const inputs = {
      labDir: args.lab.dir,
      name: snapName,
      dir: args.dir ?? pulumi.interpolate`${args.lab.runtime.root}/snapshots/${project}.${stack}.${snapName}`,
      project,
      stack,
      outputs: args.outputs ?? {},
      guests: args.guests.map((g) => ({ name: g.name, disks: g.disks, paused: g.paused })),
    };
    preflight("Snapshot", name, snapshotSchema(), inputs);
    const o = args.lab.resourceOptions(opts);
    super(
      "snapshotProvider",
      name,
      { ...inputs, createdAt: undefined, bytes: undefined, allocated: undefined },
      { ...o, dependsOn: [...(o.dependsOn as pulumi.Resource[]), ...args.guests] },
      "umlab",
      "Snapshot",
    );
  }
}
