// umlab exec: run a command in a running guest, passing its output and exit code through.
import { execInGuest, ExecError } from "../provider/exec/agent";
import type { CliArgs } from "./args";
import { guestLab } from "./labs";

export async function cmdExec(a: CliArgs, root: string): Promise<number> {
  const { dir: labDir } = await guestLab(a.guest!, a, root);
  try {
    const r = await execInGuest(labDir, a.guest!, a.argv, {
      timeoutMs: (a.timeoutSeconds ?? 3600) * 1000,
    });
    process.stdout.write(r.stdout);
    process.stderr.write(r.stderr);
    return r.exitCode;
  } catch (e) {
    if (e instanceof ExecError) {
      process.stdout.write(e.stdout);
      process.stderr.write(e.stderr);
      console.error(`umlab: ${e.message}`);
      return e.reason === "timeout" ? 124 : 1;
    }
    throw e;
  }
}
