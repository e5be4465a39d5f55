// A disk file several guests attach, one at a time (provider/disk/shareddisk.ts).
import { z } from "zod";
import { fields } from "./fields";
import { replace, type ChangePolicy } from "../policy";

export const SHARED_FILESYSTEMS = ["ext2", "ext3", "ext4", "none"] as const;

export function sharedDiskSchema() {
  const { orUnknown, path, name } = fields();
  const size = "use a whole number of MiB, 1..65536";
  return z.object({
    labDir: orUnknown(path),
    name,
    sizeMiB: z.number({ message: size }).int(size).min(1, size).max(65536, size),
    /** Made with mkfs at create; "none": a zeroed (sparse) file. */
    filesystem: z
      .enum(SHARED_FILESYSTEMS, { message: 'use "ext2", "ext3", "ext4" or "none"' })
      .default("ext4"),
  });
}
export type SharedDiskInputs = z.output<ReturnType<typeof sharedDiskSchema>>;

/** Every change makes a new file: refused while a running guest has the old one (never silently). */
export const sharedDiskPolicy: ChangePolicy<SharedDiskInputs> = {
  labDir: replace("the file lives in the lab dir"),
  name: replace("the file's name"),
  sizeMiB: replace("a new file of the new size (its content is lost)"),
  filesystem: replace("mkfs of a new file (its content is lost)"),
};
