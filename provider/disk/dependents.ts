// Who depends on a backing file, and whether a COW file may be merged into it in place (pure).
// The talk's warning: merging node01's COW into the backing file node00..05 share rewrites
// the bytes under every other COW file, whose blocks then sit over the wrong data. So an
// in-place merge is refused while any other COW file names that backing file, and always
// for an image in the cache (a published image is never rewritten: its key is its content).

/** One COW file found on the host (provider/disk/scan.ts): where it is and what it needs. */
export interface CowFact {
  /** The lab directory it lies in ("" when it is not in a lab). */
  lab: string;
  /** The guest that boots from it, when one can be told ("" when not). */
  guest: string;
  file: string;
  /** The backing path its header names. */
  backing: string;
  /** Identity of `file` and of its backing (device:inode, or the resolved path when missing). */
  fileId: string;
  backingId: string;
}

/** The COW files other than `cowId` whose backing is `backingId`, sorted by lab, guest, file. */
export function dependentsOf(backingId: string, cowId: string, facts: CowFact[]): CowFact[] {
  const seen = new Set<string>();
  return facts
    .filter((f) => f.backingId === backingId && f.fileId !== cowId)
    .filter((f) => (seen.has(f.fileId) ? false : (seen.add(f.fileId), true)))
    .sort((a, b) =>
      a.lab + "\0" + a.guest + "\0" + a.file < b.lab + "\0" + b.guest + "\0" + b.file ? -1 : 1,
    );
}

/** How a dependent is named in a refusal: lab (its id), guest, file. */
export function describeDependent(f: CowFact): string {
  const lab = f.lab ? `lab ${f.lab.replace(/\/+$/, "").split("/").pop()}` : "no lab";
  return `${lab}, guest ${f.guest || "(unknown)"}: ${f.file}`;
}

export type InPlaceDecision = { ok: true } | { ok: false; message: string };

/**
 * May `cow` be merged into `backing` in place (`uml_moo -d`)? Only when no other COW file
 * depends on the backing and the backing is not a published cache image.
 */
export function inPlaceDecision(a: {
  cow: string;
  backing: string;
  dependents: CowFact[];
  backingInCache: boolean;
  /** Processes that have the backing file open (e.g. guests on COW files found nowhere else). */
  openBy?: string[];
}): InPlaceDecision {
  const why: string[] = [];
  if (a.openBy?.length) why.push(`it is open in process ${a.openBy.join(", ")}`);
  if (a.dependents.length) {
    why.push(
      `${a.dependents.length} other COW file(s) depend on it and would be corrupted:\n` +
        a.dependents.map((d) => `    ${describeDependent(d)}`).join("\n"),
    );
  }
  if (a.backingInCache)
    why.push("it is a published image in the image cache (content-addressed: never rewritten)");
  if (!why.length) return { ok: true };
  return {
    ok: false,
    message:
      `refusing to merge ${a.cow} into its backing file ${a.backing} in place: ` +
      why.join("; and ") +
      `\n  merge into a new image instead: umlab merge ${a.cow} [--into <new image path>]`,
  };
}

/** The guest a lab's disk belongs to: a guest named like the disk, or `<guest>-...` (longest). */
export function guestOfDisk(disk: string, guests: string[]): string {
  if (guests.includes(disk)) return disk;
  const prefixed = guests.filter((g) => disk.startsWith(`${g}-`)).sort((a, b) => b.length - a.length);
  return prefixed[0] ?? "";
}
