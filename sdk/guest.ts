import * as pulumi from "@pulumi/pulumi";
import { UmlabResource, sameHostOrThrow } from "./resource";
import { guestSchema } from "../provider/core/schemas";
import type { Lab } from "./lab";
import { CowDisk } from "./cowdisk";
import { SharedDisk } from "./shareddisk";
/** What a NIC plugs into: a Switch, or anything shaped like one (an Impairment). */
export interface Pluggable {
  readonly engine: pulumi.Output<"uml_switch" | "vde">;
  readonly control: pulumi.Output<string>;
  readonly instance: pulumi.Output<string>;
  /** Known when the program runs; changes exactly when the thing is replaced (see NIC plans). */
  readonly generation: string;
}
import { preflight } from "./validate";

export interface NicArgs {
  /** The switch this NIC plugs into. Moving it to another switch is an in-place change. */
  switch: Pluggable;
  /** Default: a stable MAC derived from project, stack, guest name and NIC index. */
  mac?: string;
  /** Addresses with prefix, e.g. ["10.0.0.1/24"]. An interface with an address is brought up. */
  addresses?: pulumi.Input<string>[];
  /** Take the link down in the guest (`ip link set ethN down`), like pulling the cable; an in-place change, kept across reboots and re-plugs. */
  linkDown?: boolean;
  /**
   * Impair the link in the guest with netem (`tc qdisc replace dev ethN root netem ...`): loss
   * 0..100 %, delay and jitter 0..60000 ms, rate >= 1 kbit/s. An in-place change, kept across
   * reboots and re-plugs; absent or all zero = no qdisc. Needs iproute2's tc in the image
   * (Image preset "debian"); on busybox use an Impairment on a vde switch.
   */
  netem?: { lossPercent?: number; delayMs?: number; jitterMs?: number; rateKbit?: number };
}

/** A plain disk image (used as is), a COW disk over a backing image, or a SharedDisk. */
export type DiskArgs = CowDisk | SharedDisk | { path: pulumi.Input<string>; backing?: pulumi.Input<string> };

export interface RouteArgs {
  /** "default" or a prefix like "10.1.0.0/16". */
  dest: string;
  via: string;
}

export interface GuestArgs {
  lab: Lab;
  /** Name on the host (umid, guest folder); default: the resource name. */
  name?: string;
  /**
   * Root filesystem first (ubd0), then further disks (ubd1, ...). Changing the root disk, or
   * adding/removing a COW disk, reboots (replace); other disks after ubd0 are plugged and
   * unplugged in the running guest (mconsole config/remove: an update, same boot id).
   */
  disks: DiskArgs[];
  /** ethN is nics[N]. Adding, removing or moving NICs happens in the running guest. */
  nics?: NicArgs[];
  /**
   * Guest memory (`mem=`). Default: the root disk's image's `guestMemory` ("64M" for busybox,
   * "128M" for Debian: 64M starves FRR), else "64M" (32M panics this kernel). Changing it
   * reboots (replace).
   */
  memory?: string;
  /** Guest kernel, default /usr/bin/linux.uml. */
  kernel?: string;
  /** Default: the guest's name. */
  hostname?: string;
  routes?: RouteArgs[];
  /** e.g. { "net.ipv4.ip_forward": "1" } */
  sysctls?: Record<string, string>;
  /** Kernel modules to load at boot (the image must carry them). */
  modules?: string[];
  /** Guest path → content, copied onto the guest's / at boot. */
  files?: Record<string, string>;
  /** A `sh` script run after the network is configured; output in `state/startup.log`. */
  startup?: string;
  /**
   * Serial lines: serial[N] is `sslN=` (/dev/ttySN in the guest): "pts", "null",
   * "tty:/dev/..." (a host terminal under /dev/, no ".."), or a SerialCable end (`cable.endA` /
   * `cable.endB`). "port:N" (a TCP port open on the host) and "fd:N" (umlab's own fds) are refused.
   */
  serial?: pulumi.Input<string>[];
  /**
   * Extra kernel command-line words (e.g. "quiet", "softdog.soft_margin=10"). Words umlab sets
   * itself or that reach the host (ubdN, ethN, vecN, conN, sslN, mem, root, rw, hostfs, init,
   * initrd, umid, uml_dir, mconsole, umlab.*, xterm, tty*, iomem, ...) are refused, naming the
   * Guest field to use instead.
   */
  kernelArgs?: string[];
  /** How long `create` waits for `state/ready` (default 120 s). */
  readyTimeoutSeconds?: number;
  /** A fault: stop the guest's kernel (mconsole `stop`); `false` resumes it (`go`). In place. */
  paused?: boolean;
  /**
   * The dead-man switch: softdog with this timeout (default 10 s, 1..600), at
   * `/dev/umlab-watchdog` in the guest. Once a program opened it, it must write to it at least
   * every `timeoutSeconds` or the guest reboots (same host process, new boot id). Changing it reboots (replace).
   */
  watchdog?: { timeoutSeconds?: number; kind?: "softdog" };
}

