// @pulumi/command's local.Command runs under `pulumi up` with no internet: the `command`
// plugin comes from the project's own toolchain, not from a download.
import * as fs from "fs";
import * as path from "path";
import { REPO, testStack, TestStack } from "../helpers/stack";

const workDir = path.join(REPO, "tests/fixtures/command");

describe("@pulumi/command offline", () => {
  let t: TestStack;
  afterAll(async () => {
    await t?.dispose();
  });

  test("local.Command runs its create, update and delete commands", async () => {
    t = await testStack(workDir, "command");
    const marker = path.join(t.scratch, "marker");
    await t.stack.setConfig("marker", { value: marker });

    const up = await t.stack.up();
    expect(up.summary.result).toBe("succeeded");
    expect(up.outputs.stdout.value).toBe("created\nLinux");
    expect(fs.readFileSync(marker, "utf8")).toBe("hello\n");

    // A changed environment is an update; with no `update` command the create command runs again.
    await t.stack.setConfig("greeting", { value: "bonjour" });
    const preview = await t.stack.preview();
    expect(preview.changeSummary).toEqual({ same: 1, update: 1 });
    await t.stack.up();
    expect(fs.readFileSync(marker, "utf8")).toBe("bonjour\n");

    await t.stack.destroy();
    expect(fs.existsSync(marker)).toBe(false);
  });
});
