// Faults: link impairments as a resource, and crash() — the one imperative fault.
// (Switch `suspended` and Guest `paused` are arguments of those resources.)
import * as pulumi from "@pulumi/pulumi";
import { UmlabResource } from "./resource";
import { crashGuest } from "../provider/guest/power";
import { impairmentSchema, impairmentPolicy } from "../provider/core/schemas";
import { generation } from "../provider/core/diff";
import type { Lab } from "./lab";
import type { Switch } from "./switch";
import { preflight } from "./validate";

export interface ImpairmentArgs {
  lab: Lab;
  /** The real switch (engine "vde"). */
  switch: Switch;
  name?: string;
  /** Frames lost, percent, in each direction (0 or unset: none). */
  lossPercent?: number;
  /** Added delay in ms, each direction. */
  delayMs?: number;
  /** Bandwidth limit in kbit/s, each direction (0 or unset: unlimited). */
  rateKbit?: number;
}

/**
 * An impaired link to a switch: plug a NIC into it instead of the switch
 * (`nics: [{ switch: impairment }]`). Changing or removing a setting is an in-place update;
 * the guest stays plugged.
 */
export class Impairment extends UmlabResource {
  declare readonly engine: pulumi.Output<"uml_switch" | "vde">;
  declare readonly control: pulumi.Output<string>;
  declare readonly instance: pulumi.Output<string>;
  declare readonly pid: pulumi.Output<number>;
  declare readonly filterPid: pulumi.Output<number>;
  /** Known during previews; changes exactly when the impairment is replaced. */
  readonly generation: string;

  constructor(name: string, args: ImpairmentArgs, opts?: pulumi.CustomResourceOptions) {
    const inputs = {
      labDir: args.lab.dir,
      name: args.name ?? name,
      upstreamEngine: args.switch.engine,
      upstream: args.switch.control,
      upstreamInstance: args.switch.instance,
      lossPercent: args.lossPercent ?? 0,
      delayMs: args.delayMs ?? 0,
      rateKbit: args.rateKbit ?? 0,
    };
    preflight("Impairment", name, impairmentSchema(), inputs);
    super(
      "impairmentProvider",
      name,
      {
        ...inputs,
        engine: undefined,
        control: undefined,
        pid: undefined,
        instance: undefined,
        filterPid: undefined,
        filterInstance: undefined,
      },
      args.lab.resourceOptions(opts),
      "umlab",
      "Impairment",
    );
    // Its replace fields (labDir aside: a new lab dir reboots every guest anyway); settings
    // change in place.
    this.generation = generation("impairment", impairmentPolicy, inputs);
  }
}

/**
 * Pull the plug on a running guest (kill -9 of its process group, no halt), e.g. from a test
 * or pipeline after `pulumi up`, with the Guest's `pid` and `instance` outputs. The next
 * `pulumi refresh` finds it gone and `pulumi up` boots it again. Returns whether it ran.
 */
export function crash(guest: { pid: number; instance: string }): Promise<boolean> {
  return crashGuest(guest);
}
