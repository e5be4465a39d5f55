// The lab runtime directory's plan.
import { planLabRuntime } from "../../../provider/lab/runtime";

describe("lab runtime plan", () => {
  test("a new root or id is a new runtime directory", () => {
    expect(planLabRuntime({ root: "/a", labId: "x" }, { root: "/a", labId: "x" }).changes).toBe(false);
    expect(planLabRuntime({ root: "/a", labId: "x" }, { root: "/b", labId: "x" }).replaces).toEqual(["root"]);
  });
});
