// The Tap's plan and check: what re-makes the device, what changes in place.
import { planTap, checkTap } from "../../../provider/net/tap";
import * as naming from "../../../provider/core/naming";
import { UNKNOWN } from "../../../provider/core/unknown";

describe("tap", () => {
  const tap = {
    labDir: "/var/tmp/umlab/quick-dev-abc123",
    name: "tap0",
    engine: "vde" as const,
    control: "/l/sw/sw0",
    switchInstance: "1:2",
    addresses: ["10.0.0.254/24"],
  };
  test("the lab's namespace is named after its id", () => {
    expect(naming.namespaceOf(tap.labDir)).toBe("umlab-quick-dev-abc123");
  });
  test("new addresses are in place; a new switch instance re-makes the tap", () => {
    expect(planTap(tap, { ...tap, addresses: [] })).toMatchObject({ changes: true, replaces: [] });
    expect(planTap(tap, { ...tap, switchInstance: "9:9" }).replaces).toEqual(["switchInstance"]);
  });
  test("an unknown switch output (a preview of the switch's update) counts as unchanged", () => {
    const preview = { ...tap, engine: UNKNOWN, control: UNKNOWN, switchInstance: UNKNOWN } as any;
    expect(planTap(tap, preview)).toEqual({ changes: false, replaces: [], deleteBeforeReplace: true });
    expect(planTap(tap, { ...preview, control: "/l/sw/sw1" }).replaces).toEqual(["control"]);
  });
  test("a tap on a uml_switch and a too long device name are refused", () => {
    expect(checkTap({ ...tap, engine: "uml_switch" }).failures?.[0].reason).toMatch(/vde/);
    expect(checkTap({ ...tap, name: "a-very-long-tap-name" }).failures?.[0].property).toBe("name");
  });
});
