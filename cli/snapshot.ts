// umlab snapshot [--dir <dir>] <stack> <name>: snapshot the disks of every guest the stack's
// state records (provider/lab/snapshot.ts), with the stack's outputs in the manifest. Default
// directory: `<runtime root>/snapshots/<project>.<stack>.<name>`, as the Snapshot resource's.
import * as path from "path";
import { UsageError } from "./args";
import { exportStack } from "./state";
import { ownLab } from "./labs";
import { takeSnapshot, defaultSnapshotDir, snapshotBytes, SnapshotSpec } from "../provider/lab/snapshot";

type Res = { type?: string; urn?: string; outputs?: Record<string, any> };

/** What to snapshot, from an exported deployment: pure, so it is tested without a stack. */
export function snapshotSpecFromDeployment(
  exported: unknown,
  stack: string,
  name: string,
  dir?: string,
): SnapshotSpec {
  const resources = ((exported as any)?.deployment?.resources ?? []) as Res[];
  const root = resources.find((r) => r.type === "pulumi:pulumi:Stack");
  const project = /^urn:pulumi:[^:]+::([^:]+)::/.exec(root?.urn ?? "")?.[1];
  const labs = resources.filter((r) => String(r.type).endsWith("umlab:LabRuntime") && r.outputs?.dir);
  if (!project || labs.length === 0)
    throw new UsageError(`stack "${stack}" has no lab in its state: is it up?`);
  if (labs.length > 1)
    throw new UsageError(
      `stack "${stack}" has ${labs.length} labs: snapshot them with a Snapshot resource instead`,
    );
  const lab = labs[0].outputs!;
  const guests = resources
    .filter((r) => String(r.type).endsWith("umlab:Guest") && r.outputs?.labDir === lab.dir)
    .map((r) => ({
      name: String(r.outputs!.name),
      paused: r.outputs!.paused === true,
      disks: (r.outputs!.disks ?? []) as { path: string; backing?: string }[],
    }));
  if (guests.length === 0) throw new UsageError(`stack "${stack}": its lab has no guests`);
  for (const g of guests)
    for (const [k, d] of g.disks.entries())
      if (!d.backing)
        throw new UsageError(
          `guest "${g.name}" disk ${k} (${d.path}) is a plain disk: only COW disks are snapshotted`,
        );
  return {
    labDir: String(lab.dir),
    dir: dir ? path.resolve(dir) : defaultSnapshotDir(String(lab.root), project, stack, name),
    name,
    project,
    stack,
    outputs: (root?.outputs ?? {}) as Record<string, unknown>,
    guests: guests.map((g) => ({
      name: g.name,
      paused: g.paused,
      disks: g.disks.map((d) => ({ path: d.path, backing: d.backing! })),
    })),
  };
}

/** Parse `[--dir <dir>] <stack> <name>`. */
export function parseSnapshotArgs(args: string[]): { stack: string; name: string; dir?: string } {
  const pos: string[] = [];
  let dir: string | undefined;
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    if (a === "--dir") {
      dir = args[++i];
      if (dir === undefined) throw new UsageError("--dir needs a value");
    } else if (a.startsWith("--dir=")) dir = a.slice(6);
    else if (a.startsWith("-")) throw new UsageError(`unknown option ${a}`);
    else pos.push(a);
  }
  if (pos.length !== 2)
    throw new UsageError("snapshot: give the stack and the snapshot's name: umlab snapshot <stack> <name>");
  const [stack, name] = pos;
  if (!/^[a-z][a-z0-9-]{0,22}$/.test(name))
    throw new UsageError(
      `snapshot: "${name}" is not a snapshot name (1-23 lower-case letters, digits and '-', starting with a letter)`,
    );
  return { stack, name, dir };
}

export async function cmdSnapshot(args: string[]): Promise<number> {
  const a = parseSnapshotArgs(args);
  const e = await exportStack(process.cwd(), a.stack);
  if (!e) throw new UsageError(`no stack "${a.stack}" in the Pulumi project here (run in the lab's folder)`);
  const spec = snapshotSpecFromDeployment(e.exported, e.stack, a.name, a.dir);
  ownLab(spec.labDir);
  const t0 = Date.now();
  const m = await takeSnapshot(spec);
  const b = snapshotBytes(m);
  console.log(
    `snapshot ${spec.dir}: ${m.guests.length} guest(s), ${(b.allocated / 1048576).toFixed(1)} MiB on disk ` +
      `(${(b.bytes / 1048576).toFixed(0)} MiB apparent), ${Date.now() - t0} ms`,
  );
  return 0;
}
