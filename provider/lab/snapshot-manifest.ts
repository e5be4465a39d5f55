// The snapshot manifest: the contract between taking a snapshot (snapshot.ts), restoring a
// disk from one (disk/restore.ts) and export/import. A snapshot is a directory
// `<dir>/manifest.json` + `<dir>/disks/<guest>.<k>.cow` (k = the disk's index in its guest).
// This file validates a manifest (readManifest) and checks every hash (verifySnapshot); it
// reads files but starts no process.
import * as fs from "fs";
import * as path from "path";
import { z } from "zod";
import { sha256File } from "../image/cache";

export const MANIFEST_FORMAT = 1;

const sha256 = z.string().regex(/^[0-9a-f]{64}$/, "a sha256 is 64 lower-case hex digits");
const count = z.number().int().min(0);
/** `disks/<guest>.<k>.cow`: relative, no `..`, no other folder. */
const diskFile = z
  .string()
  .regex(/^disks\/[A-Za-z0-9][A-Za-z0-9_.-]*\.\d+\.cow$/, "expected disks/<guest>.<index>.cow");

export function manifestSchema() {
  const disk = z.object({
    index: count,
    file: diskFile,
    sha256,
    bytes: count,
    allocated: count,
    backing: z.object({ path: z.string().min(1), sha256 }),
    /** The CowDisk's name (its file `<lab>/disk/<name>.cow`): what a lab-level restore matches. */
    name: z.string().min(1).optional(),
  });
  const guest = z.object({
    name: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9_-]*$/, "a guest name"),
    /** The backing Image's outputs that find it again in an image cache: path, sha256, key. */
    image: z.object({ path: z.string().min(1), sha256, key: z.string().optional() }).passthrough(),
    disks: z.array(disk),
  });
  return z.object({
    format: z.literal(MANIFEST_FORMAT, { message: `this umlab reads snapshot format ${MANIFEST_FORMAT}` }),
    name: z.string().min(1),
    createdAt: z.iso.datetime({ message: "an ISO date-time" }),
    project: z.string(),
    stack: z.string(),
    outputs: z.record(z.string(), z.unknown()),
    guests: z.array(guest),
  });
}
export type Manifest = z.output<ReturnType<typeof manifestSchema>>;
export type ManifestDisk = Manifest["guests"][number]["disks"][number];

export const MANIFEST_FILE = "manifest.json";

/** Every disk of the manifest by the CowDisk name it recorded: `{ guest, index }`. */
export function disksByName(m: Manifest): Map<string, { guest: string; index: number }> {
  const out = new Map<string, { guest: string; index: number }>();
  for (const g of m.guests)
    for (const d of g.disks) if (d.name) out.set(d.name, { guest: g.name, index: d.index });
  return out;
}

/** The relative file of disk `index` of `guest` in a snapshot. */
export function diskFileName(guest: string, index: number): string {
  return `disks/${guest}.${index}.cow`;
}

/** Parse and validate manifest text; the error names the snapshot and each bad field. */
export function parseManifest(text: string, where: string): Manifest {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (e) {
    throw new Error(
      `snapshot ${where}: ${MANIFEST_FILE} is not JSON (${(e as Error).message}): not a snapshot, or damaged`,
    );
  }
  const r = manifestSchema().safeParse(raw);
  if (!r.success) {
    const why = r.error.issues.map((i) => `${i.path.join(".") || "(top)"}: ${i.message}`).join("; ");
    throw new Error(`snapshot ${where}: ${MANIFEST_FILE} is invalid: ${why}`);
  }
  for (const g of r.data.guests)
    for (const d of g.disks)
      if (d.file !== diskFileName(g.name, d.index))
        throw new Error(
          `snapshot ${where}: guests.${g.name}: disk ${d.index} is in ${d.file}, expected ${diskFileName(g.name, d.index)}`,
        );
  return r.data;
}

/** The validated manifest of the snapshot at `dir`. */
export function readManifest(dir: string): Manifest {
  const file = path.join(dir, MANIFEST_FILE);
  let text: string;
  try {
    text = fs.readFileSync(file, "utf8");
  } catch (e) {
    throw new Error(
      `snapshot ${dir}: cannot read ${file} (${(e as NodeJS.ErrnoException).code}): is it a snapshot directory?`,
    );
  }
  return parseManifest(text, dir);
}

/** Disk `index` of `guest` in a manifest, or an error listing what the snapshot has. */
export function findDisk(m: Manifest, dir: string, guest: string, index: number): ManifestDisk {
  const g = m.guests.find((x) => x.name === guest);
  if (!g)
    throw new Error(
      `snapshot ${dir} has no guest "${guest}" (it has: ${m.guests.map((x) => x.name).join(", ") || "none"})`,
    );
  const d = g.disks.find((x) => x.index === index);
  if (!d)
    throw new Error(
      `snapshot ${dir}: guest "${guest}" has no disk ${index} (it has: ${g.disks.map((x) => x.index).join(", ")})`,
    );
  return d;
}

/** Throw unless the COW file of `disk` in the snapshot at `dir` has the recorded size and hash. */
export async function verifyDisk(dir: string, disk: ManifestDisk): Promise<void> {
  const file = path.join(dir, disk.file);
  const st = fs.lstatSync(file, { throwIfNoEntry: false });
  if (!st || !st.isFile())
    throw new Error(`snapshot ${dir}: ${disk.file} is missing (or not a regular file)`);
  if (st.size !== disk.bytes)
    throw new Error(
      `snapshot ${dir}: ${disk.file} is ${st.size} bytes, the manifest says ${disk.bytes}: damaged`,
    );
  const got = await sha256File(file);
  if (got !== disk.sha256)
    throw new Error(
      `snapshot ${dir}: ${disk.file} has sha256 ${got}, the manifest says ${disk.sha256}: damaged`,
    );
}

/** Read the manifest and check every disk's hash: the manifest, or an error naming the first bad file. */
export async function verifySnapshot(dir: string): Promise<Manifest> {
  const m = readManifest(dir);
  for (const g of m.guests) for (const d of g.disks) await verifyDisk(dir, d);
  return m;
}
