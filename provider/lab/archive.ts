// Sharing a lab: one archive (tar, sparse-aware, gzip) holding the lab's program and stack
// config (program.ts: `program/`, `program.json` with every file's sha256), the snapshot's
// manifest and COW files, and, optionally, its backing images (`images/<sha256>.img`, one per
// content). Import extracts into a temp dir beside the new lab folder, verifies every hash,
// lays the folder out (program, `Pulumi.<stack>.yaml` with `umlab:restoreFrom`, `snapshot/`),
// puts the carried images into the image cache and renames the folder into place last: a
// damaged archive or a hash mismatch leaves no folder and no cache entry behind.
import * as fs from "fs";
import * as path from "path";
import * as host from "../host/process";
import { sha256File, writeSidecar } from "../image/cache";
import { verifySnapshot, MANIFEST_FILE, Manifest } from "./snapshot-manifest";
import {
  programFiles,
  stageProgram,
  verifyProgram,
  withRestoreFrom,
  PROGRAM_DIR,
  PROGRAM_INDEX,
  STACK_CONFIG,
} from "./program";

/** Where an imported lab folder keeps its snapshot. */
export const IMPORTED_SNAPSHOT = "snapshot";

/** The distinct backing images of a snapshot, by sha256. */
function imagesOf(m: Manifest): Map<string, { path: string; key?: string }> {
  const out = new Map<string, { path: string; key?: string }>();
  for (const g of m.guests) out.set(g.image.sha256, { path: g.image.path, key: g.image.key });
  return out;
}

export interface ExportOptions {
  /** Carry the backing images. */
  images?: boolean;
  /** The lab folder whose program goes in (Pulumi.yaml there). */
  program: string;
  /** The stack whose config goes in (default: the snapshot's stack). */
  stack?: string;
}

/** Write the snapshot at `dir` (verified first) and the lab's program to the archive `file`. */
export async function exportSnapshot(dir: string, file: string, opts: ExportOptions): Promise<Manifest> {
  programFiles(opts.program); // a folder that is not a lab's is refused before any hashing
  const m = await verifySnapshot(dir);
  const tmp = `${file}.tmp-${process.pid}`;
  const stage = fs.mkdtempSync(path.join(path.dirname(path.resolve(file)), ".umlab-export-"));
  try {
    stageProgram(opts.program, opts.stack ?? m.stack, stage);
    const parts: string[] = ["-C", dir, MANIFEST_FILE, "disks", "-C", stage, PROGRAM_INDEX, PROGRAM_DIR];
    if (opts.images) {
      fs.mkdirSync(path.join(stage, "images"));
      for (const [sha, img] of imagesOf(m)) {
        if ((await sha256File(img.path)) !== sha)
          throw new Error(
            `export: the backing image ${img.path} is not the one the snapshot was made over (sha256 differs)`,
          );
        await host.run("cp", [
          "--reflink=auto",
          "--sparse=always",
          "--",
          img.path,
          path.join(stage, "images", `${sha}.img`),
        ]);
      }
      parts.push("images");
    }
    await host.run("tar", ["--sparse", "-czf", tmp, ...parts], { timeoutMs: 3_600_000 });
    fs.renameSync(tmp, file);
    return m;
  } finally {
    fs.rmSync(tmp, { force: true });
    fs.rmSync(stage, { recursive: true, force: true });
  }
}

export interface Imported {
  manifest: Manifest;
  /** The lab folder's stack (its config is `Pulumi.<stack>.yaml`). */
  stack: string;
  /** The snapshot inside the folder (what `umlab:restoreFrom` names). */
  snapshot: string;
  /** Cache images written (paths); images already cached are reused. */
  cached: string[];
}

/**
 * Import the archive `file` as the new lab folder `dest` (which must not exist): every hash
 * checked; carried images go to `<cacheDir>/images/<key>.img` when absent there.
 */
