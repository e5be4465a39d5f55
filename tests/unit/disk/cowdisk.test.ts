// The COW disk's plan (provider/disk/cowdisk.ts): every change is a new disk.
import { planCowDisk } from "../../../provider/disk/cowdisk";
import { CowDiskInputs } from "../../../provider/core/schemas";

describe("COW disk plan", () => {
  const base: CowDiskInputs = {
    labDir: "/l",
    name: "d",
    backing: "/img/a",
    create: "mkcow",
    backingVersion: "",
  };
  test("no change, no diff", () => {
    expect(planCowDisk(base, { ...base }).changes).toBe(false);
  });
  test.each([
    ["backing", { backing: "/img/b" }],
    ["backingVersion", { backingVersion: "sha-2" }],
    ["create", { create: "boot" as const }],
    ["name", { name: "e" }],
  ])("changing %s makes a new disk", (key, over) => {
    expect(planCowDisk(base, { ...base, ...over })).toEqual({
      changes: true,
      replaces: [key],
      deleteBeforeReplace: true,
    });
  });
});
