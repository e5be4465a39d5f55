// umlab export [--images] <snapshot dir> <archive>   umlab import [--cache <dir>] <archive> <dir>
// Share a snapshot as one archive (provider/lab/archive.ts); bring a lab up from an imported
// one with CowDisk `fromSnapshot` (examples/clone).
import * as fs from "fs";
import * as os from "os";
import { UsageError } from "./args";
import { exportSnapshot, importSnapshot } from "../provider/lab/archive";
import { defaultCacheDir } from "../provider/image/plan";
import { snapshotBytes } from "../provider/lab/snapshot";

/** `[--flag] [--opt <v>] <a> <b>`: the two positionals and the options given. */
export function parseShareArgs(
  command: "export" | "import",
  args: string[],
): { from: string; to: string; images: boolean; cache?: string } {
  const pos: string[] = [];
  let images = false;
  let cache: string | undefined;
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    if (command === "export" && a === "--images") images = true;
    else if (command === "import" && a === "--cache") {
      cache = args[++i];
      if (cache === undefined) throw new UsageError("--cache needs a value");
    } else if (a.startsWith("-")) throw new UsageError(`unknown option ${a}`);
    else pos.push(a);
  }
  if (pos.length !== 2)
    throw new UsageError(
      command === "export"
        ? "export: give the snapshot directory and the archive: umlab export [--images] <snapshot dir> <archive>"
        : "import: give the archive and the new snapshot directory: umlab import [--cache <dir>] <archive> <dir>",
    );
  return { from: pos[0], to: pos[1], images, cache };
}

const mib = (b: number) => `${(b / 1048576).toFixed(1)} MiB`;

export async function cmdExport(args: string[]): Promise<number> {
  const a = parseShareArgs("export", args);
  const m = await exportSnapshot(a.from, a.to, { images: a.images });
  console.log(
    `exported ${a.from} (${m.guests.length} guests, ${mib(snapshotBytes(m).allocated)} of COW data) to ${a.to}: ` +
      `${mib(fs.statSync(a.to).size)}${a.images ? ", with its backing images" : ""}`,
  );
  return 0;
}

export async function cmdImport(args: string[]): Promise<number> {
  const a = parseShareArgs("import", args);
  const cache = a.cache ?? defaultCacheDir(process.env, os.homedir());
  const m = await importSnapshot(a.from, a.to, cache);
  console.log(
    `imported ${a.from} to ${a.to}: ${m.guests.length} guests, every hash checked; restore it with ` +
      `CowDisk fromSnapshot: { dir: "${a.to}", guest: "<name>" }`,
  );
  return 0;
}
