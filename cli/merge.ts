// umlab merge: a guest's COW disk merged with its backing file into a new image (uml_moo),
// by default into the image cache under the sha256 of its bytes; `--into` a new file;
// `--in-place` into the backing file itself, refused while anything else depends on it.
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import * as naming from "../provider/core/naming";
import { guestOfDisk } from "../provider/disk/dependents";
import { defaultCacheDir } from "../provider/image/plan";
import { MergeError, mergeCow, mergeInPlace } from "../provider/image/merge";
import { UsageError } from "./args";
import { guestLab } from "./labs";

export interface MergeArgs {
  /** A guest name, or a COW file path (it has a `/` or ends in `.cow`). */
  target: string;
  into?: string;
  inPlace: boolean;
  backing?: string;
  stack?: string;
  lab?: string;
}

export const MERGE_USAGE = `usage: umlab merge [--stack <stack>] [--lab <lab>] <guest | COW file> [--into <new image file>] [--backing <file>]
       umlab merge <guest | COW file> --in-place
  merge a halted guest's COW disk with its backing file into a new image: in the image cache
  (printed) or --into a new file; --in-place rewrites the backing file, refused while other
  COW files (named) depend on it or it is a cache image`;

/** Parse `umlab merge` arguments (pure). */
export function parseMergeArgs(args: string[], env: Record<string, string | undefined> = {}): MergeArgs {
  const out: Partial<MergeArgs> = {
    inPlace: false,
    stack: env.UMLAB_STACK || undefined,
    lab: env.UMLAB_LAB || undefined,
  };
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    const value = (flag: string) => {
      const v = args[++i];
      if (v === undefined || v.startsWith("--")) throw new UsageError(`merge: ${flag} needs a value`);
      return v;
    };
    if (a === "--in-place") out.inPlace = true;
    else if (a === "--into") out.into = value(a);
    else if (a === "--backing") out.backing = value(a);
    else if (a === "--stack") out.stack = value(a);
    else if (a === "--lab") out.lab = value(a);
    else if (a.startsWith("-")) throw new UsageError(`merge: unknown option ${a}`);
    else if (out.target === undefined) out.target = a;
    else throw new UsageError(`merge: unexpected argument "${a}"`);
  }
  if (!out.target) throw new UsageError("merge: name the guest or the COW file");
  if (out.inPlace && out.into !== undefined)
    throw new UsageError("merge: --in-place writes the backing file; drop --into (or --in-place)");
  return out as MergeArgs;
}

/** The COW file a guest boots from in `lab` (its disk named after it; `<guest>-root` first). */
export function guestCow(lab: string, guest: string): string {
  const dir = naming.labPaths(lab).disksDir;
  let files: string[] = [];
  try {
    files = fs.readdirSync(dir).filter((f) => f.endsWith(".cow"));
  } catch {
    // no disks yet
  }
  const mine = files.filter((f) => guestOfDisk(f.replace(/\.cow$/, ""), [guest]) === guest);
  const pick = mine.find((f) => f === `${guest}-root.cow`) ?? (mine.length === 1 ? mine[0] : undefined);
  if (!pick)
    throw new UsageError(
      mine.length
        ? `merge: guest ${guest} has several COW files (${mine.join(", ")}); give the file's path`
        : `merge: no COW file of guest ${guest} in ${dir}; give the file's path`,
    );
  return path.join(dir, pick);
}

export async function cmdMerge(args: string[], root: string): Promise<number> {
  const a = parseMergeArgs(args, process.env);
  const isPath = a.target.includes("/") || a.target.endsWith(".cow");
  const cow = isPath ? path.resolve(a.target) : guestCow((await guestLab(a.target, a, root)).dir, a.target);
  const cacheDir = defaultCacheDir(process.env, os.homedir());
  // The runtime root and, when the COW lies in a lab (<root>/<lab>/disk/x.cow), that lab's root.
  const roots = [root, path.dirname(path.dirname(path.dirname(cow)))];
  try {
    if (a.inPlace) {
      const r = await mergeInPlace({ cow, backing: a.backing, cacheDir, roots });
      console.log(`merged ${cow} into ${r.backing} in place`);
      return 0;
    }
    const r = await mergeCow({ cow, backing: a.backing, cacheDir, into: a.into, roots });
    console.log(`${r.path}\n  sha256 ${r.sha256}, ${r.sizeBytes} bytes (${r.allocatedBytes} allocated)`);
    console.log(`  merged from ${r.cow} over ${r.backing} (unchanged)`);
    console.log(`  use it: new umlab.CowDisk("name", { lab, backing: "${r.path}" })`);
    return 0;
  } catch (e) {
    if (e instanceof MergeError) {
      console.error(`umlab: ${e.message}`);
      return 1;
    }
    throw e;
  }
}
