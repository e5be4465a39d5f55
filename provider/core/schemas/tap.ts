// A host tap device on a lab switch (provider/net/tap.ts).
import { z } from "zod";
import { fields } from "./fields";
import { replace, inPlace, type ChangePolicy } from "../policy";

export function tapSchema() {
  const { orUnknown, path, engine, cidr } = fields();
  return z.object({
    labDir: orUnknown(path),
    /** Also the device name in the namespace: at most 15 characters (IFNAMSIZ). */
    name: z
      .string()
      .regex(
        /^[a-z][a-z0-9-]{0,14}$/,
        "use 1-15 characters (a device name): lower-case letters, digits, '-'",
      ),
    engine: orUnknown(engine),
    control: orUnknown(path),
    switchInstance: z.string(),
    addresses: z.array(orUnknown(cidr)).default([]),
  });
}
export type TapInputs = z.output<ReturnType<typeof tapSchema>>;

/**
 * A tap is re-made (delete first: same device name) when its switch changes; addresses change
 * in place. A switch output that is unknown (in a preview, every output of a switch being
 * updated is) counts as unchanged: a suspended switch keeps its instance, and a switch that is
 * really replaced shows as such itself; `up` diffs again with the real values.
 */
export const tapPolicy: ChangePolicy<TapInputs> = {
  labDir: replace("the namespace is named after the lab", "same"),
  name: replace("the device name", "same"),
  engine: replace("the plug process serves one switch", "same"),
  control: replace("the plug process serves one switch", "same"),
  switchInstance: replace("a restarted switch drops the plug's port", "same"),
  addresses: inPlace("ip addr flush/add on the device"),
};
