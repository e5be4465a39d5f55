// `umlab snapshot <stack> <name>`: what it snapshots is read from the stack's exported state.
import { snapshotSpecFromDeployment, parseSnapshotArgs } from "../../../cli/snapshot";
import { planFromPolicy } from "../../../provider/core/diff";
import { snapshotPolicy, cowDiskPolicy } from "../../../provider/core/schemas";

const T = "pulumi-nodejs:dynamic/umlab:";
const deployment = (extra: object[] = []) => ({
  deployment: {
    resources: [
      {
        type: "pulumi:pulumi:Stack",
        urn: "urn:pulumi:dev::myproj::pulumi:pulumi:Stack::myproj-dev",
        outputs: { x: 1 },
      },
      { type: `${T}LabRuntime`, outputs: { dir: "/r/lab1", root: "/r" } },
      {
        type: `${T}Guest`,
        outputs: {
          name: "g1",
          labDir: "/r/lab1",
          disks: [{ path: "/r/lab1/disk/g1.cow", backing: "/c/i.img" }],
        },
      },
      { type: `${T}Guest`, outputs: { name: "g9", labDir: "/r/other", disks: [] } },
      ...extra,
    ],
  },
});

describe("umlab snapshot", () => {
  test("the guests of the stack's lab, its outputs, the default directory", () => {
    expect(snapshotSpecFromDeployment(deployment(), "dev", "base")).toEqual({
      labDir: "/r/lab1",
      dir: "/r/snapshots/myproj.dev.base",
      name: "base",
      project: "myproj",
      stack: "dev",
      outputs: { x: 1 },
      guests: [{ name: "g1", paused: false, disks: [{ path: "/r/lab1/disk/g1.cow", backing: "/c/i.img" }] }],
    });
    expect(snapshotSpecFromDeployment(deployment(), "dev", "base", "/tmp/s1").dir).toBe("/tmp/s1");
  });

  test("no lab, several labs, a plain disk: refused with what to do", () => {
    expect(() => snapshotSpecFromDeployment({}, "dev", "b")).toThrow(
      /stack "dev" has no lab in its state: is it up\?/,
    );
    expect(() =>
      snapshotSpecFromDeployment(
        deployment([{ type: `${T}LabRuntime`, outputs: { dir: "/r/lab2" } }]),
        "dev",
        "b",
      ),
    ).toThrow(/has 2 labs/);
    const plain = deployment([
      { type: `${T}Guest`, outputs: { name: "g2", labDir: "/r/lab1", disks: [{ path: "/data.img" }] } },
    ]);
    expect(() => snapshotSpecFromDeployment(plain, "dev", "b")).toThrow(
      /guest "g2" disk 0 \(\/data\.img\) is a plain disk/,
    );
  });

  test("arguments", () => {
    expect(parseSnapshotArgs(["dev", "base"])).toEqual({ stack: "dev", name: "base", dir: undefined });
    expect(parseSnapshotArgs(["--dir", "/s", "dev", "base"]).dir).toBe("/s");
    expect(() => parseSnapshotArgs(["dev"])).toThrow(/give the stack and the snapshot's name/);
    expect(() => parseSnapshotArgs(["dev", "../x"])).toThrow(/"..\/x" is not a snapshot name/);
    expect(() => parseSnapshotArgs(["--force", "dev", "b"])).toThrow(/unknown option --force/);
  });

  test("a Snapshot is taken once: lab changes are not retaken; a new name or dir is a new one", () => {
    const a = { labDir: "/l", name: "s", dir: "/d", project: "p", stack: "s", outputs: {}, guests: [] };
    expect(planFromPolicy(snapshotPolicy, a, { ...a, guests: [{ name: "g1", disks: [] }] as never })).toEqual(
      {
        changes: [],
        replaces: [],
      },
    );
    expect(planFromPolicy(snapshotPolicy, a, { ...a, dir: "/e" }).replaces).toEqual(["dir"]);
    // Restoring a disk from a snapshot replaces that disk.
    const d = { labDir: "/l", name: "g1-root", backing: "/i", create: "mkcow" as const, backingVersion: "" };
    expect(
      planFromPolicy(cowDiskPolicy, d, { ...d, fromSnapshot: { dir: "/d", guest: "g1", index: 0 } }).replaces,
    ).toEqual(["fromSnapshot"]);
  });
});
