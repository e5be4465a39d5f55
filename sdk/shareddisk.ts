import * as pulumi from "@pulumi/pulumi";
import { UmlabResource } from "./resource";
import { sharedDiskSchema } from "../provider/core/schemas";
import type { Lab } from "./lab";
import { preflight } from "./validate";

export interface SharedDiskArgs {
  lab: Lab;
  /** Size in MiB (1..65536). */
  sizeMiB: number;
  /** Made with mkfs at create (default "ext4"); "none": a zeroed file. */
  filesystem?: "ext2" | "ext3" | "ext4" | "none";
  /** Name on the host (`<lab>/shared/<name>.img`); default: the resource name. */
  name?: string;
}

/**
 * A disk file several guests attach (give it in each guest's `disks`, after the root disk):
 * alternating access, never concurrent. A guest that opens it (mount) holds UML's lock on the
 * file; another guest's open fails with EAGAIN ("Resource temporarily unavailable") until the
 * first releases it (umount, unplug or halt). Any change makes a new, empty file, refused
 * while a running guest has the old one; destroy removes the file.
 */
export class SharedDisk extends UmlabResource {
  declare readonly path: pulumi.Output<string>;

  constructor(name: string, args: SharedDiskArgs, opts?: pulumi.CustomResourceOptions) {
    const inputs = {
      labDir: args.lab.dir,
      name: args.name ?? name,
      sizeMiB: args.sizeMiB,
      filesystem: args.filesystem ?? "ext4",
    };
    preflight("SharedDisk", name, sharedDiskSchema(), inputs);
    super(
      "sharedDiskProvider",
      name,
      { ...inputs, path: undefined },
      args.lab.resourceOptions(opts),
      "umlab",
      "SharedDisk",
    );
  }
}
