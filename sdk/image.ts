// Image: a root filesystem backing file for guests. See docs/image.md.
import * as pulumi from "@pulumi/pulumi";
import { UmlabResource } from "./resource";
import { validateImageArgs } from "../provider/image/host";
import { formatFailures } from "../provider/core/schemas/image";
import { CowDisk } from "./cowdisk";

export interface ImageArgs {
  /** "busybox" (default: small, builds in about a second) or "debian" (mmdebstrap minbase). */
  preset?: pulumi.Input<"busybox" | "debian">;
  /** Your own root filesystem as a host directory (absolute path); the contract init is added. */
  dir?: pulumi.Input<string>;
  /** Your own root filesystem as a tar archive (absolute path); the contract init is added. */
  tarball?: pulumi.Input<string>;
  /**
   * A guest's COW disk merged with its backing file into a new image (uml_moo), in the cache
   * under the sha256 of its bytes. Merged once, when the Image is created; refused while the
   * disk's guest runs (halt it first). The backing file is never written.
   */
  fromCow?: CowDisk | { path: pulumi.Input<string>; backing?: pulumi.Input<string> };
  /** Debian suite (default: the host's, from /etc/os-release). */
  suite?: pulumi.Input<string>;
  /** Extra Debian packages (kmod, iproute2, procps are always included). */
  packages?: pulumi.Input<pulumi.Input<string>[]>;
  /** Debian archive URL (default: the host's, from /etc/apt/sources.list*). */
  mirror?: pulumi.Input<string>;
  /** Kernel modules to carry (busybox default: 8021q bonding bridge dummy ipv6 sch_netem softdog veth). */
  modules?: pulumi.Input<pulumi.Input<string>[]>;
  /** Filesystem size in MiB (default: the content plus a quarter plus 16 MiB). */
  sizeMb?: pulumi.Input<number>;
  /** Cache folder (default: $UMLAB_CACHE or ~/.cache/umlab); images go in <cacheDir>/images. */
  cacheDir?: pulumi.Input<string>;
}

export class Image extends UmlabResource {
  /** The ext4 image: use it as a CowDisk's backing file. Never written by guests. */
  declare readonly path: pulumi.Output<string>;
  /** Apparent size of the file in bytes. */
  declare readonly sizeBytes: pulumi.Output<number>;
  /** Bytes the sparse file really occupies on disk. */
  declare readonly allocatedBytes: pulumi.Output<number>;
  /** sha256 of the file's bytes. */
  declare readonly sha256: pulumi.Output<string>;
  /** The UML kernel version whose modules the image carries. */
  declare readonly kernelVersion: pulumi.Output<string>;
  /** The cache key: sha256 over every input that decides the bytes. */
  declare readonly key: pulumi.Output<string>;
  /** The memory a guest on this image gets by default: "64M" for busybox, "128M" otherwise. */
  declare readonly guestMemory: pulumi.Output<string>;

  constructor(name: string, args: ImageArgs = {}, opts?: pulumi.CustomResourceOptions) {
    // Early, friendly errors for the values already known; `check` validates again with all of them.
    const fromCow =
      args.fromCow instanceof CowDisk
        ? { path: args.fromCow.path, backing: args.fromCow.backing }
        : args.fromCow;
    const failures = validateImageArgs(knownValues({ ...args, fromCow }));
    if (failures.length) throw new Error(formatFailures(name, failures));
    super(
      "imageProvider",
      name,
      {
        ...args,
        fromCow,
        path: undefined,
        sizeBytes: undefined,
        allocatedBytes: undefined,
        sha256: undefined,
        kernelVersion: undefined,
        key: undefined,
        guestMemory: undefined,
      },
      opts,
      "umlab",
      "Image",
    );
    images.set(this.path, this);
  }
}

/** Each Image by its `path` output, so a CowDisk given `backing: image.path` knows its image. */
const images = new WeakMap<object, Image>();

/** The Image whose `path` output this is (a CowDisk's backing), if it is one. */
export function imageOf(backing: unknown): Image | undefined {
  return backing !== null && typeof backing === "object" ? images.get(backing) : undefined;
}

/** The plain (already known) values of the args; Outputs and promises are left to `check`. */
function knownValues(args: Record<string, unknown>): Record<string, any> {
  const out: Record<string, any> = {};
  const pending = (x: unknown) => pulumi.Output.isInstance(x) || x instanceof Promise;
  for (const [k, v] of Object.entries(args)) {
    if (v === undefined || pending(v)) continue;
    if (Array.isArray(v) && v.some(pending)) continue;
    if (v !== null && typeof v === "object" && !Array.isArray(v) && Object.values(v).some(pending)) continue;
    out[k] = v;
  }
  return out;
}
