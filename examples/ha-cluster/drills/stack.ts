// The drills' handle on the cluster's Pulumi stack: the `pulumi` CLI with the lab folder's
// environment (cli/toolchain.ts, as `umlab pulumi` runs it), its outputs, config and updates.
import * as path from "path";
import { run } from "../../../provider/host/process";
import { projectDir, toolchainBin, labEnv } from "../../../cli/toolchain";

/** What the program exports per guest (index.ts `guests`). */
export interface GuestRow {
  name: string;
  pid: number;
  instance?: string;
  mconsole: string;
  guestDir: string;
  bootId?: string;
}

export interface ClusterOutputs {
  guests: GuestRow[];
  serviceAddress: string;
  labDir: string;
  cableLog?: string;
  [key: string]: unknown;
}

/** The fault keys of the program's config (index.ts). */
export type FaultKey = "cut" | "publicDown" | "privateDown";

export class DrillStack {
  constructor(
    /** The program's folder (holds Pulumi.yaml). */
    readonly dir: string,
    /** The stack; undefined: the selected one. */
    readonly stack: string | undefined,
    /** The environment pulumi runs with (backend, passphrase, PATH). */
    readonly env: NodeJS.ProcessEnv,
    /** The pulumi binary. */
    readonly pulumi = "pulumi",
  ) {}

  /** The stack of the program in `dir` with the lab folder's environment (as `umlab pulumi`). */
  static async forFolder(dir: string, stack: string | undefined): Promise<DrillStack> {
    const project = projectDir(dir);
    if (!project)
      throw new Error(`drill: no Pulumi.yaml in ${dir} or above: give --dir <the ha-cluster folder>`);
    const bin = await toolchainBin(false);
    return new DrillStack(project, stack, labEnv(bin, project, process.env), path.join(bin, "pulumi"));
  }

  private async cli(args: string[], timeoutMs = 900_000, echo = false): Promise<string> {
    const stackArgs = this.stack ? ["--stack", this.stack] : [];
    const r = await run(this.pulumi, [...args, ...stackArgs, "--non-interactive"], {
      cwd: this.dir,
      env: this.env,
      timeoutMs,
      allowFailure: true,
      onOutput: echo ? (s) => process.stdout.write(s.replace(/^/gm, "    | ")) : undefined,
    });
    if (r.code !== 0)
      throw new Error(
        `pulumi ${args.join(" ")} failed (exit ${r.code}):\n${(r.stderr || r.stdout).trim().slice(-2000)}`,
      );
    return r.stdout;
  }

  async outputs(): Promise<ClusterOutputs> {
    const o = JSON.parse(await this.cli(["stack", "output", "--json", "--show-secrets"], 60_000));
    if (!Array.isArray(o.guests) || typeof o.labDir !== "string" || typeof o.serviceAddress !== "string")
      throw new Error(
        `drill: the stack has no guests/labDir/serviceAddress outputs: is it the ha-cluster program, and is it up? (pulumi up in ${this.dir})`,
      );
    return o as ClusterOutputs;
  }

  async config(key: string): Promise<string | undefined> {
    try {
      return (await this.cli(["config", "get", key], 60_000)).trim();
    } catch {
      return undefined;
    }
  }

  async setConfig(values: Record<string, string>): Promise<void> {
    for (const [k, v] of Object.entries(values)) await this.cli(["config", "set", k, v], 60_000);
  }

  /** `pulumi up` (with `--refresh` first: a node killed outside Pulumi is booted again). */
  async up(refresh = false, echo = false): Promise<void> {
    await this.cli(["up", "--yes", "--skip-preview", ...(refresh ? ["--refresh"] : [])], 900_000, echo);
  }
}
