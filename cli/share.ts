// umlab export [--images] [--program <lab folder>] [--stack <s>] <snapshot dir> <archive>
// umlab import [--cache <dir>] [--stack <s>] [--up] <archive> <new lab folder>
// Share a lab as one archive: its program and stack config, a snapshot of its disks and,
// optionally, its backing images (provider/lab/archive.ts). Import writes a lab folder whose
// stack config sets `umlab:restoreFrom` (sdk/lab.ts), so `--up` (or a later `umlab pulumi up`)
// brings the lab up with its disks restored from the imported snapshot, the program unedited.
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { UsageError } from "./args";
import { exportSnapshot, importSnapshot } from "../provider/lab/archive";
import { defaultCacheDir } from "../provider/image/plan";
import { snapshotBytes } from "../provider/lab/snapshot";
import { run, runAttached } from "../provider/host/process";
import { toolchainBin, labEnv } from "./toolchain";

export interface ShareArgs {
  from: string;
  to: string;
  images: boolean;
  cache?: string;
  program?: string;
  stack?: string;
  up: boolean;
}

/** `[--flag] [--opt <v>] <a> <b>`: the two positionals and the options given. */
export function parseShareArgs(command: "export" | "import", args: string[]): ShareArgs {
  const pos: string[] = [];
  const out: Omit<ShareArgs, "from" | "to"> = { images: false, up: false };
  const value = (name: string, v: string | undefined) => {
    if (v === undefined || v.startsWith("-")) throw new UsageError(`--${name} needs a value`);
    return v;
  };
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    if (command === "export" && a === "--images") out.images = true;
    else if (command === "export" && a === "--program") out.program = value("program", args[++i]);
    else if (command === "import" && a === "--cache") out.cache = value("cache", args[++i]);
    else if (command === "import" && a === "--up") out.up = true;
    else if (a === "--stack") out.stack = value("stack", args[++i]);
    else if (a.startsWith("-")) throw new UsageError(`unknown option ${a}`);
    else pos.push(a);
  }
  if (pos.length !== 2)
    throw new UsageError(
      command === "export"
        ? "export: give the snapshot directory and the archive: umlab export [--images] [--program <lab folder>] [--stack <s>] <snapshot dir> <archive>"
        : "import: give the archive and the new lab folder: umlab import [--cache <dir>] [--stack <s>] [--up] <archive> <folder>",
    );
  return { from: pos[0], to: pos[1], ...out };
}

const mib = (b: number) => `${(b / 1048576).toFixed(1)} MiB`;

export async function cmdExport(args: string[]): Promise<number> {
  const a = parseShareArgs("export", args);
  const program = path.resolve(a.program ?? process.cwd());
  const m = await exportSnapshot(a.from, a.to, { images: a.images, program, stack: a.stack });
  console.log(
    `exported ${a.from} (${m.guests.length} guests, ${mib(snapshotBytes(m).allocated)} of COW data) and the ` +
      `program of ${program} (stack ${a.stack ?? m.stack}) to ${a.to}: ` +
      `${mib(fs.statSync(a.to).size)}${a.images ? ", with its backing images" : ""}`,
  );
  return 0;
}

export async function cmdImport(args: string[]): Promise<number> {
  const a = parseShareArgs("import", args);
  const cache = path.resolve(a.cache ?? defaultCacheDir(process.env, os.homedir()));
  const r = await importSnapshot(a.from, a.to, cache, { stack: a.stack });
  const dest = path.resolve(a.to);
  console.log(
    `imported ${a.from} to ${dest}: ${r.manifest.guests.length} guests, every hash checked; ` +
      `stack ${r.stack} restores from ${r.snapshot} (config umlab:restoreFrom); ` +
      (r.cached.length
        ? `${r.cached.length} image(s) put in ${cache}`
        : `images: from ${cache} (built if absent)`),
  );
  if (!a.up) {
    console.log(`bring it up: cd ${dest} && umlab pulumi stack init ${r.stack} && umlab pulumi up`);
    return 0;
  }
  const bin = await toolchainBin(false);
  const env = { ...labEnv(bin, dest, process.env), UMLAB_CACHE: cache };
  const pulumi = path.join(bin, "pulumi");
  process.umask(0o077);
  // A new stack, never an existing one of that name (it would be brought up from this folder).
  const init = await run(pulumi, ["stack", "init", r.stack, "--non-interactive"], {
    cwd: dest,
    env,
    allowFailure: true,
  });
  if (init.code !== 0)
    throw new UsageError(
      `import: ${dest} is imported, but stack "${r.stack}" cannot be made (${init.stderr.trim()}): ` +
        `bring it up with another name: cd ${dest} && umlab pulumi stack init <name> && umlab pulumi up`,
    );
  return runAttached(pulumi, ["up", "--yes", "--non-interactive"], { cwd: dest, env });
}
