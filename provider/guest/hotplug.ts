// Disks plugged into a running guest (mconsole `config ubdN=<file>` / `remove ubdN`). The
// guest's UML process sees only its confined view (guest/boot.ts guestView), fixed at boot: a
// file elsewhere cannot be opened later. So each guest has a `hotplug` dir in the lab, bound
// into its view from boot on, and a disk is plugged as a hard link `<hotplug>/ubdN` to its file
// (same inode: writes reach the file itself), handed to the guests' user like a lab COW file.
import * as fs from "fs";
import * as path from "path";
import { mconsole } from "../host/mconsole";
import { mayAccess } from "../core/guest-user";
import { giveToGuest, guestIdentityOf } from "../lab/guest-user";
import { processesHolding } from "../host/holders";
import { processCmdline } from "../host/process";
import { isSharedDisk } from "../disk/shared-path";

/** The per-guest dir of hot-plugged disk links, bound (read-write) into the guest's view. */
export function hotplugDir(labDir: string, name: string): string {
  return `${labDir}/hotplug/${name}`;
}

/**
 * At boot: a fresh hotplug dir (old entries are of an earlier run), the guests' user's own,
 * with a record (a symlink `ubdN` -> the file) of each disk after the root one given at boot,
 * so diskUsers() sees it attached. Refused when another running guest has one of them.
 */
export function prepareHotplugDir(labDir: string, name: string, disks: { path: string }[] = []): string {
  const d = hotplugDir(labDir, name);
  disks.forEach((disk, k) => {
    if (k === 0 || isSharedDisk(labDir, disk.path)) return; // a SharedDisk: UML's lock (disk/shareddisk.ts)
    const others = diskUsers(disk.path).filter((h) => h.guest !== name || h.labDir !== labDir);
    if (others.length > 0)
      throw new Error(
        `guest ${name}: disk ubd${k}=${disk.path} is in use by ${describeUsers(others)}; ` +
          "a disk is never attached to two running guests at once: drop it from that guest's disks or halt that guest first",
      );
  });
  fs.rmSync(d, { recursive: true, force: true });
  fs.mkdirSync(d, { recursive: true, mode: 0o700 });
  disks.forEach((disk, k) => {
    if (k > 0) fs.symlinkSync(disk.path, path.join(d, `ubd${k}`));
  });
  giveToGuest(labDir, [d]);
  return d;
}

/**
 * Who has `file`: every running UML guest that has it attached (an entry of its hotplug dir
 * is that file: a boot-time disk's record or a plugged disk's link; an unplugged disk's entry
 * is removed), and every process holding it open (host/holders.ts), one entry per guest. UML
 * itself opens (and locks) a disk only while the guest has the block device open, so "open"
 * alone would miss a guest that has the disk attached but idle.
 */
export function diskUsers(file: string): { guest: string; labDir: string; pid: number }[] {
  const target = fs.statSync(file, { throwIfNoEntry: false });
  if (!target) return [];
  const out = new Map<string, { guest: string; labDir: string; pid: number }>();
  const add = (pid: number, argv: string[]) => {
    const umid = argv.find((a) => a.startsWith("umid="))?.slice(5);
    const umlDir = argv.find((a) => a.startsWith("uml_dir="))?.slice(8);
    const guest = umid ?? `process ${pid} (${argv.join(" ").slice(0, 80)})`;
    const labDir = umlDir ? path.dirname(umlDir) : "";
    if (!out.has(`${labDir}\0${guest}`)) out.set(`${labDir}\0${guest}`, { guest, labDir, pid });
  };
  for (const h of processesHolding(file)) add(h.pid, processCmdline(h.pid) ?? []);
  let pids: string[] = [];
  try {
    pids = fs.readdirSync("/proc").filter((e) => /^\d+$/.test(e));
  } catch {
    /* no /proc: only the holders above */
  }
  for (const p of pids) {
    const argv = processCmdline(Number(p)) ?? [];
    const umid = argv.find((a) => a.startsWith("umid="))?.slice(5);
    const umlDir = argv.find((a) => a.startsWith("uml_dir="))?.slice(8);
    if (!umid || !umlDir) continue;
    const dir = hotplugDir(path.dirname(umlDir), umid);
    let entries: string[] = [];
    try {
      entries = fs.readdirSync(dir);
    } catch {
      continue;
    }
    for (const e of entries) {
      const st = fs.statSync(path.join(dir, e), { throwIfNoEntry: false });
      if (st && st.dev === target.dev && st.ino === target.ino) add(Number(p), argv);
    }
  }
  return [...out.values()];
}

