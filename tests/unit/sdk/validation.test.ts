import * as pulumi from "@pulumi/pulumi";
import { preflight } from "../../../sdk/validate";
import { schemas } from "../../../provider/core/schemas";

describe("SDK constructors validate early and name the field", () => {
  const g = { labDir: "/l", name: "g1", disks: [{ path: "/l/disk/g1.cow" }] };

  test("a good guest passes", () => {
    expect(() => preflight("Guest", "g1", schemas().guest, g)).not.toThrow();
  });

  test("a bad MAC throws naming the resource, the property and the fix", () => {
    const nics = [{ engine: "vde", control: "/l/sw/a", switchInstance: "1:1", mac: "zz", addresses: [] }];
    expect(() => preflight("Guest", "g1", schemas().guest, { ...g, nics })).toThrow(
      /umlab Guest "g1": nics\[0\]\.mac: use six lower-case hex pairs/,
    );
  });

  test("too little memory throws naming memory", () => {
    expect(() => preflight("Guest", "g1", schemas().guest, { ...g, memory: "32M" })).toThrow(
      /memory: use at least 48M/,
    );
  });

  test("values not known yet (Outputs) are left to check", () => {
    const labDir = pulumi.output("/l");
    const nics = [
      {
        engine: pulumi.output("vde"),
        control: pulumi.output("/x"),
        switchInstance: pulumi.output("1"),
        mac: "02:00:00:00:00:01",
      },
    ];
    expect(() => preflight("Guest", "g1", schemas().guest, { ...g, labDir, nics })).not.toThrow();
  });

  test("a bad switch engine names engine", () => {
    expect(() =>
      preflight("Switch", "sw", schemas().switch, { labDir: "/l", name: "sw", engine: "ovs" }),
    ).toThrow(/engine: use "uml_switch" or "vde"/);
  });
});