/** A User Mode Linux guest of the lab. */
export class Guest extends UmlabResource {
  declare readonly name: pulumi.Output<string>;
  declare readonly pid: pulumi.Output<number>;
  /** `<pid>:<start time>` of the UML process (what `crash()` checks before it kills). */
  declare readonly instance: pulumi.Output<string>;
  declare readonly paused: pulumi.Output<boolean>;
  /** The guest kernel's boot id: unchanged by in-place updates. */
  declare readonly bootId: pulumi.Output<string>;
  /** `uml_mconsole <mconsole> <command>` (halt, proc <file>, config ethN=..., ...). */
  declare readonly mconsole: pulumi.Output<string>;
  declare readonly consoleLog: pulumi.Output<string>;
  /** The host side of the guest contract (config, files/, startup, state/). */
  declare readonly guestDir: pulumi.Output<string>;
  /** Its disks as booted: ubd0 first (`backing` set for a COW disk). A Snapshot reads them. */
  declare readonly disks: pulumi.Output<{ path: string; backing?: string }[]>;
  /** The host its lab runs on (undefined: this machine): where its Checks run (sdk/checks.ts). */
  readonly labHost?: Lab["host"];

  constructor(name: string, args: GuestArgs, opts?: pulumi.CustomResourceOptions) {
    const guestName = args.name ?? name;
    const inputs = {
      labDir: args.lab.dir,
      name: guestName,
      kernel: args.kernel ?? "/usr/bin/linux.uml",
      // Default: what the root disk's image needs (64M busybox, 128M Debian), else 64M.
      memory:
        args.memory ?? (args.disks[0] instanceof CowDisk ? args.disks[0].guestMemory : undefined) ?? "64M",
      disks: args.disks.map((d) =>
        d instanceof CowDisk
          ? { path: d.path, backing: d.backing }
          : d instanceof SharedDisk
            ? { path: d.path }
            : { path: d.path, backing: d.backing },
      ),
      nics: (args.nics ?? []).map((n, i) => ({
        engine: n.switch.engine,
        control: n.switch.control,
        // A new switch process (restart or replace) shows as an in-place re-plug of this NIC.
        switchInstance: n.switch.instance,
        switchGeneration: n.switch.generation,
        mac: n.mac ?? args.lab.mac(guestName, i),
        addresses: n.addresses ?? [],
        linkDown: n.linkDown ?? false,
        netem: n.netem,
      })),
      hostname: args.hostname,
      routes: args.routes ?? [],
      sysctls: args.sysctls ?? {},
      modules: args.modules ?? [],
      files: args.files ?? {},
      startup: args.startup,
      serial: args.serial ?? [],
      kernelArgs: args.kernelArgs ?? [],
      readyTimeoutSeconds: args.readyTimeoutSeconds ?? 120,
      paused: args.paused ?? false,
      watchdog: args.watchdog && { timeoutSeconds: 10, kind: "softdog", ...args.watchdog },
    };
    preflight("Guest", name, guestSchema(), inputs);
    (args.nics ?? []).forEach((n, i) =>
      sameHostOrThrow("Guest", name, args.lab, n.switch, `nics[${i}].switch`),
    );
    args.disks.forEach((d, i) => sameHostOrThrow("Guest", name, args.lab, d, `disks[${i}]`));
    const cowDisks = args.disks.filter(
      (d): d is CowDisk | SharedDisk => d instanceof CowDisk || d instanceof SharedDisk,
    );
    const o = args.lab.resourceOptions(opts);
    super(
      "guestProvider",
      name,
      {
        ...inputs,
        pid: undefined,
        instance: undefined,
        bootId: undefined,
        mconsole: undefined,
        consoleLog: undefined,
        guestDir: undefined,
      },
      { ...o, dependsOn: [...(o.dependsOn as pulumi.Resource[]), ...cowDisks] },
      "umlab",
      "Guest",
    );
    this.labHost = args.lab.host;
  }
}
