// Disk hot-plug in the guest plan (guest/plan.ts planDisks): disks after the root one change
// in place (plug/unplug through mconsole), the root disk and COW disks replace.
import { planGuest, planDisks } from "../../../provider/guest/plan";
import { UNKNOWN } from "../../../provider/core/schemas";
import { base } from "./fixtures";

const root = base.disks[0];
const d = (path: string, backing?: string) => (backing ? { path, backing } : { path });

describe("disk hot-plug plan", () => {
  test("adding a disk to a running guest is an in-place update (plug ubd1)", () => {
    expect(planGuest(base, { ...base, disks: [root, d("/l/shared/data.img")] })).toEqual({
      changes: ["disks"],
      replaces: [],
      nicOps: [],
      diskOps: [{ kind: "plug", index: 1 }],
    });
  });

  test("removing one is an in-place unplug, from the end first", () => {
    const olds = { ...base, disks: [root, d("/a"), d("/b")] };
    expect(planGuest(olds, { ...base, disks: [root] })).toMatchObject({
      replaces: [],
      diskOps: [
        { kind: "unplug", index: 2 },
        { kind: "unplug", index: 1 },
      ],
    });
  });

  test("another file at ubd1 is unplugged and plugged again; others are left alone", () => {
    expect(planDisks([root, d("/a"), d("/b")], [root, d("/c"), d("/b")])).toEqual([
      { kind: "unplug", index: 1 },
      { kind: "plug", index: 1 },
    ]);
  });

  test("the root disk (ubd0) still replaces, also together with a plug", () => {
    const news = { ...base, disks: [d("/l/disk/other.cow", "/img/base.img"), d("/a")] };
    const plan = planGuest(base, news);
    expect(plan.replaces).toEqual(["disks"]);
    expect(plan.diskOps).toBeUndefined();
  });

  test("plugging or unplugging a COW disk (with a backing file) replaces", () => {
    expect(planGuest(base, { ...base, disks: [root, d("/l/x.cow", "/img/b.img")] }).replaces).toEqual([
      "disks",
    ]);
    expect(planGuest({ ...base, disks: [root, d("/l/x.cow", "/img/b.img")] }, base).replaces).toEqual([
      "disks",
    ]);
  });

  test("a preview with the new disk's path unknown still plans a plug (an update)", () => {
    const plan = planGuest(base, { ...base, disks: [root, { path: UNKNOWN as any }] });
    expect(plan).toMatchObject({ changes: ["disks"], replaces: [], diskOps: [{ kind: "plug", index: 1 }] });
  });

  test("an unchanged disk list plans nothing", () => {
    const g = { ...base, disks: [root, d("/a")] };
    expect(planGuest(g, { ...g, disks: [root, d("/a")] })).toEqual({ changes: [], replaces: [], nicOps: [] });
  });
});
