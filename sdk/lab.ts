import * as pulumi from "@pulumi/pulumi";
import * as path from "path";
import { UmlabResource } from "./resource";
import * as naming from "../provider/core/naming";
import { labRuntimeSchema } from "../provider/core/schemas";
import { preflight } from "./validate";
import { defaultRuntimeRoot } from "../provider/lab/owned";
import { readManifest, disksByName } from "../provider/lab/snapshot-manifest";

export interface LabArgs {
  /**
   * Where lab runtime directories live: default `$UMLAB_RUNTIME`, else `/var/tmp/umlab-<uid>`.
   * Keep it short; it must be a
   * directory of your own, not writable by others (the lab refuses anything else).
   */
  runtimeRoot?: string;
  /**
   * Restore the lab's disks from a snapshot directory: every CowDisk whose name the snapshot's
   * manifest records (and that has no `fromSnapshot` of its own) starts from that disk. Default:
   * the stack config `umlab:restoreFrom` (what `umlab import` sets), so no program edit is needed.
   */
  restoreFrom?: string;
}

/** The runtime directory of a lab (created first, removed last). Made by `Lab`. */
export class LabRuntime extends UmlabResource {
  declare readonly dir: pulumi.Output<string>;
  declare readonly root: pulumi.Output<string>;
  declare readonly labId: pulumi.Output<string>;

  constructor(name: string, args: { root: string; labId: string }, opts?: pulumi.CustomResourceOptions) {
    preflight("LabRuntime", name, labRuntimeSchema(), args);
    super("labRuntimeProvider", name, { ...args, dir: undefined }, opts, "umlab", "LabRuntime");
  }
}

/**
 * A lab: the namespace of one topology for one project+stack. Everything in it lives under
 * one short runtime directory, so two stacks of a program run side by side on one host.
 */
export class Lab extends pulumi.ComponentResource {
  /** Readable + hashed id of project+stack, e.g. `quicksta-dev-1a2b3c`. */
  readonly labId: string;
  readonly runtime: LabRuntime;
  /** The runtime directory (mode 0700). */
  readonly dir: pulumi.Output<string>;
  /** The snapshot the lab's disks are restored from (LabArgs `restoreFrom`), if any. */
  readonly restoreFrom?: string;
  private readonly restoreDisks = new Map<string, { guest: string; index: number }>();

  constructor(name: string, args: LabArgs = {}, opts?: pulumi.ComponentResourceOptions) {
    super("umlab:index:Lab", name, {}, opts);
    this.labId = naming.labId(pulumi.getProject(), pulumi.getStack());
    const root = args.runtimeRoot ?? defaultRuntimeRoot(process.env);
    this.runtime = new LabRuntime(`${name}-runtime`, { root, labId: this.labId }, { parent: this });
    this.dir = this.runtime.dir;
    const restore = args.restoreFrom ?? new pulumi.Config("umlab").get("restoreFrom");
    this.restoreFrom = restore ? path.resolve(restore) : undefined;
    if (this.restoreFrom) {
      const m = readManifest(this.restoreFrom);
      this.restoreDisks = disksByName(m);
      if (this.restoreDisks.size === 0)
        throw new Error(
          `Lab "${name}": restoreFrom ${this.restoreFrom}: its manifest records no disk names ` +
            "(a snapshot taken before lab-level restore): give each CowDisk fromSnapshot instead",
        );
    }
    this.registerOutputs({ labId: this.labId, dir: this.dir });
  }

  /** The snapshot disk a CowDisk named `disk` restores from under `restoreFrom`, if any. */
  restoreOf(disk: string): { dir: string; guest: string; index: number } | undefined {
    const d = this.restoreDisks.get(disk);
    return d && this.restoreFrom ? { dir: this.restoreFrom, ...d } : undefined;
  }

  /** The stable MAC of NIC `index` of guest `guest` in this lab. */
  mac(guest: string, index: number): string {
    return naming.stableMac(this.labId, guest, index);
  }

  /** Options for a resource of this lab: a child of it that waits for its runtime directory. */
  resourceOptions(opts: pulumi.CustomResourceOptions = {}): pulumi.CustomResourceOptions {
    const deps =
      opts.dependsOn === undefined ? [] : Array.isArray(opts.dependsOn) ? opts.dependsOn : [opts.dependsOn];
    return { parent: this, ...opts, dependsOn: [this.runtime, ...(deps as pulumi.Input<pulumi.Resource>[])] };
  }
}
