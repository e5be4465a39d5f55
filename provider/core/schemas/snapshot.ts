// A snapshot of a lab's disks (provider/lab/snapshot-resource.ts): taken once at create, kept
// until deleted. Only its name and directory decide which snapshot it is.
import { z } from "zod";
import { fields } from "./fields";
import { replace, derived, type ChangePolicy } from "../policy";
import { UNKNOWN } from "../unknown";

export function snapshotSchema() {
  const { orUnknown, name, path } = fields();
  const disk = z.object({
    path: orUnknown(path),
    backing: orUnknown(path).optional(),
  });
  return z.object({
    labDir: orUnknown(path),
    name,
    /** Where it lives: default `<runtime root>/snapshots/<project>.<stack>.<name>`. */
    dir: orUnknown(path),
    project: z.string().min(1),
    stack: z.string().min(1),
    /** What the manifest records as the program's outputs (the author's choice; default {}). */
    outputs: z.union([z.literal(UNKNOWN), z.record(z.string(), z.unknown())]).default({}),
    guests: z
      .array(
        z.object({
          name: orUnknown(name),
          disks: z.array(disk).min(1, "a guest has at least one disk"),
          /** Paused as a fault: not synced, left paused. */
          paused: z.union([z.literal(UNKNOWN), z.boolean()]).default(false),
        }),
      )
      .min(1, "give at least one guest to snapshot"),
  });
}
export type SnapshotInputs = z.output<ReturnType<typeof snapshotSchema>>;

/** Taken once: a later change to the lab does not retake it (delete and create it for that). */
export const snapshotPolicy: ChangePolicy<SnapshotInputs> = {
  labDir: derived("taken once: the lab it was taken from is history"),
  name: replace("another snapshot"),
  dir: replace("another snapshot directory"),
  project: derived("recorded in the manifest when taken"),
  stack: derived("recorded in the manifest when taken"),
  outputs: derived("recorded in the manifest when taken"),
  guests: derived("taken once: later changes of the guests are not retaken"),
};
