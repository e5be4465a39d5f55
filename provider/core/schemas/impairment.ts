// An impaired link to a vde switch (provider/net/impairment.ts).
import { z } from "zod";
import { fields } from "./fields";
import { replace, inPlace, type ChangePolicy } from "../policy";

export function impairmentSchema() {
  const { orUnknown, path, name, engine, range } = fields();
  return z.object({
    labDir: orUnknown(path),
    name,
    /** The real switch (its engine, control and instance). */
    upstreamEngine: orUnknown(engine),
    upstream: orUnknown(path),
    upstreamInstance: z.string(),
    /** Frames lost, percent, each direction (0: none). */
    lossPercent: range(0, 100, "use 0..100 (percent)").default(0),
    /** Added one-way delay in milliseconds, each direction. */
    delayMs: range(0, 60000, "use 0..60000 (milliseconds)")
      .int("use a whole number of milliseconds")
      .default(0),
    /** Bandwidth limit in kbit/s, each direction (0: unlimited). */
    rateKbit: range(0, 10_000_000, "use 0..10000000 (kbit/s; 0: unlimited)")
      .int("use a whole number of kbit/s")
      .default(0),
  });
}
export type ImpairmentInputs = z.output<ReturnType<typeof impairmentSchema>>;

/**
 * Only its place replaces an impairment (its private switch, which guests plug into); the
 * upstream switch and the settings restart only the wirefilter, in place. An unknown upstream
 * output (a preview of the switch's update) counts as unchanged, as for a Tap.
 */
export const impairmentPolicy: ChangePolicy<ImpairmentInputs> = {
  labDir: replace("the private switch lives in the lab dir"),
  name: replace("the private switch's control directory, which guests plug into"),
  upstreamEngine: inPlace("the wirefilter is restarted against the switch", "same"),
  upstream: inPlace("the wirefilter is restarted against the switch", "same"),
  upstreamInstance: inPlace("the wirefilter is restarted against the restarted switch", "same"),
  lossPercent: inPlace("the wirefilter is restarted with the new setting", "same"),
  delayMs: inPlace("the wirefilter is restarted with the new setting", "same"),
  rateKbit: inPlace("the wirefilter is restarted with the new setting", "same"),
};
