import * as pulumi from "@pulumi/pulumi";
import { UmlabResource } from "./resource";
import { captureSchema } from "../provider/core/schemas";
import type { Lab } from "./lab";
import type { Switch } from "./switch";
import type { Tap } from "./tap";
import { preflight } from "./validate";

export interface CaptureArgs {
  lab: Lab;
  /**
   * Capture on a vde switch without a tap or privilege (a capture port on the switch): all
   * frames on a hub (`hub: true`), only flooded ones on a learning switch.
   */
  switch?: Switch;
  /** Or capture on a Tap with tcpdump in the lab's namespace (the seed's way; root). */
  tap?: Tap;
  /** Name of the capture (file names); default: the resource name. */
  name?: string;
  /** Where to write the pcap (kept after destroy); default `<lab dir>/cap/<name>.pcap` (removed with the lab). */
  file?: string;
}

/** A pcap file of a switch's traffic, written while the lab runs: `tcpdump -r <path>`. */
export class Capture extends UmlabResource {
  /** The pcap file. */
  declare readonly path: pulumi.Output<string>;
  declare readonly pid: pulumi.Output<number>;
  declare readonly mode: pulumi.Output<"plug" | "tap">;

  constructor(name: string, args: CaptureArgs, opts?: pulumi.CustomResourceOptions) {
    if (!!args.switch === !!args.tap)
      throw new Error(`umlab Capture "${name}": give exactly one of switch (a vde switch) or tap`);
    const inputs = {
      labDir: args.lab.dir,
      name: args.name ?? name,
      file: args.file,
      ...(args.switch
        ? {
            mode: "plug" as const,
            engine: args.switch.engine,
            control: args.switch.control,
            switchInstance: args.switch.instance,
          }
        : {
            mode: "tap" as const,
            namespace: args.tap!.namespace,
            device: args.tap!.device,
            tapInstance: args.tap!.instance,
          }),
    };
    preflight("Capture", name, captureSchema(), inputs);
    super(
      "captureProvider",
      name,
      { ...inputs, path: undefined, pid: undefined, instance: undefined, logPath: undefined },
      args.lab.resourceOptions(opts),
      "umlab",
      "Capture",
    );
  }
}
