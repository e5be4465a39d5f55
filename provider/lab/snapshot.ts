// Taking a snapshot of a running lab's disks (the manifest contract: snapshot-manifest.ts).
// Each guest is quiesced (a filesystem `sync` through its exec agent, then mconsole `stop`),
// every COW file is copied sparsely (`cp --reflink=auto --sparse=always`), and every guest gets
// `go` again, whatever failed. The guests keep running: their boot ids do not change. The
// snapshot is written into a temp dir beside its final path and renamed into place last, so
// the final path never holds a half-written snapshot.
import * as fs from "fs";
import * as path from "path";
import * as host from "../host/process";
import { mconsole } from "../host/mconsole";
import * as naming from "../core/naming";
import { execInGuest } from "../exec/agent";
import { sha256File, cachedSha256 } from "../image/cache";
import { Manifest, MANIFEST_FORMAT, MANIFEST_FILE, diskFileName } from "./snapshot-manifest";

export interface SnapshotDisk {
  /** The COW file. */
  path: string;
  /** Its backing image. */
  backing: string;
}

export interface SnapshotSpec {
  labDir: string;
  /** The snapshot's final directory (must not exist yet). */
  dir: string;
  name: string;
  project: string;
  stack: string;
  outputs: Record<string, unknown>;
  /** `paused`: frozen as a fault (Guest `paused`): not synced (it cannot run), left paused after. */
  guests: { name: string; disks: SnapshotDisk[]; paused?: boolean }[];
}

/** Where snapshots live by default: `<runtime root>/snapshots/<project>.<stack>.<name>`. */
export function defaultSnapshotDir(root: string, project: string, stack: string, name: string): string {
  return `${root}/snapshots/${project}.${stack}.${name}`;
}

/** An image in the cache (`<cache>/images/<key>.img`): its key. */
function imageKey(p: string): string | undefined {
  const m = /^([0-9a-f]{64})\.img$/.exec(path.basename(p));
  return m && path.basename(path.dirname(p)) === "images" ? m[1] : undefined;
}

/** The Image facts a manifest records for a backing file (path, sha256, cache key). */
async function describeBacking(
  p: string,
): Promise<{ path: string; sha256: string; key?: string; sizeBytes: number }> {
  const key = imageKey(p);
  // A cached image's hash is remembered beside it; any other file is hashed.
  const sha256 = key ? await cachedSha256(p) : await sha256File(p);
  return { path: p, sha256, ...(key ? { key } : {}), sizeBytes: fs.statSync(p).size };
}

/** The sparse copy (reflink where the filesystem has it). */
async function sparseCopy(from: string, to: string): Promise<void> {
  await host.run("cp", ["--reflink=auto", "--sparse=always", "--", from, to], { timeoutMs: 600_000 });
}

/** Quiesce every guest, copy every disk, then resume every guest, whatever failed. */
async function copyQuiesced(spec: SnapshotSpec, tmp: string, copy: typeof sparseCopy): Promise<void> {
  // Flush each guest's page cache to its COW file first (the writes land in the host's file).
  await Promise.all(
    spec.guests
      .filter((g) => !g.paused)
      .map(async (g) => {
        const r = await execInGuest(spec.labDir, g.name, ["sync"], { timeoutMs: 60_000 });
        if (r.exitCode !== 0)
          throw new Error(`snapshot: sync in guest "${g.name}" failed: ${r.stderr.trim()}`);
      }),
  );
  const sockets = spec.guests.map((g) => naming.guestPaths(spec.labDir, g.name).mconsole);
  let failure: unknown;
  try {
    for (const [k, s] of sockets.entries()) {
      if (spec.guests[k].paused) continue; // stopped already
      const r = await mconsole.stop(s);
      if (!r.ok)
        throw new Error(`snapshot: cannot stop guest "${spec.guests[k].name}" (mconsole: ${r.text})`);
    }
    for (const g of spec.guests)
      for (const [k, d] of g.disks.entries()) await copy(d.path, path.join(tmp, diskFileName(g.name, k)));
  } catch (e) {
    failure = e;
  }
  // Every guest, stopped or not (a `go` to a running guest is harmless, a missed one freezes
  // it), except those paused before, which stay paused.
  const stuck: string[] = [];
  for (const [k, s] of sockets.entries())
    if (!spec.guests[k].paused && !(await mconsole.go(s)).ok) stuck.push(spec.guests[k].name);
  const resume = stuck.length ? `; could not resume guest(s) ${stuck.join(", ")} (mconsole go)` : "";
  if (failure) throw resume ? new Error(`${(failure as Error).message}${resume}`) : failure;
  if (resume) throw new Error(`snapshot${resume}`);
}

