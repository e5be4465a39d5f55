// The SDK's Image: outputs that survive construction, early errors naming the field.
import * as pulumi from "@pulumi/pulumi";

pulumi.runtime.setMocks(
  {
    newResource: (a) => ({ id: "k1", state: { ...a.inputs, path: "/c/images/k1.img", key: "k1" } }),
    call: (a) => a.inputs,
  },
  "project",
  "stack",
  false,
);

test("Image outputs survive construction (declare, not class fields: issue 9)", async () => {
  const { Image } = await import("../../../sdk/image");
  const img = new Image("tiny", { preset: "busybox" });
  expect(img.path).toBeDefined();
  const p = await new Promise((resolve) => img.path.apply(resolve));
  expect(p).toBe("/c/images/k1.img");
});

test("the constructor names the resource and each bad field; unknown values wait for check", async () => {
  const { Image } = await import("../../../sdk/image");
  expect(
    () => new Image("bad", { preset: "debian", packages: ["frr", "Bad Name"], modules: ["dummy"] }),
  ).toThrow(
    'umlab Image "bad": invalid arguments:\n' +
      "  - packages[1]: must be a Debian package name such as frr\n" +
      "  - modules: a Debian image carries every module already; remove it",
  );
  expect(() => new Image("later", { dir: pulumi.output("/nonexistent") })).not.toThrow();
});
