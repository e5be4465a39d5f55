// The provider skeleton's check: a value unknown during a preview (an output of another
// resource) is not judged; a known bad value is, wherever it sits.
import { z } from "zod";
import { checkInputs } from "../../../provider/core/define";
import { UNKNOWN } from "../../../provider/core/unknown";

const schema = () =>
  z.object({
    name: z.string().regex(/^[a-z]+$/, "use lower-case letters"),
    serial: z.array(z.string().regex(/^(null|pts|cable:\/.+)$/, "use null, pts or a cable end")).default([]),
    size: z.number().default(1),
  });

describe("check (core/define.ts checkInputs)", () => {
  test("a serial cable end unknown in a new stack's preview passes", () => {
    const r = checkInputs(schema(), { name: "g", serial: ["null", UNKNOWN] });
    expect(r.failures).toBeUndefined();
  });
  test("a known bad value beside an unknown one still fails, naming its field", () => {
    const r = checkInputs(schema(), { name: "G1", serial: ["null", UNKNOWN] });
    expect(r.failures).toEqual([{ property: "name", reason: "use lower-case letters" }]);
    const s = checkInputs(schema(), { name: "g", serial: ["bogus", UNKNOWN] });
    expect(s.failures).toEqual([{ property: "serial[0]", reason: "use null, pts or a cable end" }]);
  });
  test("known inputs come back parsed, defaults filled", () => {
    expect(checkInputs(schema(), { name: "g" })).toEqual({ inputs: { name: "g", serial: [], size: 1 } });
  });
  test("the extra rules run on parsed inputs only", () => {
    const more = (v: { name: string }) => (v.name === "bad" ? [{ property: "name", reason: "taken" }] : []);
    expect(checkInputs(schema(), { name: "bad" }, more).failures).toEqual([
      { property: "name", reason: "taken" },
    ]);
  });
});
