// The foundation works end to end: the real Pulumi CLI built by our setup, our language
// host, and a dynamic resource from provider/ (a Lab and a uml_switch), driven through the
// Automation API with a local file backend.
import * as fs from "fs";
import * as path from "path";
import { REPO, testStack, TestStack } from "../helpers/stack";
import { processAlive } from "../../provider/host/process";

const workDir = path.join(REPO, "tests/fixtures/automation-lab");

describe("a program with dynamic resources under the real Pulumi engine", () => {
  let t: TestStack;
  afterAll(async () => {
    await t?.dispose();
  });

  test("preview, up, a no-op preview and destroy report the right steps and state", async () => {
    t = await testStack(workDir, "automation");
    const { stack } = t;

    const preview = await stack.preview();
    // Stack, the Lab component, its runtime directory and the switch.
    expect(preview.changeSummary).toEqual({ create: 4 });

    const up = await stack.up();
    expect(up.summary.result).toBe("succeeded");
    expect(up.summary.resourceChanges).toEqual({ create: 4 });
    const labDir = up.outputs.labDir.value as string;
    const control = up.outputs.control.value as string;
    const pid = up.outputs.pid.value as number;
    expect(fs.statSync(labDir).mode & 0o777).toBe(0o700);
    expect(fs.statSync(control).isSocket()).toBe(true);
    expect(processAlive(pid)).toBe(true);

    const state = await stack.exportStack();
    const types = (state.deployment.resources as { type: string }[]).map((r) => r.type).sort();
    expect(types).toEqual(
      [
        "pulumi:pulumi:Stack",
        "pulumi:providers:pulumi-nodejs",
        "pulumi-nodejs:dynamic/umlab:LabRuntime",
        "pulumi-nodejs:dynamic/umlab:Switch",
        "umlab:index:Lab",
      ].sort(),
    );

    const again = await stack.preview();
    expect(again.changeSummary).toEqual({ same: 4 });

    const destroy = await stack.destroy();
    expect(destroy.summary.result).toBe("succeeded");
    expect(destroy.summary.resourceChanges).toEqual({ delete: 4 });
    expect(processAlive(pid)).toBe(false);
    expect(fs.existsSync(labDir)).toBe(false);
  });
});
