// The labs a Pulumi stack's state records: the CLI finds guests through the stack that made
// them (its LabRuntime's `dir` output), not by guessing from the runtime root.
import * as path from "path";
import { run } from "../provider/host/process";
import { projectDir, toolchainBin, labEnv } from "./toolchain";

export interface StackLab {
  stack: string;
  /** The lab's runtime directory. */
  dir: string;
}

/** The LabRuntime directories in an exported deployment (`pulumi stack export`). */
export function labsInDeployment(exported: unknown, stack: string): StackLab[] {
  const resources = (exported as { deployment?: { resources?: unknown[] } })?.deployment?.resources ?? [];
  const out: StackLab[] = [];
  for (const r of resources as { type?: string; outputs?: { dir?: unknown } }[]) {
    if (!String(r.type ?? "").endsWith("umlab:LabRuntime")) continue;
    if (typeof r.outputs?.dir === "string") out.push({ stack, dir: r.outputs.dir });
  }
  return out;
}

/**
 * The exported deployment (`pulumi stack export`) of `stack` (default: the selected one) of the
 * project around `cwd`, with the stack's name; undefined when there is no project, no such
 * stack, or no pulumi CLI.
 */
export async function exportStack(
  cwd: string,
  stack: string | undefined,
): Promise<{ stack: string; exported: unknown } | undefined> {
  const project = projectDir(cwd);
  if (!project) return undefined;
  try {
    // This repo's scripts (env.sh) set the environment already; a lab folder gets its own.
    const bin = process.env.PULUMI_BACKEND_URL ? undefined : await toolchainBin(false);
    const env = bin ? labEnv(bin, project, process.env) : process.env;
    const cmd = bin ? path.join(bin, "pulumi") : "pulumi";
    const pulumi = (args: string[]) =>
      run(cmd, [...args, "--non-interactive"], { cwd: project, env, timeoutMs: 30_000, allowFailure: true });
    const name = stack ?? (await pulumi(["stack", "--show-name"])).stdout.trim();
    if (!name) return undefined;
    const r = await pulumi(["stack", "export", "--stack", name]);
    if (r.code !== 0) return undefined;
    return { stack: name, exported: JSON.parse(r.stdout) };
  } catch {
    return undefined;
  }
}

/** The labs in the state of `stack` (see exportStack); [] when there is none: the caller falls back. */
export async function stackLabs(cwd: string, stack: string | undefined): Promise<StackLab[]> {
  const e = await exportStack(cwd, stack);
  return e ? labsInDeployment(e.exported, e.stack) : [];
}
