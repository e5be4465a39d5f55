// The Image provider's check and diff: check validates without building or reading the
// UML kernel; the diff's replaces follow the policy; previews with unknown inputs replace.
import { imageProvider } from "../../../provider/image/provider";
import { UNKNOWN } from "../../../provider/core/unknown";

describe("Image provider", () => {
  const check = (news: Record<string, any>) => imageProvider.check!({}, news);

  test("check returns the args only (no outputs, no provider key, no cache key)", async () => {
    const r = await check({ preset: "debian", packages: ["frr"], __provider: "p", path: "/x.img" });
    expect(r).toEqual({ inputs: { preset: "debian", packages: ["frr"] } });
  });

  test("check names each bad field in its failures", async () => {
    const r = await check({ preset: "busybox", packages: ["frr"], tarball: "/nonexistent/root.tar" });
    expect(r.failures).toEqual([
      {
        property: "tarball",
        reason: "tarball: give only one of preset, dir, tarball, fromCow (got preset, tarball)",
      },
      { property: "packages", reason: 'packages: only applies to preset "debian"' },
      { property: "tarball", reason: 'tarball: "/nonexistent/root.tar" is not a file' },
    ]);
  });

  test("check leaves a value unknown during the preview unjudged and unknown", async () => {
    expect(await check({ dir: UNKNOWN })).toEqual({ inputs: { dir: UNKNOWN } });
  });

  test("a preview with an unknown input replaces, keeps the image until the new one exists", async () => {
    const olds = { preset: "debian", packages: ["frr"], key: "k1", path: "/c/images/k1.img" };
    const r = await imageProvider.diff!("k1", olds, { preset: "debian", packages: ["frr", UNKNOWN] });
    expect(r).toEqual({ changes: true, replaces: ["packages", "key"], deleteBeforeReplace: false });
  });
});
