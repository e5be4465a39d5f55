// The Pulumi CLI umlab builds (scripts/toolchain.sh) and the environment it runs with in a
// lab folder: state in <project>/.pulumi-state (never a cloud login), the toolchain's own
// plugin home, the documented dev passphrase unless one is set (an empty one is refused). Used by `umlab pulumi` and by
// the lab lookup from stack state.
import * as fs from "fs";
import * as path from "path";
import { run } from "../provider/host/process";
import { UsageError } from "./args";

/** The Pulumi project folder at or above `dir`, if any. */
export function projectDir(dir: string): string | undefined {
  for (let d = path.resolve(dir); ; d = path.dirname(d)) {
    if (fs.existsSync(path.join(d, "Pulumi.yaml"))) return d;
    if (path.dirname(d) === d) return undefined;
  }
}

/** The umlab package root (this file is dist/cli/pulumi.js). */
export const PACKAGE_ROOT = path.resolve(__dirname, "../..");

/** The toolchain's bin directory, building it first when `build` is set. */
export async function toolchainBin(build: boolean): Promise<string> {
  const script = path.join(PACKAGE_ROOT, "scripts/toolchain.sh");
  const r = await run("bash", [script, build ? "ensure" : "path"], {
    allowFailure: true,
    timeoutMs: 3_600_000,
    onOutput: build ? (s) => process.stderr.write(s) : undefined,
  });
  const bin = r.stdout.trim().split("\n").pop() ?? "";
  if (r.code !== 0 || !bin)
    throw new UsageError(
      r.code === 3
        ? "the Pulumi toolchain is not built yet: run `umlab setup` (once per user; a few minutes)"
        : `building the Pulumi toolchain failed:\n${r.stderr.trim()}`,
    );
  return bin;
}

/** The dev passphrase of local stacks (documented; for local development stacks only). */
export const DEV_PASSPHRASE = "umlab-dev";

/**
 * The passphrase settings: the user's PULUMI_CONFIG_PASSPHRASE, else none when they name a
 * PULUMI_CONFIG_PASSPHRASE_FILE, else the dev one. An explicitly empty passphrase is refused:
 * Pulumi takes "" as a real passphrase and would protect the stack's secrets with nothing.
 */
export function passphraseEnv(env: NodeJS.ProcessEnv): { PULUMI_CONFIG_PASSPHRASE?: string } {
  const p = env.PULUMI_CONFIG_PASSPHRASE;
  if (p === "")
    throw new UsageError(
      "PULUMI_CONFIG_PASSPHRASE is set but empty: Pulumi would protect the stack's secrets with no passphrase. " +
        `Unset it (to use the dev passphrase ${DEV_PASSPHRASE}) or set a real one.`,
    );
  if (p !== undefined) return { PULUMI_CONFIG_PASSPHRASE: p };
  return env.PULUMI_CONFIG_PASSPHRASE_FILE ? {} : { PULUMI_CONFIG_PASSPHRASE: DEV_PASSPHRASE };
}

/**
 * The file backend URL for state in `dir`. `metadata=skip`: gocloud's fileblob otherwise writes a
 * `<file>.attrs` sidecar beside each state file with a plain create-and-write (not a rename), so
 * a `pulumi` killed at that moment leaves it empty and every later command fails with "failed
 * to load checkpoint: EOF" (seen in the chaos test). Without sidecars each write is a rename.
 */
export function fileBackendUrl(dir: string): string {
  return `file://${dir}?metadata=skip`;
}

/** The directory of a `file://` backend URL (`~` expanded, query dropped); undefined for others. */
export function fileBackendDir(url: string, home = process.env.HOME ?? "~"): string | undefined {
  if (!url.startsWith("file://")) return undefined;
  return url
    .slice("file://".length)
    .split("?")[0]
    .replace(/^~(?=\/|$)/, home);
}

/** The environment `pulumi` runs with in a lab folder (what scripts/env.sh sets in this repo). */
export function labEnv(bin: string, project: string, env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  return {
    ...env,
    PATH: `${bin}:${env.PATH ?? ""}`,
    PULUMI_HOME: env.UMLAB_PULUMI_HOME || path.join(path.dirname(bin), "home"),
    PULUMI_BACKEND_URL: env.PULUMI_BACKEND_URL || fileBackendUrl(path.join(project, ".pulumi-state")),
    ...passphraseEnv(env),
    PULUMI_SKIP_UPDATE_CHECK: "true",
    PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION: "true",
  };
}
