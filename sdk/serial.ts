import * as pulumi from "@pulumi/pulumi";
import { UmlabResource } from "./resource";
import { serialCableSchema } from "../provider/core/schemas";
import { cablePaths } from "../provider/core/naming";
import type { Lab } from "./lab";
import { preflight } from "./validate";

export interface SerialCableArgs {
  lab: Lab;
  /** Name on the host (FIFO names); default: the resource name. */
  name?: string;
  /** Log every byte that crosses (hex dump with direction and time) to `logPath`. In place. */
  log?: boolean;
  /**
   * A fault: the cable is cut (its relay stopped with SIGSTOP) while true; nothing crosses.
   * In place: the guests keep their serial lines; bytes written meanwhile are lost (dropped at the mend).
   */
  suspended?: boolean;
}

/**
 * A null-modem cable between serial lines of two guests: put `endA` in one guest's
 * `serial` list and `endB` in the other's (`serial: ["null", cable.endA]` is /dev/ttyS1).
 * Set the lines raw in the guests (`stty -F /dev/ttyS1 raw -echo`).
 */
export class SerialCable extends UmlabResource {
  /** Known during previews (the FIFO paths follow from the lab and the name): see below. */
  readonly endA: pulumi.Output<string>;
  readonly endB: pulumi.Output<string>;
  declare readonly logPath: pulumi.Output<string>;
  declare readonly pid: pulumi.Output<number>;

  constructor(name: string, args: SerialCableArgs, opts?: pulumi.CustomResourceOptions) {
    const inputs = {
      labDir: args.lab.dir,
      name: args.name ?? name,
      log: args.log ?? false,
      suspended: args.suspended ?? false,
    };
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
    // The provider's endA/endB are unknown while the cable is updated (cut or mended), and an
    // unknown `serial` would preview its guests as replaced. The ends only depend on the lab
    // dir and the name (provider/net/serial.ts makes the same paths), so compute them here;
    // through `urn` they still carry the cable as a dependency (guests boot after its FIFOs).
    const end = (side: "a" | "b") =>
      pulumi.all([args.lab.dir, this.urn]).apply(([dir]) => `cable:${cablePaths(dir, inputs.name)[side]}`);
    this.endA = end("a");
    this.endB = end("b");
  }
}
