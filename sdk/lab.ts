import * as pulumi from "@pulumi/pulumi";
import * as path from "path";
import { UmlabResource } from "./resource";
import * as naming from "../provider/core/naming";
import { labRuntimeSchema } from "../provider/core/schemas";
import { preflight } from "./validate";
import { defaultRuntimeRoot } from "../provider/lab/owned";
import { readManifest, disksByName } from "../provider/lab/snapshot-manifest";
import { parseHost, type Host, type HostInput } from "../provider/host/remote-argv";

export type { HostInput as Host };

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
  /**
   * Run this lab on another machine over SSH (README "More than one machine"): its runtime
   * directory lives under the host's `runtimeRoot`, every component of it runs there. Default:
   * the stack config `umlab:host` (JSON; `umlab class up --hosts` sets it), else this machine.
   * For a lab spread over machines use `lab.on(host)` for the components there.
   */
  host?: HostInput;
}

/** The runtime directory of a lab (created first, removed last). Made by `Lab`. */
export class LabRuntime extends UmlabResource {
  declare readonly dir: pulumi.Output<string>;
  declare readonly root: pulumi.Output<string>;
  declare readonly labId: pulumi.Output<string>;

  /** The host it lives on (its lab's components carry it to their providers: sdk/resource.ts). */
  readonly umlabHost?: Host;

  constructor(
    name: string,
    args: { root: string; labId: string; host?: Host },
    opts?: pulumi.CustomResourceOptions,
  ) {
    const { host, ...rest } = args;
    preflight("LabRuntime", name, labRuntimeSchema(), rest);
    super(
      "labRuntimeProvider",
      name,
      { ...rest, ...(host ? { host } : {}), dir: undefined },
      opts,
      "umlab",
      "LabRuntime",
    );
    this.umlabHost = host;
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
  /** The machine it runs on (undefined: this one). */
  readonly host?: Host;
  private readonly args: LabArgs;
  private readonly labName: string;
  private readonly placed = new Map<string, Lab>();

  constructor(name: string, args: LabArgs = {}, opts?: pulumi.ComponentResourceOptions) {
    super("umlab:index:Lab", name, {}, opts);
    this.labId = naming.labId(pulumi.getProject(), pulumi.getStack());
    this.args = args;
    this.labName = name;
    // Default: the stack config `umlab:host` (JSON of a Host; what `umlab class up --hosts` sets).
    const host = args.host ?? new pulumi.Config("umlab").getObject<HostInput>("host");
    this.host = host === undefined ? undefined : parseHost(host);
    const root = this.host?.runtimeRoot ?? args.runtimeRoot ?? defaultRuntimeRoot(process.env);
    this.runtime = new LabRuntime(
      `${name}-runtime`,
      { root, labId: this.labId, ...(this.host ? { host: this.host } : {}) },
      { parent: this },
    );
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

  /**
   * This lab's part on another machine: components given `lab: lab.on(host)` run on `host`,
   * under a runtime directory of this lab there (made before them, removed after them).
   * One per host name; the same lab id on every host.
   */
  on(host: HostInput): Lab {
    const h = parseHost(host);
    const have = this.placed.get(h.name);
    if (have) return have;
    const name = `${this.labName}-on-${h.name}`;
    const lab = new Lab(name, { ...this.args, host: h }, { parent: this });
    this.placed.set(h.name, lab);
    return lab;
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
