// Image `fromCow`: its check (the field named, absolute paths, one source only), a made
// image outliving its COW file, and a diff that replaces only when the args change.
import { imageProvider } from "../../../provider/image/provider";
import { UNKNOWN } from "../../../provider/core/unknown";

describe("Image fromCow", () => {
  const check = (news: Record<string, any>, olds: Record<string, any> = {}) =>
    imageProvider.check!(olds, news);

  test("bad fromCow args are named with the fix", async () => {
    const reasons = async (news: Record<string, any>) =>
      ((await check(news)).failures ?? []).map((f) => f.reason);
    expect(await reasons({ fromCow: { path: "disk/g1.cow" } })).toEqual([
      'fromCow[path]: must be an absolute path (got "disk/g1.cow")',
    ]);
    expect(await reasons({ fromCow: "/x.cow" })).toEqual([
      "fromCow: must be a CowDisk or { path, backing? } naming a COW file",
    ]);
    expect(await reasons({ fromCow: { path: "/x.cow", extra: 1 } })).toEqual([
      "fromCow: unknown field(s) extra",
      'fromCow.path: "/x.cow" is not a file (the guest\'s COW disk)',
    ]);
    expect(await reasons({ preset: "busybox", fromCow: { path: "/nonexistent/g1.cow" } })).toEqual([
      "fromCow: give only one of preset, dir, tarball, fromCow (got preset, fromCow)",
      'fromCow.path: "/nonexistent/g1.cow" is not a file (the guest\'s COW disk)',
    ]);
    expect(await reasons({ fromCow: { path: "/etc/hostname" }, sizeMb: 64 })).toEqual([
      "sizeMb: does not apply to fromCow (the merged image is the COW disk's content)",
    ]);
  });

  test("a COW path unknown in a preview is left unknown; a made image needs its COW no more", async () => {
    expect(await check({ fromCow: { path: UNKNOWN, backing: UNKNOWN } })).toEqual({
      inputs: { fromCow: { path: UNKNOWN, backing: UNKNOWN } },
    });
    const gone = { fromCow: { path: "/var/tmp/gone/disk/g1-root.cow" } };
    expect((await check(gone)).failures).toHaveLength(1); // first create: must exist
    expect(await check(gone, { ...gone, key: "k" })).toEqual({ inputs: gone });
  });

  test("the diff compares the args only: the same COW is no change, another is a replace", async () => {
    const olds = { fromCow: { path: "/l/disk/g1-root.cow" }, key: "abc", path: "/c/images/abc.img" };
    expect(await imageProvider.diff!("abc", olds, { fromCow: { path: "/l/disk/g1-root.cow" } })).toEqual({
      changes: false,
      replaces: [],
      deleteBeforeReplace: false,
    });
    const r = await imageProvider.diff!("abc", olds, { fromCow: { path: "/l/disk/g2-root.cow" } });
    expect(r).toMatchObject({ changes: true, replaces: ["fromCow"] });
  });
});
