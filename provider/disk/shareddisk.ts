// A SharedDisk: one disk file (size and filesystem declared, made with mkfs at create) that
// several guests attach, alternating access, never concurrent. What keeps two guests from
// using it at once is UML's own lock, verified on this 6.1 kernel (README "SharedDisk",
// tests/integration/shareddisk.test.ts): when a guest opens the block device (mount, dd),
// UML's ubd driver opens the file and takes fcntl(F_SETLK) F_WRLCK on all of it (F_RDLCK for a
// read-only ubdNr=); the second guest's open fails with EAGAIN ("Failed to lock ... err = 11",
// "F_SETLK failed, file already locked by pid N" on its console). The lock goes with the last
// close (umount) or the process. Attaching (boot, `config ubdN=`) takes no lock, so both nodes
// of a cluster can have the disk and only one mount it. umlab never passes `ubdNc=` (shared,
// no lock): kernelArgs refuse ubd arguments. The file is never removed or made again under a
// running guest: delete and replace are refused naming the guests that have it.
import * as fs from "fs";
import * as host from "../host/process";
import { sharedDiskSchema, sharedDiskPolicy, SharedDiskInputs } from "../core/schemas";
import { defineProvider } from "../core/define";
import { planFromPolicy, PolicyPlan } from "../core/diff";
import { giveToGuest } from "../lab/guest-user";
import { diskUsers, describeUsers } from "../guest/hotplug";
import { sharedDiskDir, sharedDiskPath } from "./shared-path";

export interface SharedDiskOutputs extends SharedDiskInputs {
  path: string;
}

/** Refuse, naming them, when running guests (or other processes) have the file. */
function refuseWhileUsed(i: SharedDiskInputs, file: string, doing: string): void {
  const users = diskUsers(file);
  if (users.length > 0)
    throw new Error(
      `SharedDisk ${i.name}: cannot ${doing} ${file}: it is attached to ${describeUsers(users)}. Halt those guests or drop the disk from their disks first (a shared disk is never ` +
        "removed or made again under a running guest)",
    );
}

/**
 * Every change replaces; while guests have the file the diff itself refuses (so a preview says
 * so too). Refusing only in delete is not enough: Pulumi would replace (reboot) the guests
 * first, whose `disks` it sees as unknown, and then make a new, empty file under them.
 */
export function planSharedDisk(olds: SharedDiskOutputs, news: SharedDiskInputs): PolicyPlan {
  const plan = planFromPolicy(sharedDiskPolicy, olds, news);
  if (plan.replaces.length > 0 && olds.path)
    refuseWhileUsed(olds, olds.path, `replace (${plan.replaces.join(", ")} changed)`);
  return plan;
}

export const sharedDiskProvider = defineProvider<SharedDiskInputs, SharedDiskOutputs>({
  schema: sharedDiskSchema,
  policy: sharedDiskPolicy,
  plan: planSharedDisk,

  async create(i) {
    const file = sharedDiskPath(i.labDir, i.name);
    fs.mkdirSync(sharedDiskDir(i.labDir), { recursive: true, mode: 0o700 });
    refuseWhileUsed(i, file, "make");
    fs.rmSync(file, { force: true });
    const fd = fs.openSync(file, "wx", 0o600);
    try {
      fs.ftruncateSync(fd, i.sizeMiB * 1024 * 1024);
    } finally {
      fs.closeSync(fd);
    }
    try {
      if (i.filesystem !== "none")
        await host.run(`mkfs.${i.filesystem}`, ["-q", "-F", "-L", i.name.slice(0, 16), file]);
    } catch (e) {
      fs.rmSync(file, { force: true });
      throw new Error(`SharedDisk ${i.name}: mkfs.${i.filesystem} failed: ${(e as Error).message}`);
    }
    giveToGuest(i.labDir, [file]);
    return { id: file, outs: { ...i, path: file } };
  },

  read(o) {
    return fs.existsSync(o.path) ? o : undefined;
  },

  async delete(o) {
    if (o.path !== sharedDiskPath(o.labDir, o.name)) return;
    refuseWhileUsed(o, o.path, "remove");
    fs.rmSync(o.path, { force: true });
  },
});