/** "guest g1 (pid 12), process 34 (mkfs ...)" for messages. */
export function describeUsers(users: { guest: string; pid: number }[]): string {
  return users
    .map((u) => (/^process /.test(u.guest) ? u.guest : `guest ${u.guest} (pid ${u.pid})`))
    .join(", ");
}

interface Running {
  labDir: string;
  name: string;
  mconsole: string;
}

/**
 * Plug `file` as ubd`index` of the running guest. Refused, saying why: a root disk (ubd0), a
 * file that is not a regular file, one the guests' user cannot write, one on another filesystem
 * than the lab (no hard link possible), one another running guest has open (never two at once).
 */
export async function plugDisk(o: Running, index: number, file: string): Promise<void> {
  const what = `guest ${o.name}: plugging ubd${index}=${file}`;
  if (index < 1) throw new Error(`${what}: ubd0 is the root disk, it cannot be plugged into a running guest`);
  const st = fs.statSync(file, { throwIfNoEntry: false });
  if (!st?.isFile()) throw new Error(`${what}: there is no such regular file (give a disk image file)`);
  // A SharedDisk may be attached to several guests: UML's lock keeps their opens apart.
  const others = isSharedDisk(o.labDir, file)
    ? []
    : diskUsers(file).filter((h) => h.guest !== o.name || h.labDir !== o.labDir);
  if (others.length > 0)
    throw new Error(
      `${what}: the file is in use by ${describeUsers(others)}; ` +
        "a disk is never attached to two running guests at once: drop it from that guest's disks (an in-place unplug) or halt that guest first",
    );
  const id = guestIdentityOf(o.labDir);
  if (file.startsWith(`${o.labDir}/`)) giveToGuest(o.labDir, [file]);
  else if (id && !mayAccess(st, id, "rw"))
    throw new Error(
      `${what}: the file is not writable by the guests' user (uid ${id.uid}): chown/chmod it, or keep disks in the lab`,
    );
  const dir = hotplugDir(o.labDir, o.name);
  if (!fs.existsSync(dir))
    throw new Error(
      `${what}: the guest was booted without ${dir} (by an older umlab): reboot it to plug disks`,
    );
  const link = path.join(dir, `ubd${index}`);
  fs.rmSync(link, { force: true });
  try {
    fs.linkSync(file, link);
  } catch (e: any) {
    throw new Error(
      `${what}: cannot link it into ${dir} (${e?.code ?? e}): keep the disk file on the lab's filesystem (e.g. under ${o.labDir})`,
    );
  }
  const r = await mconsole.config(o.mconsole, `ubd${index}`, link);
  if (!r.ok) {
    fs.rmSync(link, { force: true });
    throw new Error(`${what}: UML refused: ${r.text}`);
  }
}

/** Unplug ubd`index` (UML refuses a disk in use, e.g. mounted: unmount it in the guest first). */
export async function unplugDisk(o: Running, index: number): Promise<void> {
  const r = await mconsole.remove(o.mconsole, `ubd${index}`);
  if (!r.ok)
    throw new Error(
      `guest ${o.name}: removing ubd${index}: UML refused: ${r.text} (a mounted or open disk cannot be removed: unmount it in the guest first)`,
    );
  fs.rmSync(path.join(hotplugDir(o.labDir, o.name), `ubd${index}`), { force: true });
}
