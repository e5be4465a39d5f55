// umlab mconsole: one management-console command against a running guest (provider/guest/console-command.ts).
import { guestConsole, ConsoleCommandError } from "../provider/guest/console-command";
import { MconsoleRefused } from "../provider/host/mconsole";
import type { CliArgs } from "./args";
import { guestLab } from "./labs";

export async function cmdMconsole(a: CliArgs, root: string): Promise<number> {
  const { dir: labDir } = await guestLab(a.guest!, a, root);
  try {
    const text = await guestConsole(labDir, a.guest!, a.argv);
    if (text !== "") console.log(text);
    return 0;
  } catch (e) {
    if (e instanceof MconsoleRefused) {
      console.error(`umlab mconsole: ${e.message}`);
      return 2;
    }
    if (e instanceof ConsoleCommandError) {
      console.error(`umlab mconsole: ${e.message}`);
      return 1;
    }
    throw e;
  }
}
