// Lab checks: declare what a working lab looks like; checked after the guests are up, each
// check retried until it passes or the deadline (provider/exec/checks.ts).
//
//   const converged = new umlab.Checks("converged", {
//     checks: [check.ping(r1, "192.168.100.3"), check.route(r1, "192.168.100.3/32", { proto: "ospf" })],
//     deadlineSeconds: 60,
//     failOnError: true,
//   });
//   export const checks = converged.summary;
import * as pulumi from "@pulumi/pulumi";
import { UmlabResource } from "./resource";
import type { CheckResult } from "../provider/exec/checks";
import { checksSchema } from "../provider/core/schemas";
import type { Guest } from "./guest";
import { preflight } from "./validate";

export type { CheckResult } from "../provider/exec/checks";

/** One check, as built by `check.ping`, `check.route` or `check.command`. */
export interface CheckArgs {
  guest: Guest;
  spec: Record<string, pulumi.Input<any>>;
}

export const check = {
  /** `guest` reaches `address` (one ping answered). */
  ping(guest: Guest, address: string, opts: { name?: string } = {}): CheckArgs {
    return { guest, spec: { kind: "ping", to: address, name: opts.name } };
  },
  /** `guest` has a route to exactly `dest` (optionally via a gateway, out of a device, from a protocol). */
  route(
    guest: Guest,
    dest: string,
    opts: { via?: string; dev?: string; proto?: string; name?: string } = {},
  ): CheckArgs {
    return { guest, spec: { kind: "route", dest, ...opts } };
  },
  /** `command` in `guest` prints something matching `expect` (and exits with `exitCode`, if given; 0 when no `expect`). */
  command(
    guest: Guest,
    command: string | string[],
    expect?: RegExp | string,
    opts: { exitCode?: number; name?: string } = {},
  ): CheckArgs {
    const re = typeof expect === "string" ? new RegExp(expect) : expect;
    return {
      guest,
      spec: { kind: "command", command, expect: re?.source, flags: re?.flags ?? "", ...opts },
    };
  },
};

export interface ChecksArgs {
  checks: CheckArgs[];
  /** Each check is retried until it passes or this many seconds after the start (default 60). */
  deadlineSeconds?: number;
  /** Pause between attempts (default 500 ms). */
  intervalMs?: number;
  /** Fail `pulumi up` when a check fails, naming it and showing what was seen (default false). */
  failOnError?: boolean;
  /** Any change checks again (the guests' reboots always do). */
  triggers?: pulumi.Input<any>[];
}

/**
 * Checks run in the running guests after they are up (and again on `pulumi refresh`, or when
 * a guest reboots or the checks change). Outputs per-check results and a summary.
 */
export class Checks extends UmlabResource {
  declare readonly results: pulumi.Output<CheckResult[]>;
  declare readonly passed: pulumi.Output<number>;
  declare readonly failed: pulumi.Output<number>;
  declare readonly ok: pulumi.Output<boolean>;
  /** One line per check: `ok   <name> (...)` or `FAIL <name>: ... saw: ...`. */
  declare readonly summary: pulumi.Output<string>;

  constructor(name: string, args: ChecksArgs, opts?: pulumi.CustomResourceOptions) {
    const guests = [...new Set(args.checks.map((c) => c.guest))];
    const inputs = {
      checks: args.checks.map((c) => {
        const spec: Record<string, pulumi.Input<any>> = { ...c.spec, guestDir: c.guest.guestDir };
        for (const k of Object.keys(spec)) if (spec[k] === undefined) delete spec[k];
        return spec;
      }),
      deadlineSeconds: args.deadlineSeconds ?? 60,
      intervalMs: args.intervalMs ?? 500,
      failOnError: args.failOnError ?? false,
      // A rebooted guest is checked again.
      triggers: [...(args.triggers ?? []), ...guests.map((g) => g.bootId)],
    };
    preflight("Checks", name, checksSchema(), inputs);
    const deps =
      opts?.dependsOn === undefined ? [] : Array.isArray(opts.dependsOn) ? opts.dependsOn : [opts.dependsOn];
    // Checks of guests that all run on one other host run there (they read the guests' folders);
    // guests on several machines: here, as before.
    const hosts = new Set(guests.map((g) => g.labHost?.name));
    const host = hosts.size === 1 ? guests[0]?.labHost : undefined;
    super(
      "checksProvider",
      name,
      {
        ...inputs,
        ...(host ? { host } : {}),
        results: undefined,
        passed: undefined,
        failed: undefined,
        ok: undefined,
        summary: undefined,
      },
      { ...opts, dependsOn: [...guests, ...(deps as pulumi.Input<pulumi.Resource>[])] },
      "umlab",
      "Checks",
    );
  }
}
