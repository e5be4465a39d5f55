// A copy-on-write disk over a backing image (provider/disk/cowdisk.ts).
import { z } from "zod";
import { fields } from "./fields";
import { replace, type ChangePolicy } from "../policy";

export function cowDiskSchema() {
  const { orUnknown, path, name } = fields();
  return z.object({
    labDir: orUnknown(path),
    name,
    backing: orUnknown(path),
    /** "mkcow": create now with uml_mkcow; "boot": UML creates it at first boot. */
    create: z.enum(["mkcow", "boot"], { message: 'use "mkcow" or "boot"' }).default("mkcow"),
    /** Changes when the backing file's content changes (e.g. the Image's hash): forces a new COW. */
    backingVersion: z.string().default(""),
    /** Start from disk `index` of guest `guest` in the snapshot at `dir` (a sparse copy, hashes checked). */
    fromSnapshot: z
      .object({
        dir: orUnknown(path),
        guest: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9_-]*$/, "use the guest's name in the snapshot"),
        index: z.number().int().min(0, "use the disk's index in that guest (0: its root disk)").default(0),
      })
      .strict()
      .optional(),
  });
}
export type CowDiskInputs = z.output<ReturnType<typeof cowDiskSchema>>;

/** A COW file is bound to its backing file and its path: every change makes a new one. */
export const cowDiskPolicy: ChangePolicy<CowDiskInputs> = {
  labDir: replace("the COW file lives in the lab dir"),
  name: replace("the COW file's name"),
  backing: replace("a COW file is bound to its backing file"),
  create: replace("how the COW file is made"),
  backingVersion: replace("new backing content invalidates the COW file"),
  fromSnapshot: replace("the COW file is a copy of another one"),
};