/**
 * Take the snapshot `spec` describes; returns its manifest. Nothing is left at `dir` on failure.
 * `copy` is the file copy (a test gives a failing one to show the guests are resumed anyway).
 */
export async function takeSnapshot(spec: SnapshotSpec, copy = sparseCopy): Promise<Manifest> {
  if (fs.existsSync(spec.dir))
    throw new Error(`snapshot "${spec.name}": ${spec.dir} exists already: delete it or choose another name`);
  for (const g of spec.guests)
    for (const d of g.disks)
      if (!fs.statSync(d.path, { throwIfNoEntry: false })?.isFile())
        throw new Error(
          `snapshot "${spec.name}": guest "${g.name}" has no COW file ${d.path}: is the lab up?`,
        );
  const parent = path.dirname(spec.dir);
  fs.mkdirSync(parent, { recursive: true, mode: 0o700 });
  const tmp = fs.mkdtempSync(path.join(parent, `.${path.basename(spec.dir)}.tmp-`));
  try {
    fs.mkdirSync(path.join(tmp, "disks"));
    await copyQuiesced(spec, tmp, copy);
    const guests: Manifest["guests"] = [];
    for (const g of spec.guests) {
      const disks: Manifest["guests"][number]["disks"] = [];
      for (const [k, d] of g.disks.entries()) {
        const file = diskFileName(g.name, k);
        const st = fs.statSync(path.join(tmp, file));
        const b = await describeBacking(d.backing);
        disks.push({
          index: k,
          file,
          sha256: await sha256File(path.join(tmp, file)),
          bytes: st.size,
          allocated: st.blocks * 512,
          backing: { path: b.path, sha256: b.sha256 },
          name: path.basename(d.path, ".cow"),
        });
      }
      guests.push({ name: g.name, image: await describeBacking(g.disks[0].backing), disks });
    }
    const manifest: Manifest = {
      format: MANIFEST_FORMAT,
      name: spec.name,
      createdAt: new Date().toISOString(),
      project: spec.project,
      stack: spec.stack,
      outputs: spec.outputs,
      guests,
    };
    fs.writeFileSync(path.join(tmp, MANIFEST_FILE), JSON.stringify(manifest, null, 2) + "\n", {
      mode: 0o600,
    });
    fs.renameSync(tmp, spec.dir);
    return manifest;
  } catch (e) {
    fs.rmSync(tmp, { recursive: true, force: true });
    throw e;
  }
}

/** Remove a snapshot directory (only one that holds a manifest, so a wrong path is not wiped). */
export function removeSnapshot(dir: string): void {
  if (!fs.existsSync(dir)) return;
  if (!fs.existsSync(path.join(dir, MANIFEST_FILE)))
    throw new Error(`snapshot ${dir} has no ${MANIFEST_FILE}: not removing a directory umlab did not write`);
  fs.rmSync(dir, { recursive: true, force: true });
}

/** A manifest's size facts: total apparent and allocated bytes of its COW files. */
export function snapshotBytes(m: Manifest): { bytes: number; allocated: number } {
  let bytes = 0;
  let allocated = 0;
  for (const g of m.guests)
    for (const d of g.disks) {
      bytes += d.bytes;
      allocated += d.allocated;
    }
  return { bytes, allocated };
}
