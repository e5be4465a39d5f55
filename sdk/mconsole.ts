// The management console of a running guest from tests and automation (outside a Pulumi
// program): sysrq, cad, reboot, halt, stop/go, proc, version, config (provider/guest/console-command.ts).
import { splitGuestDir } from "../provider/exec/agent";
import { guestConsole } from "../provider/guest/console-command";
import type { GuestRef } from "./exec";

export { ConsoleCommandError } from "../provider/guest/console-command";
export { MconsoleRefused, MCONSOLE_COMMANDS } from "../provider/host/mconsole";

/**
 * Run one console command (`"sysrq s"`, `["proc", "meminfo"]`, `"config ubd1=/path/disk.img"`)
 * on a running guest; resolves with UML's reply text. Rejects with MconsoleRefused for a
 * command that is not allowed (the message lists those that are), ConsoleCommandError when
 * the guest is not running or UML answers ERR.
 */
export function mconsole(guest: GuestRef, command: string | string[]): Promise<string> {
  const [labDir, name] = "guestDir" in guest ? splitGuestDir(guest.guestDir) : [guest.labDir, guest.name];
  return guestConsole(labDir, name, command);
}
