// The Impairment's plan, check and wirefilter argv.
import { planImpairment, filterArgs, checkImpairment } from "../../../provider/net/impairment";
import * as naming from "../../../provider/core/naming";
import { UNKNOWN } from "../../../provider/core/unknown";

describe("impairment", () => {
  const imp = {
    labDir: "/l",
    name: "lossy",
    upstreamEngine: "vde" as const,
    upstream: "/l/sw/sw0",
    upstreamInstance: "1:2",
    lossPercent: 0,
    delayMs: 0,
    rateKbit: 0,
  };
  test("impairment settings and a new upstream switch change in place", () => {
    for (const over of [{ lossPercent: 20 }, { delayMs: 5 }, { rateKbit: 64 }, { upstreamInstance: "3:4" }])
      expect(planImpairment(imp, { ...imp, ...over })).toMatchObject({ changes: true, replaces: [] });
    expect(planImpairment(imp, { ...imp, name: "x" }).replaces).toEqual(["name"]);
  });
  test("an unknown upstream output (a preview of the switch's update) counts as unchanged", () => {
    const preview = { ...imp, upstream: UNKNOWN, upstreamInstance: UNKNOWN } as any;
    expect(planImpairment(imp, preview)).toEqual({ changes: false, replaces: [], deleteBeforeReplace: true });
  });
  test("wirefilter gets only the settings in use; rate in bytes per second", () => {
    expect(filterArgs(imp)).toEqual([]);
    expect(filterArgs({ lossPercent: 30, delayMs: 10, rateKbit: 8 })).toEqual([
      "-l",
      "30",
      "-d",
      "10",
      "-b",
      "1000",
    ]);
  });
  test("an impairment on a uml_switch is refused with the reason", () => {
    expect(checkImpairment({ ...imp, upstreamEngine: "uml_switch" }).failures?.[0].reason).toMatch(/vde/);
  });
  test("a lab whose impairment names would exceed the unix-socket limit is refused in check, naming the field", () => {
    // Fits for a short name; in the same runtime dir a 23-character name gives 108 bytes for
    // the socket a vde client (a guest NIC, the wirefilter) binds in the impairment's directory.
    const labDir = "/tmp/" + "d".repeat(60);
    expect(checkImpairment({ ...imp, labDir, name: "x" }).failures).toBeUndefined();
    const name = "lossy-uplink-of-router1";
    const f = checkImpairment({ ...imp, labDir, name }).failures ?? [];
    const control = naming.impairmentPaths(labDir, name).control;
    expect(f).toEqual([
      {
        property: "labDir",
        reason: expect.stringContaining(`${control}/`),
      },
    ]);
    expect(f[0].reason).toMatch(
      /unix sockets allow 107: set UMLAB_RUNTIME to a shorter directory or use a shorter name/,
    );
  });
});
