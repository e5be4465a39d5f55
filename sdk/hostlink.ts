import * as pulumi from "@pulumi/pulumi";
import { UmlabResource, sameHostOrThrow } from "./resource";
import type { Lab } from "./lab";
import type { Switch } from "./switch";
import { hostLinkSchema } from "../provider/net/hostlink";
import { tunnelEndSchema, tunnelVni } from "../provider/net/tunnel";
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
  /** Frames lost, percent, each direction (a wirefilter in the cable; changed in place). */
  lossPercent?: number;
  /** Added one-way delay, milliseconds, each direction. */
  delayMs?: number;
  /** Bandwidth limit, kbit/s, each direction (0: unlimited). */
  rateKbit?: number;
}

/**
 * A link between switches on two hosts: a VDE cable over SSH (`vde_plug A = ssh peer vde_plug B`,
 * run on switch A's host), so guests on both share one Ethernet. `lossPercent`, `delayMs`,
 * `rateKbit` impair it like an Impairment does a guest's link (a wirefilter on A's side).
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
      lossPercent: args.lossPercent ?? 0,
      delayMs: args.delayMs ?? 0,
      rateKbit: args.rateKbit ?? 0,
    };
    preflight("HostLink", name, hostLinkSchema(), inputs);
    sameHostOrThrow("HostLink", name, args.lab, args.a, "a (switch A)");
    super(
      "hostLinkProvider",
      name,
      {
        ...inputs,
        pid: undefined,
        instance: undefined,
        logPath: undefined,
        switchPid: undefined,
        switchInstance: undefined,
        filterPid: undefined,
        filterInstance: undefined,
      },
      args.lab.resourceOptions(opts),
      "umlab",
      "HostLink",
    );
  }
}

export interface VxlanLinkArgs {
  /** Switch A's lab (its host), and switch A there (engine "vde"). */
  lab: Lab;
  a: Switch;
  /** Switch B's lab part (`lab.on(hostB)`), and switch B there (engine "vde"). */
  labB: Lab;
  b: Switch;
  /** Each host's address on the network between the hosts (the tunnel's outer addresses). */
  addresses: { a: string; b: string };
  /** UDP port (default 4789, both ends). */
  port?: number;
  /** Name on the hosts (devices, log); default: the resource name. */
  name?: string;
  /** A fault: the vxlan devices are down (nothing crosses); `false` resumes. */
  suspended?: boolean;
}

/** One end of a VxlanLink (provider/net/tunnel.ts), made on its lab's host. */
export class TunnelEnd extends UmlabResource {
  declare readonly devices: pulumi.Output<{ vxlan: string; tap: string; bridge: string }>;
  declare readonly pid: pulumi.Output<number>;
  declare readonly vni: pulumi.Output<number>;
  declare readonly suspended: pulumi.Output<boolean>;

  constructor(name: string, inputs: pulumi.Inputs, lab: Lab, opts?: pulumi.CustomResourceOptions) {
    super(
      "tunnelEndProvider",
      name,
      { ...inputs, devices: undefined, pid: undefined, instance: undefined, logPath: undefined },
      lab.resourceOptions(opts),
      "umlab",
      "TunnelEnd",
    );
  }
}

/**
 * A link between switches on two hosts through the kernel: a VXLAN tunnel (VNI from the lab
 * and the link name) bridged to a tap on each side, MTU 1450 inside. Each end is made on its
 * own host; destroy removes the devices on both. Guests' frames above 1450 bytes are dropped:
 * set the guests' NIC MTU to 1450 (e.g. `ip link set eth0 mtu 1450`).
 */
export class VxlanLink {
  readonly ends: [TunnelEnd, TunnelEnd];

  constructor(name: string, args: VxlanLinkArgs, opts?: pulumi.CustomResourceOptions) {
    sameHostOrThrow("VxlanLink", name, args.lab, args.a, "a (switch A)");
    sameHostOrThrow("VxlanLink", name, args.labB, args.b, "b (switch B)");
    const linkName = args.name ?? name;
    const vni = tunnelVni(`${args.lab.labId}/${linkName}`);
    const end = (tag: "a" | "b", lab: Lab, sw: Switch, local: string, remote: string) => {
      const inputs = {
        labDir: lab.dir,
        name: linkName,
        control: sw.control,
        vni,
        local,
        remote,
        port: args.port ?? 4789,
        switchInstance: sw.instance,
        suspended: args.suspended ?? false,
      };
      preflight("VxlanLink", name, tunnelEndSchema(), inputs);
      return new TunnelEnd(`${name}-${tag}`, inputs, lab, opts);
    };
    this.ends = [
      end("a", args.lab, args.a, args.addresses.a, args.addresses.b),
      end("b", args.labB, args.b, args.addresses.b, args.addresses.a),
    ];
  }
}
