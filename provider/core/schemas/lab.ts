// The lab runtime directory (provider/lab/runtime.ts).
import { z } from "zod";
import { fields } from "./fields";
import { replace, type ChangePolicy } from "../policy";

export function labRuntimeSchema() {
  const { path } = fields();
  return z.object({
    root: path,
    labId: z.string().regex(/^[a-z0-9-]{1,40}$/, "use the id from naming.labId()"),
  });
}
export type LabRuntimeInputs = z.output<ReturnType<typeof labRuntimeSchema>>;

export const labRuntimePolicy: ChangePolicy<LabRuntimeInputs> = {
  root: replace("the runtime directory moves"),
  labId: replace("the runtime directory moves"),
};
