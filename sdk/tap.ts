import * as pulumi from "@pulumi/pulumi";
import { UmlabResource } from "./resource";
import { tapSchema } from "../provider/core/schemas";
import type { Lab } from "./lab";
import type { Switch } from "./switch";
import { preflight } from "./validate";

export interface TapArgs {
  lab: Lab;
  /** A switch with engine "vde" (uml_switch cannot take a tap once running). */
  switch: Switch;
  /** The device name in the lab's namespace (at most 15 characters); default: the resource name. */
  name?: string;
  /** Host-side addresses of the tap, e.g. ["10.0.0.254/24"]. Changing them is in place. */
  addresses?: pulumi.Input<string>[];
}

/**
 * A host tap device plugged into a lab switch, inside the lab's own network namespace
 * `umlab-<labId>` (never the root namespace): `ip netns exec <namespace> ping <guest>`.
 * Needs root or CAP_NET_ADMIN. The namespace goes away with the lab's last tap.
 */
export class Tap extends UmlabResource {
  declare readonly namespace: pulumi.Output<string>;
  declare readonly device: pulumi.Output<string>;
  declare readonly addresses: pulumi.Output<string[]>;
  declare readonly pid: pulumi.Output<number>;
  declare readonly instance: pulumi.Output<string>;

  constructor(name: string, args: TapArgs, opts?: pulumi.CustomResourceOptions) {
    const inputs = {
      labDir: args.lab.dir,
      name: args.name ?? name,
      engine: args.switch.engine,
      control: args.switch.control,
      // A restarted or replaced switch makes a new tap (the plug process would be dangling).
      switchInstance: args.switch.instance,
      addresses: args.addresses ?? [],
    };
    preflight("Tap", name, tapSchema(), inputs);
    super(
      "tapProvider",
      name,
      { ...inputs, namespace: undefined, device: undefined, pid: undefined, instance: undefined },
      args.lab.resourceOptions(opts),
      "umlab",
      "Tap",
    );
  }
}
