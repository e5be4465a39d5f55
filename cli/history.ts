// umlab history <stack>: the file backend's checkpoint history of a stack
// (`<backend>/.pulumi/history/<project>/<stack>/<stack>-<n>.{history,checkpoint}.json`), each
// update with its result, its resource changes, the git commit it ran from and the guests its
// checkpoint records, and what re-applying a prior state can and cannot restore.
import * as fs from "fs";
import * as path from "path";
import { UsageError } from "./args";
import { projectDir, fileBackendDir, fileBackendUrl } from "./toolchain";

export interface HistoryRow {
  /** The file name stem: `<stack>-<n>`. */
  id: string;
  kind: string;
  result: string;
  startTime: number;
  changes: Record<string, number>;
  gitHead?: string;
  gitDirty?: boolean;
  /** The checkpoint written with it (the state after the update), if kept. */
  checkpoint?: string;
  /** Guests in that checkpoint. */
  guests: string[];
}

/** One history entry from its parsed JSON and its checkpoint's (pure; bad entries are skipped). */
export function historyRow(
  id: string,
  history: unknown,
  checkpoint?: { file: string; json: unknown },
): HistoryRow | undefined {
  const h = history as Record<string, any> | null;
  if (!h || typeof h !== "object" || typeof h.startTime !== "number") return undefined;
  const env = (h.environment ?? {}) as Record<string, string>;
  const resources = ((checkpoint?.json as any)?.checkpoint?.latest?.resources ?? []) as {
    type?: string;
    urn?: string;
  }[];
  const guests = resources
    .filter((r) => String(r.type ?? "").endsWith("umlab:Guest"))
    .map(
      (r) =>
        String(r.urn ?? "")
          .split("::")
          .pop() ?? "",
    )
    .sort();
  return {
    id,
    kind: String(h.kind ?? "?"),
    result: String(h.result ?? "?"),
    startTime: h.startTime,
    changes: (h.resourceChanges ?? {}) as Record<string, number>,
    gitHead: env["git.head"],
    gitDirty: env["git.dirty"] === undefined ? undefined : env["git.dirty"] === "true",
    checkpoint: checkpoint?.file,
    guests,
  };
}

const SIGN: Record<string, string> = { create: "+", delete: "-", update: "~", replace: "+-", same: "=" };

/** The listing, newest first, and the honest note (pure). */
export function formatHistory(stack: string, dir: string, rows: HistoryRow[]): string {
  const out = [`history of stack ${stack} (${dir}), newest first:`];
  if (!rows.length) out.push("  (no updates recorded)");
  const sorted = [...rows].sort((a, b) => b.startTime - a.startTime);
  sorted.forEach((r, i) => {
    const when = new Date(r.startTime * 1000).toISOString().replace("T", " ").slice(0, 19);
    const changes = Object.entries(r.changes)
      .map(([k, n]) => `${SIGN[k] ?? k}${n}`)
      .join(" ");
    const git = r.gitHead
      ? `git ${r.gitHead.slice(0, 12)}${r.gitDirty ? " (dirty: uncommitted changes)" : ""}`
      : "no git";
    out.push(`  #${sorted.length - i} ${when} ${r.kind} ${r.result}  ${changes || "-"}  ${git}`);
    out.push(
      `      guests: ${r.guests.join(" ") || "(none)"}${r.checkpoint ? `; state: ${r.checkpoint}` : ""}`,
    );
  });
  out.push(
    "",
    "Re-applying a prior state:",
    "  - the lab's shape CAN come back: check out the commit an update ran from",
    "    (git checkout <commit> -- .) and `umlab pulumi up`; the preview shows the inverse changes,",
    '    untouched guests keep running (README, "Rolling back a lab"). A dirty entry ran from',
    "    uncommitted code: that version is not in git.",
    "  - `umlab pulumi stack import --file <state>` only rewrites Pulumi's record: it does not start,",
    "    stop or re-create a guest, and the record then disagrees with the host until",
    "    `umlab pulumi refresh` (which drops what is gone) and `up` (which re-creates it).",
    "  - Neither restores data: guests' disks (COW files), files written in guests, captures and",
    "    logs are not in a checkpoint; a re-created guest boots a fresh COW file over its image.",
    "    Keep disks with a snapshot, or merge one into an image (umlab merge).",
  );
  return out.join("\n");
}

/** The stack's history folder in a file backend (`file://` URL), project-scoped or legacy. */
export function historyDir(backendUrl: string, project: string, stack: string): string {
  const dir = fileBackendDir(backendUrl);
  if (!dir) throw new UsageError(`history: the backend ${backendUrl} is not a file backend (file://...)`);
  const root = path.join(dir, ".pulumi", "history");
  const scoped = path.join(root, project, stack);
  return fs.existsSync(scoped) || !fs.existsSync(path.join(root, stack)) ? scoped : path.join(root, stack);
}

export async function cmdHistory(args: string[]): Promise<number> {
  const stack = args[0] ?? process.env.UMLAB_STACK;
  if (!stack || args.length > 1 || stack.startsWith("-"))
    throw new UsageError("history: usage: umlab history <stack> (run in the lab's project folder)");
  const project = projectDir(process.cwd());
  if (!project)
    throw new UsageError("history: no Pulumi.yaml here or above: run it in the lab's project folder");
  const name = /^name:\s*(\S+)/m.exec(fs.readFileSync(path.join(project, "Pulumi.yaml"), "utf8"))?.[1];
  if (!name) throw new UsageError(`history: ${project}/Pulumi.yaml has no name`);
  const backend = process.env.PULUMI_BACKEND_URL || fileBackendUrl(path.join(project, ".pulumi-state"));
  const dir = historyDir(backend, name, stack);
  const rows: HistoryRow[] = [];
  let files: string[] = [];
  try {
    files = fs.readdirSync(dir);
  } catch {
    throw new UsageError(
      `history: no history of stack ${stack} in ${dir} (is it the right stack and backend?)`,
    );
  }
  const readJson = (f: string) => {
    try {
      return JSON.parse(fs.readFileSync(path.join(dir, f), "utf8")) as unknown;
    } catch {
      return undefined;
    }
  };
  for (const f of files.filter((x) => x.endsWith(".history.json"))) {
    const id = f.replace(/\.history\.json$/, "");
    const cp = `${id}.checkpoint.json`;
    const row = historyRow(
      id,
      readJson(f),
      files.includes(cp) ? { file: path.join(dir, cp), json: readJson(cp) } : undefined,
    );
    if (row) rows.push(row);
  }
  console.log(formatHistory(stack, dir, rows));
  return 0;
}
