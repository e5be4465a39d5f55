// Merging a guest's COW disk with its backing file into a new image (`uml_moo`), and the
// guarded in-place merge (`uml_moo -d`). The COW file must not change while it is merged:
// a merge refuses while its guest runs (halt it first) and checks afterwards that the file
// did not change. A new image is written to a temp file beside its final path and published
// with link(2)/rename(2): nothing half-written is ever at a final path. In the cache its key
// is the sha256 of its bytes (content-addressed: the same merge twice is one file).
import * as crypto from "crypto";
import * as fs from "fs";
import * as path from "path";
import { run } from "../host/process";
import { processesHolding } from "../host/holders";
import { dependentsOf, inPlaceDecision } from "../disk/dependents";
import { cowInUse, fileId, readCowHeader, scanCowFiles } from "../disk/scan";
import { sha256File, sidecarPath, writeSidecar } from "./cache";
import { imagePath } from "./plan";

/** A merge refused or failed for a reason the user can fix; the message says how. */
export class MergeError extends Error {}

export interface MergeRequest {
  /** The COW file. */
  cow: string;
  /** Its backing file (default: the one its header names). */
  backing?: string;
  /** The image cache (`<cacheDir>/images/<sha256>.img`). */
  cacheDir: string;
  /** Write the new image here instead of into the cache (must not exist). */
  into?: string;
  /** Runtime roots whose labs' COW files are considered (running guests, dependents). */
  roots: string[];
  log?: (message: string) => void;
}

export interface MergeResult {
  path: string;
  sha256: string;
  /** The cache key (the sha256) when the image went into the cache, else "". */
  key: string;
  sizeBytes: number;
  allocatedBytes: number;
  cow: string;
  backing: string;
}

interface Source {
  cow: string;
  backing: string;
  before: fs.Stats;
}

/** The COW file, its backing, and a refusal when its guest may still write it. */
function source(req: MergeRequest): Source & { facts: ReturnType<typeof scanCowFiles> } {
  const cow = path.resolve(req.cow);
  let header;
  try {
    header = readCowHeader(cow);
  } catch (e) {
    throw new MergeError(`cannot merge: ${(e as Error).message} (give a guest's COW file)`);
  }
  const backing = path.resolve(req.backing ?? header.backing);
  const st = fs.statSync(backing, { throwIfNoEntry: false });
  if (!st?.isFile())
    throw new MergeError(
      `cannot merge ${cow}: its backing file ${backing} is not a regular file` +
        (req.backing ? "" : " (give the right one with --backing)"),
    );
  const facts = scanCowFiles(req.roots);
  const busy = cowInUse(cow, facts);
  if (busy)
    throw new MergeError(
      `cannot merge ${cow}: ${busy}; the COW file must not change while it is merged. ` +
        `Halt the guest first (umlab exec <guest> -- halt, or uml_mconsole <its mconsole> halt), then merge.`,
    );
  return { cow, backing, before: fs.statSync(cow), facts };
}

function unchanged(a: fs.Stats, b: fs.Stats): boolean {
  return a.ino === b.ino && a.size === b.size && a.mtimeMs === b.mtimeMs && a.ctimeMs === b.ctimeMs;
}

/** Merge the COW file and its backing into a new image (the cache, or `into`). */
export async function mergeCow(req: MergeRequest): Promise<MergeResult> {
  const log = req.log ?? (() => {});
  const src = source(req);
  const into = req.into === undefined ? undefined : path.resolve(req.into);
  if (into !== undefined && fs.existsSync(into))
    throw new MergeError(`--into: ${into} exists; give a new path (a merge never overwrites a file)`);
  const cacheDir = path.resolve(req.cacheDir);
  const dir = into !== undefined ? path.dirname(into) : path.join(cacheDir, "images");
  fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
  // Named like the cache's temp builds (cache.ts tempOwner): pruning leaves a live one alone.
  const tag = crypto.createHash("sha256").update(src.cow).digest("hex").slice(0, 12);
  const tmp = fs.mkdtempSync(path.join(dir, `.tmp-${tag}-${process.pid}-`));
  try {
    const tmpImage = path.join(tmp, "image.img");
    log(`merging ${src.cow} over ${src.backing}`);
    await run("uml_moo", ["-b", src.backing, src.cow, tmpImage], { timeoutMs: 30 * 60_000 });
    const after = fs.statSync(src.cow);
    const busy = cowInUse(src.cow, src.facts);
    if (!unchanged(src.before, after) || busy)
      throw new MergeError(
        `the COW file ${src.cow} changed while it was merged${busy ? ` (${busy})` : ""}; nothing was published. Halt its guest and merge again.`,
      );
    const sha256 = await sha256File(tmpImage);
    fs.chmodSync(tmpImage, 0o444);
    let final: string;
    if (into !== undefined) {
      final = into;
      fs.linkSync(tmpImage, final); // EEXIST if it appeared meanwhile: never overwritten
    } else {
      final = imagePath(cacheDir, sha256);
      const sideTmp = path.join(tmp, "image.sha256");
      writeSidecar(tmpImage, sha256, sideTmp);
      try {
        fs.linkSync(tmpImage, final);
        fs.renameSync(sideTmp, sidecarPath(final));
      } catch (e) {
        // The same bytes were published before (content-addressed): keep that copy.
        if ((e as NodeJS.ErrnoException).code !== "EEXIST") throw e;
        log(`image ${sha256.slice(0, 12)} is already in the cache`);
      }
    }
    const st = fs.statSync(final);
    log(`merged into ${final}`);
    return {
      path: final,
      sha256,
      key: into === undefined ? sha256 : "",
      sizeBytes: st.size,
      allocatedBytes: st.blocks * 512,
      cow: src.cow,
      backing: src.backing,
    };
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
}

/** Is `p` inside the cache's images folder? */
function inCache(p: string, cacheDir: string): boolean {
  const real = (x: string) => {
    try {
      return fs.realpathSync(x);
    } catch {
      return path.resolve(x);
    }
  };
  const rel = path.relative(real(path.join(cacheDir, "images")), real(p));
  return rel !== "" && !rel.startsWith("..") && !path.isAbsolute(rel);
}

/**
 * Merge the COW file into its backing file in place (`uml_moo -d`), only when no other COW
 * file depends on the backing and it is not a cache image; else MergeError naming each
 * dependent (lab, guest, file). The backing must also not be open in any process.
 */
export async function mergeInPlace(req: Omit<MergeRequest, "into">): Promise<{ backing: string }> {
  const src = source(req);
  const dependents = dependentsOf(fileId(src.backing), fileId(src.cow), src.facts);
  const decision = inPlaceDecision({
    cow: src.cow,
    backing: src.backing,
    dependents,
    backingInCache: inCache(src.backing, req.cacheDir),
    openBy: processesHolding(src.backing).map((h) => `${h.pid} (${h.cmd.split(" ")[0]})`),
  });
  if (!decision.ok) throw new MergeError(decision.message);
  // uml_moo reads -d before -b (the other order fails: "COW file open").
  await run("uml_moo", ["-d", "-b", src.backing, src.cow], { timeoutMs: 30 * 60_000 });
  return { backing: src.backing };
}
