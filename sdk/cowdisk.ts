import * as pulumi from "@pulumi/pulumi";
import { UmlabResource } from "./resource";
import { cowDiskSchema } from "../provider/core/schemas";
import type { Lab } from "./lab";
import { preflight } from "./validate";
import { imageOf } from "./image";

export interface CowDiskArgs {
  lab: Lab;
  /** The backing image (never written). Many COW disks may share it. */
  backing: pulumi.Input<string>;
  /** Name on the host (`<lab>/disk/<name>.cow`); default: the resource name. */
  name?: string;
  /** `mkcow` (default): create it now with uml_mkcow; `boot`: UML creates it at first boot. */
  create?: "mkcow" | "boot";
  /** Changes when the backing file's content changes (e.g. an Image's hash): a new, empty COW. */
  backingVersion?: pulumi.Input<string>;
  /**
   * Start from a snapshot's disk instead of an empty COW: disk `index` (default 0, the root) of
   * guest `guest` in the snapshot at `dir` (a Snapshot's `dir`, or a path). Its sha256 is checked,
   * and `backing` must be the image it was made over (same sha256), else create refuses.
   */
  fromSnapshot?: { dir: pulumi.Input<string>; guest: string; index?: number };
}

/** A sparse copy-on-write disk over a backing image. */
export class CowDisk extends UmlabResource {
  declare readonly path: pulumi.Output<string>;
  declare readonly backing: pulumi.Output<string>;
  /** Bytes allocated on the host when the disk was created. */
  declare readonly allocatedBytes: pulumi.Output<number>;
  /** The default memory of a guest booting from it: its Image's, when `backing` is `image.path`. */
  readonly guestMemory?: pulumi.Output<string>;

  constructor(name: string, args: CowDiskArgs, opts?: pulumi.CustomResourceOptions) {
    const inputs = {
      labDir: args.lab.dir,
      name: args.name ?? name,
      backing: args.backing,
      create: args.create ?? "mkcow",
      backingVersion: args.backingVersion ?? "",
      // Its own fromSnapshot, else the lab's restoreFrom (config umlab:restoreFrom) for its name.
      fromSnapshot: args.fromSnapshot
        ? { index: 0, ...args.fromSnapshot }
        : args.lab.restoreOf(args.name ?? name),
    };
    preflight("CowDisk", name, cowDiskSchema(), inputs);
    super(
      "cowDiskProvider",
      name,
      { ...inputs, path: undefined, allocatedBytes: undefined },
      args.lab.resourceOptions(opts),
      "umlab",
      "CowDisk",
    );
    this.guestMemory = imageOf(args.backing)?.guestMemory;
  }
}