export async function importSnapshot(
  file: string,
  dest: string,
  cacheDir: string,
  opts: { stack?: string } = {},
): Promise<Imported> {
  dest = path.resolve(dest);
  if (fs.existsSync(dest)) throw new Error(`import: ${dest} exists already: choose another directory`);
  if (opts.stack !== undefined && !/^[A-Za-z0-9_.-]{1,100}$/.test(opts.stack))
    throw new Error(`import: --stack "${opts.stack}" is not a stack name (letters, digits, '-', '_', '.')`);
  const parent = path.dirname(dest);
  fs.mkdirSync(parent, { recursive: true, mode: 0o700 });
  const tmp = fs.mkdtempSync(path.join(parent, `.${path.basename(dest)}.import-`));
  const cached: string[] = [];
  try {
    const x = path.join(tmp, "x");
    fs.mkdirSync(x);
    const r = await host.run("tar", ["--sparse", "--no-same-owner", "-xzf", file, "-C", x], {
      allowFailure: true,
      timeoutMs: 3_600_000,
    });
    if (r.code !== 0)
      throw new Error(`import: ${file} is not a readable umlab archive (tar: ${r.stderr.trim()})`);
    // Only plain files and folders: a link planted in the archive is never followed.
    for (const e of fs.readdirSync(x, { recursive: true }) as string[]) {
      const st = fs.lstatSync(path.join(x, e));
      if (!st.isFile() && !st.isDirectory())
        throw new Error(`import: ${file} holds ${e}, which is not a plain file or folder: refused`);
    }
    const m = await verifySnapshot(x).catch((e) => {
      throw new Error(`import: ${file}: ${(e as Error).message.replace(x, "the archive")}`);
    });
    const program = verifyProgram(x, file);
    const carried = path.join(x, "images");
    const images: { from: string; target: string; sha: string }[] = [];
    for (const [sha, img] of imagesOf(m)) {
      const f = path.join(carried, `${sha}.img`);
      if (!fs.lstatSync(f, { throwIfNoEntry: false })?.isFile()) continue;
      if ((await sha256File(f)) !== sha)
        throw new Error(`import: ${file}: images/${sha}.img is damaged (sha256 differs)`);
      if (img.key) images.push({ from: f, target: path.join(cacheDir, "images", `${img.key}.img`), sha });
    }
    // Everything checked: lay out the folder (program, config, snapshot/).
    const stack = opts.stack ?? program.stack;
    const lab = path.join(tmp, "lab");
    fs.renameSync(path.join(x, PROGRAM_DIR), lab);
    const config = path.join(lab, STACK_CONFIG);
    const text = fs.existsSync(config) ? fs.readFileSync(config, "utf8") : undefined;
    fs.rmSync(config, { force: true });
    const snapshot = path.join(dest, IMPORTED_SNAPSHOT);
    fs.writeFileSync(path.join(lab, `Pulumi.${stack}.yaml`), withRestoreFrom(text, snapshot));
    fs.mkdirSync(path.join(lab, IMPORTED_SNAPSHOT), { mode: 0o700 });
    for (const f of [MANIFEST_FILE, "disks"])
      fs.renameSync(path.join(x, f), path.join(lab, IMPORTED_SNAPSHOT, f));
    for (const i of images) {
      if (fs.existsSync(i.target)) continue; // reused: the cache's own check applies
      fs.mkdirSync(path.dirname(i.target), { recursive: true });
      cached.push(i.target);
      await host.run("cp", ["--reflink=auto", "--sparse=always", "--", i.from, `${i.target}.tmp`]);
      // Read-only for all, as every published image (guests may run as a user of their own).
      fs.chmodSync(`${i.target}.tmp`, 0o444);
      fs.renameSync(`${i.target}.tmp`, i.target);
      writeSidecar(i.target, i.sha);
    }
    fs.renameSync(lab, dest);
    return { manifest: m, stack, snapshot, cached };
  } catch (e) {
    for (const c of cached) for (const f of [c, `${c}.tmp`, `${c}.sha256`]) fs.rmSync(f, { force: true });
    throw e;
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
}
