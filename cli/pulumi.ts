// umlab pulumi <args>: the Pulumi CLI umlab builds, with a lab folder's local environment
// (toolchain.ts) and a stack selected (created as $UMLAB_STACK or "dev" when none is).
// umlab setup: build that toolchain.
import * as fs from "fs";
import * as path from "path";
import { run, runAttached } from "../provider/host/process";
import { UsageError } from "./args";
import { projectDir, toolchainBin, labEnv, fileBackendDir } from "./toolchain";

export async function cmdSetup(): Promise<number> {
  const bin = await toolchainBin(true);
  console.log(`umlab: the Pulumi toolchain is ready in ${bin}`);
  return 0;
}

/** The local state folder: made 0700, or made 0700 when it exists (an older one was 0755). */
export function privateStateDir(dir: string): void {
  fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
  const st = fs.lstatSync(dir);
  if (!st.isDirectory())
    throw new UsageError(`the Pulumi state folder ${dir} is not a directory: move it away and run again`);
  if ((st.mode & 0o077) !== 0) fs.chmodSync(dir, 0o700);
}

export async function cmdPulumi(args: string[]): Promise<number> {
  const project = projectDir(process.cwd());
  if (!project)
    throw new UsageError("pulumi: no Pulumi.yaml here or above: run it in a lab folder (`umlab new <dir>`)");
  const bin = await toolchainBin(false);
  const env = labEnv(bin, project, process.env);
  const backend = env.PULUMI_BACKEND_URL ?? "";
  // State files (and whatever the lab writes) readable by this user only: Pulumi's file backend
  // writes with the process umask, which the children inherit.
  process.umask(0o077);
  const stateDir = fileBackendDir(backend);
  if (stateDir) privateStateDir(stateDir);
  const pulumi = path.join(bin, "pulumi");
  const selected = await run(pulumi, ["stack", "--show-name", "--non-interactive"], {
    cwd: project,
    env,
    allowFailure: true,
  });
  if (selected.code !== 0) {
    const stack = env.UMLAB_STACK || "dev";
    await run(pulumi, ["stack", "select", "--create", stack, "--non-interactive"], { cwd: project, env });
    console.error(`umlab: using stack "${stack}" (state in ${backend})`);
  }
  return runAttached(pulumi, args, { cwd: project, env });
}
