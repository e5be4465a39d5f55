// One management-console command against a running guest, for `umlab mconsole` and the SDK's
// mconsole(): only the commands of host/mconsole.ts MCONSOLE_COMMANDS, checked before anything
// runs; `config ubdN=<file>` plugs the file through the guest's hotplug dir (guest/hotplug.ts).
import * as fs from "fs";
import * as path from "path";
import * as naming from "../core/naming";
import { mconsoleCommand, mconsoleWords } from "../host/mconsole";
import { plugDisk } from "./hotplug";

export class ConsoleCommandError extends Error {}

/**
 * Run `command` (words, or one string) on guest `name` of the lab in `labDir` and give back
 * UML's reply. Rejects with a ConsoleCommandError when the command is not allowed, the guest
 * is not running, or UML answers ERR. A relative disk file is taken from `cwd`.
 */
export async function guestConsole(
  labDir: string,
  name: string,
  command: string | string[],
  cwd = process.cwd(),
): Promise<string> {
  const words = mconsoleWords(command);
  const socket = naming.guestPaths(labDir, name).mconsole;
  if (!fs.existsSync(socket))
    throw new ConsoleCommandError(
      `guest ${name} is not running (no console socket ${socket}): start it with pulumi up`,
    );
  const plug = words[0] === "config" ? /^ubd([0-9]{1,2})=(.+)$/.exec(words[1]) : null;
  if (plug) {
    try {
      await plugDisk({ labDir, name, mconsole: socket }, Number(plug[1]), path.resolve(cwd, plug[2]));
    } catch (e) {
      throw new ConsoleCommandError((e as Error).message);
    }
    return "";
  }
  const r = await mconsoleCommand(socket, words);
  if (!r.ok) throw new ConsoleCommandError(`guest ${name}: mconsole ${words.join(" ")} failed: ${r.text}`);
  return r.text;
}
