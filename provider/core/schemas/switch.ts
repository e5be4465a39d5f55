// A virtual switch (provider/net/switch.ts).
import { z } from "zod";
import { fields } from "./fields";
import { replace, inPlace, type ChangePolicy } from "../policy";

export function switchSchema() {
  const { orUnknown, path, name, engine } = fields();
  return z.object({
    labDir: orUnknown(path),
    name,
    engine: engine.default("uml_switch"),
    hub: z.boolean().default(false),
    /** A fault: the switch process group is stopped (SIGSTOP) and forwards nothing. */
    suspended: z.boolean().default(false),
  });
}
export type SwitchInputs = z.output<ReturnType<typeof switchSchema>>;

/** Every input but `suspended` is the process's identity: a change restarts it (same paths). */
export const switchPolicy: ChangePolicy<SwitchInputs> = {
  labDir: replace("socket paths live in the lab dir"),
  name: replace("socket and pid file names"),
  engine: replace("another program (uml_switch or vde_switch)"),
  hub: replace("a start option of the switch process"),
  suspended: inPlace("SIGSTOP/SIGCONT of the switch's process group; guests stay plugged"),
};
