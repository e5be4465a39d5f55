// Class-mode tests run umlab as a teacher does: the built CLI (dist/cli/umlab.js), over a
// program folder, with the stacks in the test's own file backend.
import * as child_process from "child_process";
import * as fs from "fs";
import * as path from "path";
import { REPO } from "./stack";
import { fileBackendUrl } from "../../cli/toolchain";

/** Run `umlab <args>` (the built CLI); its stderr is shown as it comes. */
export function umlabCli(
  args: string[],
  timeoutMs = 3_600_000,
): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = child_process.execFile(
      "node",
      [path.join(REPO, "dist/cli/umlab.js"), ...args],
      { cwd: REPO, env: process.env, maxBuffer: 64 << 20, timeout: timeoutMs },
      (err, stdout, stderr) => resolve({ code: err ? Number(err.code ?? 1) : 0, stdout, stderr }),
    );
    child.stderr?.on("data", (d) => process.stderr.write(d));
  });
}

/**
 * Point this process (and so the CLI it runs) at a file backend in `scratch/state`, with the
 * sandbox's Pulumi home; returns the env the Automation API needs to read those stacks.
 */
export function classBackend(scratch: string): Record<string, string> {
  fs.mkdirSync(path.join(scratch, "state"));
  process.env.PULUMI_BACKEND_URL = fileBackendUrl(path.join(scratch, "state"));
  process.env.UMLAB_PULUMI_HOME = process.env.PULUMI_HOME;
  process.env.PULUMI_CONFIG_PASSPHRASE = "umlab-test";
  return {
    PULUMI_BACKEND_URL: process.env.PULUMI_BACKEND_URL,
    PULUMI_CONFIG_PASSPHRASE: "umlab-test",
    PULUMI_SKIP_UPDATE_CHECK: "true",
    PULUMI_HOME: process.env.PULUMI_HOME as string,
  };
}

/** After a class test: the class's own down if stacks are left, then their config files. */
export async function classLeftovers(program: string): Promise<void> {
  const left = () => fs.readdirSync(program).filter((f) => /^Pulumi\.student-.*\.yaml$/.test(f));
  if (left().length) await umlabCli(["class", "down", program]);
  for (const f of left()) fs.rmSync(path.join(program, f));
}
