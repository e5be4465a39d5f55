// Run commands in running guests: `exec()` for tests and automation (a Promise, outside a
// Pulumi program), `Exec` for programs (a resource: runs on create, again when its triggers
// change or the guest reboots). Both go through the guest's exec agent (provider/exec/).
import * as pulumi from "@pulumi/pulumi";
import { UmlabResource } from "./resource";
import { execInGuest, splitGuestDir, ExecOptions, ExecResult } from "../provider/exec/agent";
import { execSchema } from "../provider/core/schemas";
import type { Guest } from "./guest";
import { preflight } from "./validate";

export { ExecError, ExecOptions, ExecResult } from "../provider/exec/agent";

/** A running guest as its outputs name it: `{ labDir, name }`, or its `guestDir`. */
export type GuestRef = { labDir: string; name: string } | { guestDir: string };

/**
 * Run `command` in a running guest and wait for it. A string is a `sh` script; an array is an
 * argv (each word passed as is, no shell). Resolves with stdout, stderr and the exit code
 * (non-zero is not an error); rejects with an ExecError when the guest is missing or down,
 * or the command outlives `timeoutMs` (default 60 s; it is then killed in the guest).
 */
export function exec(
  guest: GuestRef,
  command: string | string[],
  opts: ExecOptions = {},
): Promise<ExecResult> {
  const [labDir, name] = "guestDir" in guest ? splitGuestDir(guest.guestDir) : [guest.labDir, guest.name];
  return execInGuest(labDir, name, command, opts);
}

export interface ExecArgs {
  /** The guest to run in; the command runs after it is up. */
  guest: Guest;
  /** A `sh` script (string) or an argv (array, no shell). */
  command: pulumi.Input<string | pulumi.Input<string>[]>;
  /** Text given to the command's stdin. */
  stdin?: pulumi.Input<string>;
  /** Any change of these values runs the command again (like @pulumi/command's triggers). */
  triggers?: pulumi.Input<any>[];
  /** Kill the command after this long (default 60). */
  timeoutSeconds?: number;
  /** A non-zero exit fails the update (default true); false records it in `exitCode`. */
  failOnError?: boolean;
}

/**
 * A command run in a guest when created, and again (a replace) when the command, stdin,
 * triggers or the guest's boot change. Outputs stdout, stderr, exitCode.
 */
export class Exec extends UmlabResource {
  declare readonly stdout: pulumi.Output<string>;
  declare readonly stderr: pulumi.Output<string>;
  declare readonly exitCode: pulumi.Output<number>;

  constructor(name: string, args: ExecArgs, opts?: pulumi.CustomResourceOptions) {
    const inputs = {
      guestDir: args.guest.guestDir,
      command: args.command,
      stdin: args.stdin,
      triggers: args.triggers ?? [],
      // A rebooted guest (new boot id) runs the command again.
      bootId: args.guest.bootId,
      timeoutSeconds: args.timeoutSeconds ?? 60,
      failOnError: args.failOnError ?? true,
    };
    preflight("Exec", name, execSchema(), inputs);
    const deps =
      opts?.dependsOn === undefined ? [] : Array.isArray(opts.dependsOn) ? opts.dependsOn : [opts.dependsOn];
    super(
      "execProvider",
      name,
      {
        ...inputs,
        // A guest on another host: the command runs there (the remote layer, like its guest).
        ...(args.guest.umlabPlacedOn ? { host: args.guest.umlabPlacedOn } : {}),
        stdout: undefined,
        stderr: undefined,
        exitCode: undefined,
      },
      { ...opts, dependsOn: [args.guest, ...(deps as pulumi.Input<pulumi.Resource>[])] },
      "umlab",
      "Exec",
    );
  }
}
