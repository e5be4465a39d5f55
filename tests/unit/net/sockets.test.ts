// The sun_path rule: every unix socket a lab dir implies for a name (naming.labSocketPaths)
// fits in 107 bytes for every name the checks accept, whatever the runtime root.
import * as fc from "fast-check";
import * as naming from "../../../provider/core/naming";
import { switchProvider } from "../../../provider/net/switch";
import { checkImpairment } from "../../../provider/net/impairment";
import { checkGuest } from "../../../provider/guest/provider";

// Runtime roots from short to far too long (lab dirs of about 20 to 110 bytes).
const root = fc
  .tuple(fc.stringMatching(/^\/[a-z0-9._-]{1,12}(\/[a-z0-9._-]{1,12})?$/), fc.integer({ min: 1, max: 80 }))
  .map(([dir, pad]) => `${dir}/${"r".repeat(pad)}`);
const name = fc.stringMatching(/^[a-z][a-z0-9-]{0,22}$/);
const project = fc.string({ maxLength: 30 });

/** The failures each socket-bearing component's check gives for this lab dir and name. */
async function checks(labDir: string, n: string) {
  const sw = await switchProvider.check!({}, { labDir, name: n, engine: "vde" });
  const imp = checkImpairment({
    labDir,
    name: n,
    upstreamEngine: "vde",
    upstream: `${labDir}/sw/up`,
    upstreamInstance: "1:2",
  });
  const g = checkGuest({ labDir, name: n, disks: [{ path: `${labDir}/disk/${n}.cow` }] });
  return { Switch: sw.failures ?? [], Impairment: imp.failures ?? [], Guest: g.failures ?? [] };
}

describe("lab sockets", () => {
  test("every socket of a lab is listed: mconsole, switch control, impairment control, vde ports", () => {
    expect(naming.labSocketPaths("/l", "x")).toEqual([
      "/l/uml/x/mconsole",
      "/l/sw/x.ctl",
      "/l/sw/x/ctl",
      "/l/sw/x/.0000000-00000",
      "/l/imp/x/ctl",
      "/l/imp/x/.0000000-00000",
    ]);
  });

  test("no accepted name gives a lab socket over 107 bytes; a refused one names labDir", async () => {
    await fc.assert(
      fc.asyncProperty(root, project, project, name, async (r, p, s, n) => {
        const labDir = naming.labDir(r, naming.labId(p, s));
        const tooLong = naming.labSocketPaths(labDir, n).some((x) => Buffer.byteLength(x) > 107);
        for (const failures of Object.values(await checks(labDir, n))) {
          if (failures.length === 0) expect(tooLong).toBe(false);
          else expect(failures).toEqual([{ property: "labDir", reason: expect.stringContaining("107") }]);
          expect(failures.length > 0).toBe(tooLong);
        }
      }),
      { numRuns: 200 },
    );
  });
});
