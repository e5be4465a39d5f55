// SharedDisk's pure parts: where its file lives and which files count as shared (the only
// disks several running guests may have attached), its schema's refusals, and that any change
// replaces while no guest has the file.
import { isSharedDisk, sharedDiskPath } from "../../../provider/disk/shared-path";
import { sharedDiskSchema } from "../../../provider/core/schemas";
import { planSharedDisk } from "../../../provider/disk/shareddisk";

describe("SharedDisk", () => {
  test("its file is <lab>/shared/<name>.img, and only such a file is shared", () => {
    expect(sharedDiskPath("/l", "data")).toBe("/l/shared/data.img");
    expect(isSharedDisk("/l", "/l/shared/data.img")).toBe(true);
    expect(isSharedDisk("/l", "/m/shared/data.img")).toBe(false); // another lab's
    expect(isSharedDisk("/l", "/l/shared/x/data.img")).toBe(false);
    expect(isSharedDisk("/l", "/l/disk/g1.cow")).toBe(false);
    expect(isSharedDisk("/l", "/l/sharedX/data.img")).toBe(false);
  });

  test.each([
    [{ sizeMiB: 0 }, /sizeMiB: use a whole number of MiB, 1..65536/],
    [{ sizeMiB: 1.5 }, /sizeMiB: use a whole number of MiB/],
    [{ sizeMiB: 70000 }, /sizeMiB: use a whole number of MiB/],
    [{ sizeMiB: 8, filesystem: "xfs" }, /filesystem: use "ext2", "ext3", "ext4" or "none"/],
  ])("refuses %j naming the field and the fix", (over, why) => {
    const r = sharedDiskSchema().safeParse({ labDir: "/l", name: "data", ...over });
    expect(r.success).toBe(false);
    const text = r.error!.issues.map((i) => `${i.path.join(".")}: ${i.message}`).join("\n");
    expect(text).toMatch(why);
  });

  test("a change of size or filesystem replaces (no guest has the file here)", () => {
    const olds = {
      labDir: "/l",
      name: "data",
      sizeMiB: 8,
      filesystem: "ext4" as const,
      path: "/nonexistent/x.img",
    };
    expect(planSharedDisk(olds, { ...olds, sizeMiB: 16 }).replaces).toEqual(["sizeMiB"]);
    expect(planSharedDisk(olds, { ...olds, filesystem: "ext2" }).replaces).toEqual(["filesystem"]);
    expect(planSharedDisk(olds, { ...olds }).changes).toEqual([]);
  });
});
