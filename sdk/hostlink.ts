import * as pulumi from "@pulumi/pulumi";
import { UmlabResource, sameHostOrThrow } from "./resource";
import type { Lab } from "./lab";
import type { Switch } from "./switch";
import { hostLinkSchema } from "../provider/net/hostlink";
import { parseHost, type HostInput } from "../provider/host/remote-argv";
import { preflight } from "./validate";

export interface HostLinkArgs {
  /** Switch A's lab: the link runs on its host (`lab.on(host)` for a part elsewhere). */
  lab: Lab;
  /** A switch of `lab`, engine "vde". */
  a: Switch;
  /** A switch on another host, engine "vde". */
  b: Switch;
  /** Switch B's host as switch A's host reaches it (address, key, known_hosts there). */
  peer: HostInput;
  /** Name on the host (log and process marker); default: the resource name. */
  name?: string;
  /** A fault: stop the link's processes (SIGSTOP) so it carries nothing; `false` resumes. */
  suspended?: boolean;
}

/**
 * A link between switches on two hosts: a VDE cable over SSH (`vde_plug A = ssh peer vde_plug B`,
 * run on switch A's host), so guests on both share one Ethernet.
 */
export class HostLink extends UmlabResource {
  declare readonly pid: pulumi.Output<number>;
  declare readonly instance: pulumi.Output<string>;
  declare readonly logPath: pulumi.Output<string>;
  declare readonly suspended: pulumi.Output<boolean>;

  constructor(name: string, args: HostLinkArgs, opts?: pulumi.CustomResourceOptions) {
    const inputs = {
      labDir: args.lab.dir,
      name: args.name ?? name,
      a: args.a.control,
      b: args.b.control,
      peer: parseHost(args.peer),
      aInstance: args.a.instance,
      bInstance: args.b.instance,
      suspended: args.suspended ?? false,
    };
    preflight("HostLink", name, hostLinkSchema(), inputs);
    sameHostOrThrow("HostLink", name, args.lab, args.a, "a (switch A)");
    super(
      "hostLinkProvider",
      name,
      { ...inputs, pid: undefined, instance: undefined, logPath: undefined },
      args.lab.resourceOptions(opts),
      "umlab",
      "HostLink",
    );
  }
}
