// Helpers for integration tests that drive the real Pulumi CLI through the Automation API,
// each test with its own throwaway backend and state directory.
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { LocalWorkspace, PulumiCommand, Stack } from "@pulumi/pulumi/automation";
import { fileBackendUrl } from "../../cli/toolchain";

export const REPO = path.resolve(__dirname, "../..");

export interface TestStack {
  stack: Stack;
  /** Backend + scratch directory of this test, removed by dispose(). */
  scratch: string;
  /** Environment the CLI runs with (file backend in scratch). */
  env: Record<string, string>;
  dispose(): Promise<void>;
}

/**
 * A fresh stack of the program in `workDir` with a file backend in a temp directory.
 * dispose() destroys whatever is left and removes the stack and the temp directory.
 */
export async function testStack(
  workDir: string,
  stackName = "test",
  config: Record<string, string> = {},
  /** Another pulumi to run (e.g. a wrapper that runs it inside a network namespace). */
  opts: { pulumiCommand?: PulumiCommand } = {},
) {
  const scratch = fs.mkdtempSync(path.join(os.tmpdir(), "umlab-test-"));
  fs.mkdirSync(path.join(scratch, "state"));
  const env: Record<string, string> = {
    PULUMI_BACKEND_URL: fileBackendUrl(path.join(scratch, "state")),
    PULUMI_CONFIG_PASSPHRASE: "umlab-test",
    PULUMI_SKIP_UPDATE_CHECK: "true",
    PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION: "true",
  };
  const stack = await LocalWorkspace.createOrSelectStack({ stackName, workDir }, { envVars: env, ...opts });
  for (const [k, v] of Object.entries(config)) await stack.setConfig(k, { value: v });
  const t: TestStack = {
    stack,
    scratch,
    env,
    async dispose() {
      try {
        await stack.destroy({ continueOnError: true });
      } finally {
        try {
          await stack.workspace.removeStack(stackName, { force: true });
        } catch {
          /* the stack may already be gone */
        }
        // A workspace writes Pulumi.<stack>.yaml beside the program: remove it too.
        fs.rmSync(path.join(workDir, `Pulumi.${stackName}.yaml`), { force: true });
        fs.rmSync(scratch, { recursive: true, force: true });
      }
    },
  };
  return t;
}
