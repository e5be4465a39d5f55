import * as pulumi from "@pulumi/pulumi";
import { UmlabResource } from "./resource";
import { serialCableSchema } from "../provider/core/schemas";
import type { Lab } from "./lab";
import { preflight } from "./validate";

export interface SerialCableArgs {
  lab: Lab;
  /** Name on the host (FIFO names); default: the resource name. */
  name?: string;
  /** Log every byte that crosses (hex dump with direction and time) to `logPath`. In place. */
  log?: boolean;
}

/**
 * A null-modem cable between serial lines of two guests: put `endA` in one guest's
 * `serial` list and `endB` in the other's (`serial: ["null", cable.endA]` is /dev/ttyS1).
 * Set the lines raw in the guests (`stty -F /dev/ttyS1 raw -echo`).
 */
export class SerialCable extends UmlabResource {
  declare readonly endA: pulumi.Output<string>;
  declare readonly endB: pulumi.Output<string>;
  declare readonly logPath: pulumi.Output<string>;
  declare readonly pid: pulumi.Output<number>;

  constructor(name: string, args: SerialCableArgs, opts?: pulumi.CustomResourceOptions) {
    const inputs = { labDir: args.lab.dir, name: args.name ?? name, log: args.log ?? false };
    preflight("SerialCable", name, serialCableSchema(), inputs);
    super(
      "serialCableProvider",
      name,
      {
        ...inputs,
        endA: undefined,
        endB: undefined,
        logPath: undefined,
        pid: undefined,
        instance: undefined,
      },
      args.lab.resourceOptions(opts),
      "umlab",
      "SerialCable",
    );
  }
}
