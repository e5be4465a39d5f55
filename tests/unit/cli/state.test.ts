// The CLI finds labs through the stack's state; its argument parser takes --stack.
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { labsInDeployment } from "../../../cli/state";
import { projectDir } from "../../../cli/toolchain";
import { parseArgs } from "../../../cli/args";
import { parseMergeArgs } from "../../../cli/merge";

describe("umlab CLI: labs from the stack state", () => {
  test("the LabRuntime dirs of an exported deployment, and nothing else", () => {
    const exported = {
      version: 3,
      deployment: {
        resources: [
          { type: "pulumi:pulumi:Stack", outputs: {} },
          { type: "pulumi-nodejs:dynamic/umlab:LabRuntime", outputs: { dir: "/var/tmp/umlab/q-dev-1a2b3c" } },
          { type: "pulumi-nodejs:dynamic/umlab:Switch", outputs: { labDir: "/elsewhere" } },
          { type: "pulumi-nodejs:dynamic/umlab:LabRuntime", outputs: {} },
        ],
      },
    };
    expect(labsInDeployment(exported, "dev")).toEqual([{ stack: "dev", dir: "/var/tmp/umlab/q-dev-1a2b3c" }]);
    expect(labsInDeployment({}, "dev")).toEqual([]);
    expect(labsInDeployment(null, "dev")).toEqual([]);
  });

  test("the project folder is the nearest one with a Pulumi.yaml", () => {
    const d = fs.mkdtempSync(path.join(os.tmpdir(), "umlab-cli-"));
    try {
      fs.mkdirSync(path.join(d, "a/b"), { recursive: true });
      fs.writeFileSync(path.join(d, "a/Pulumi.yaml"), "name: x\nruntime: nodejs\n");
      expect(projectDir(path.join(d, "a/b"))).toBe(path.join(d, "a"));
    } finally {
      fs.rmSync(d, { recursive: true, force: true });
    }
  });

  test("--stack and $UMLAB_STACK pick the stack", () => {
    expect(parseArgs(["exec", "--stack", "s1", "g1", "--", "true"]).stack).toBe("s1");
    expect(parseArgs(["ls", "--stack=s2"]).stack).toBe("s2");
    expect(parseArgs(["ls"], { UMLAB_STACK: "s3" }).stack).toBe("s3");
    expect(() => parseArgs(["ls", "--stack"])).toThrow("--stack needs a value");
  });
});

describe("umlab merge arguments", () => {
  test("a guest or a COW file, --into, --in-place, --backing, --stack/--lab", () => {
    expect(parseMergeArgs(["g1"])).toEqual({ target: "g1", inPlace: false });
    expect(
      parseMergeArgs(["--stack", "dev", "/l/disk/g1-root.cow", "--into", "/x.img", "--backing", "/b.img"]),
    ).toEqual({
      target: "/l/disk/g1-root.cow",
      into: "/x.img",
      backing: "/b.img",
      stack: "dev",
      inPlace: false,
    });
    expect(parseMergeArgs(["g1", "--in-place"], { UMLAB_LAB: "q-dev-1" })).toMatchObject({
      inPlace: true,
      lab: "q-dev-1",
    });
  });
  test("bad arguments are refused saying which", () => {
    expect(() => parseMergeArgs([])).toThrow("name the guest or the COW file");
    expect(() => parseMergeArgs(["g1", "--into"])).toThrow("--into needs a value");
    expect(() => parseMergeArgs(["g1", "--into", "/x", "--in-place"])).toThrow("drop --into");
    expect(() => parseMergeArgs(["g1", "g2"])).toThrow('unexpected argument "g2"');
    expect(() => parseMergeArgs(["g1", "--force"])).toThrow("unknown option --force");
  });
});
