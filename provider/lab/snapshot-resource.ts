// The Snapshot resource: a snapshot of the named guests' disks taken at create (snapshot.ts),
// kept until the resource is deleted, which removes its directory.
import * as fs from "fs";
import * as path from "path";
import { snapshotSchema, snapshotPolicy, SnapshotInputs } from "../core/schemas";
import { defineProvider } from "../core/define";
import { takeSnapshot, removeSnapshot, snapshotBytes } from "./snapshot";
import { ensureOwnedDir } from "./owned";

export interface SnapshotOutputs extends SnapshotInputs {
  createdAt: string;
  /** Apparent and allocated bytes of the snapshot's COW files. */
  bytes: number;
  allocated: number;
}

export const snapshotProvider = defineProvider<SnapshotInputs, SnapshotOutputs>({
  schema: snapshotSchema,
  policy: snapshotPolicy,

  async create(i) {
    const guests = i.guests.map((g) => ({
      name: g.name,
      paused: g.paused === true,
      disks: g.disks.map((d, k) => {
        if (!d.backing)
          throw new Error(
            `Snapshot ${i.name}: guest "${g.name}" disk ${k} (${d.path}) is a plain disk: only COW disks are snapshotted`,
          );
        return { path: d.path, backing: d.backing };
      }),
    }));
    // The snapshots folder is this user's own, like the runtime root (owned.ts).
    const parent = path.dirname(i.dir);
    if (path.basename(parent) === "snapshots" && !fs.existsSync(parent))
      ensureOwnedDir(parent, "the snapshots folder");
    const m = await takeSnapshot({ ...i, guests, outputs: i.outputs as Record<string, unknown> });
    return { id: i.dir, outs: { ...i, createdAt: m.createdAt, ...snapshotBytes(m) } };
  },

  // Kept while its directory is there; a removed one is taken again by the next up.
  read(o) {
    return fs.existsSync(path.join(o.dir, "manifest.json")) ? o : undefined;
  },

  async delete(o) {
    removeSnapshot(o.dir);
  },
});
