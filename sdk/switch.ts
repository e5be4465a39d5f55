import * as pulumi from "@pulumi/pulumi";
import { UmlabResource } from "./resource";
import { switchSchema, switchPolicy } from "../provider/core/schemas";
import { generation } from "../provider/core/diff";
import type { Lab } from "./lab";
import { preflight } from "./validate";

export interface SwitchArgs {
  lab: Lab;
  /** Name on the host (socket file names); default: the resource name. */
  name?: string;
  /** `uml_switch` (daemon transport; default) or `vde` (vde_switch; the transport newer kernels keep). */
  engine?: "uml_switch" | "vde";
  /** Forward every frame to every port (a hub) instead of learning MACs. */
  hub?: boolean;
  /**
   * A fault: stop the switch process (SIGSTOP) so it forwards nothing; `false` resumes it.
   * An in-place update: the guests stay plugged. Suspend every switch for a split brain.
   */
  suspended?: boolean;
}

/** A virtual Ethernet switch: a uml_switch or vde_switch process of the lab. */
export class Switch extends UmlabResource {
  declare readonly name: pulumi.Output<string>;
  declare readonly engine: pulumi.Output<"uml_switch" | "vde">;
  /** uml_switch: control socket; vde: control directory. */
  declare readonly control: pulumi.Output<string>;
  declare readonly pid: pulumi.Output<number>;
  /** Names this run of the switch process; changes when it restarts. */
  declare readonly instance: pulumi.Output<string>;
  declare readonly logPath: pulumi.Output<string>;
  declare readonly suspended: pulumi.Output<boolean>;
  /** Its replace-triggering inputs: NICs re-plug when this changes (known during previews). */
  readonly generation: string;

  constructor(name: string, args: SwitchArgs, opts?: pulumi.CustomResourceOptions) {
    const inputs = {
      labDir: args.lab.dir,
      name: args.name ?? name,
      engine: args.engine ?? "uml_switch",
      hub: args.hub ?? false,
      suspended: args.suspended ?? false,
    };
    preflight("Switch", name, switchSchema(), inputs);
    super(
      "switchProvider",
      name,
      { ...inputs, control: undefined, pid: undefined, instance: undefined, logPath: undefined },
      args.lab.resourceOptions(opts),
      "umlab",
      "Switch",
    );
    // Its replace fields (labDir aside: a new lab dir reboots every guest anyway).
    this.generation = generation("switch", switchPolicy, inputs);
  }
}
