import * as pulumi from "@pulumi/pulumi";
import { UmlabResource } from "./resource";
import * as naming from "../provider/core/naming";
import { labRuntimeSchema } from "../provider/core/schemas";
import { preflight } from "./validate";
import { defaultRuntimeRoot } from "../provider/lab/owned";

export interface LabArgs {
  /**
   * Where lab runtime directories live: default `$UMLAB_RUNTIME`, else `/var/tmp/umlab-<uid>`.
   * Keep it short; it must be a
   * directory of your own, not writable by others (the lab refuses anything else).
   */
  runtimeRoot?: string;
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

  constructor(name: string, args: LabArgs = {}, opts?: pulumi.ComponentResourceOptions) {
    super("umlab:index:Lab", name, {}, opts);
    this.labId = naming.labId(pulumi.getProject(), pulumi.getStack());
    const root = args.runtimeRoot ?? defaultRuntimeRoot(process.env);
    this.runtime = new LabRuntime(`${name}-runtime`, { root, labId: this.labId }, { parent: this });
    this.dir = this.runtime.dir;
    this.registerOutputs({ labId: this.labId, dir: this.dir });
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
