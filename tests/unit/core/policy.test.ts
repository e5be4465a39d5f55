// Every schema field has exactly one change policy, and diffs derive from it.
import * as s from "../../../provider/core/schemas";
import { planFromPolicy, generation, same, fieldsWith } from "../../../provider/core/diff";
import type { ChangePolicy } from "../../../provider/core/policy";
import { UNKNOWN } from "../../../provider/core/unknown";

/** Each component: its schema and its policy table. Add new components here. */
export const COMPONENTS: [string, () => { shape: Record<string, unknown> }, ChangePolicy<any>][] = [
  ["LabRuntime", s.labRuntimeSchema, s.labRuntimePolicy],
  ["Switch", s.switchSchema, s.switchPolicy],
  ["CowDisk", s.cowDiskSchema, s.cowDiskPolicy],
  ["Guest", s.guestSchema, s.guestPolicy],
  ["Guest NIC", s.nicSchema, s.nicPolicy],
  ["Exec", s.execSchema, s.execPolicy],
  ["Checks", s.checksSchema, s.checksPolicy],
  ["Tap", s.tapSchema, s.tapPolicy],
  ["Capture", s.captureSchema, s.capturePolicy],
  ["SerialCable", s.serialCableSchema, s.serialCablePolicy],
  ["Impairment", s.impairmentSchema, s.impairmentPolicy],
  ["Snapshot", s.snapshotSchema, s.snapshotPolicy],
  ["SharedDisk", s.sharedDiskSchema, s.sharedDiskPolicy],
  // Its plan compares the args and the cache key it derives from them on the host.
  ["Image", s.imagePlanSchema, s.imagePolicy],
];

describe("change policy", () => {
  test.each(COMPONENTS)(
    "%s: every schema field has a policy and every policy a field",
    (_k, schema, policy) => {
      expect(Object.keys(policy).sort()).toEqual(Object.keys(schema().shape).sort());
      for (const f of Object.values(policy)) expect(f.why.length).toBeGreaterThan(3);
    },
  );

  test("a changed replace field replaces, an in-place one only changes", () => {
    const a = { labDir: "/l", name: "sw", engine: "vde", hub: false, suspended: false };
    expect(planFromPolicy(s.switchPolicy, a, { ...a, hub: true })).toEqual({
      changes: ["hub"],
      replaces: ["hub"],
    });
    expect(planFromPolicy(s.switchPolicy, a, { ...a, suspended: true })).toEqual({
      changes: ["suspended"],
      replaces: [],
    });
    expect(planFromPolicy(s.switchPolicy, a, { ...a })).toEqual({ changes: [], replaces: [] });
  });

  test("absent booleans equal false; key order does not matter; unknown follows the field", () => {
    expect(same(undefined, false)).toBe(true);
    expect(same({ a: 1, b: 2 }, { b: 2, a: 1 })).toBe(true);
    expect(same("x", UNKNOWN)).toBe(false);
    expect(same("x", UNKNOWN, "same")).toBe(true);
    expect(same(["x"], [UNKNOWN], "same")).toBe(true);
    expect(same(["x", "y"], [UNKNOWN, "z"], "same")).toBe(false);
    expect(same(["x"], { 0: "x" })).toBe(false);
    expect(same(["x"], { 0: UNKNOWN }, "same")).toBe(false);
  });

  test("the SDK's generation changes exactly with the replace fields", () => {
    const a = { labDir: "/l", name: "sw", engine: "vde", hub: false, suspended: false };
    const g = generation("switch", s.switchPolicy, a);
    expect(generation("switch", s.switchPolicy, { ...a, suspended: true })).toBe(g);
    expect(generation("switch", s.switchPolicy, { ...a, labDir: "/other" })).toBe(g);
    for (const k of fieldsWith(s.switchPolicy, "replace").filter((k) => k !== "labDir"))
      expect(generation("switch", s.switchPolicy, { ...a, [k]: k === "hub" ? true : "other" })).not.toBe(g);
  });
});
