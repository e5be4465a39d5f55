// Shared by the exec/ospf integration tests and benches: the Pulumi CLI on PATH, and
// cleanup of whatever process groups a failed run left behind under a runtime dir.
import * as child_process from "child_process";
import * as fs from "fs";
import * as path from "path";
import { REPO } from "./stack";

/** Pulumi CLI on PATH: the project's toolchain (scripts/toolchain.sh path). */
export function ensurePulumiOnPath(): void {
  const has = (dir: string) => fs.existsSync(path.join(dir, "pulumi"));
  if ((process.env.PATH ?? "").split(":").some(has)) return;
  let dir = "";
  try {
    dir = child_process
      .execFileSync("bash", [path.join(REPO, "scripts/toolchain.sh"), "path"])
      .toString()
      .trim();
  } catch {
    /* not built */
  }
  if (!dir || !has(dir)) dir = "/tmp/tc/out";
  process.env.PATH = `${dir}:${process.env.PATH}`;
}

/** Live (non-zombie) processes whose command line mentions `needle`, with their process groups. */
export function processesMentioning(needle: string): { pid: number; pgid: number; cmd: string }[] {
  const out: { pid: number; pgid: number; cmd: string }[] = [];
  for (const e of fs.readdirSync("/proc")) {
    if (!/^\d+$/.test(e)) continue;
    try {
      const cmd = fs.readFileSync(`/proc/${e}/cmdline`, "utf8").split("\0").join(" ");
      if (!cmd.includes(needle)) continue;
      const stat = fs.readFileSync(`/proc/${e}/stat`, "utf8");
      const f = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      if (f[0] === "Z") continue;
      out.push({ pid: Number(e), pgid: Number(f[2]), cmd });
    } catch {
      /* gone meanwhile */
    }
  }
  return out;
}

/** SIGKILL every process group with a process whose command line mentions `needle` (a runtime dir). */
export function killGroupsMentioning(needle: string): void {
  for (const p of processesMentioning(needle)) {
    if (p.pgid <= 1 || p.pgid === process.pid) continue;
    try {
      process.kill(-p.pgid, "SIGKILL");
    } catch {
      /* gone */
    }
  }
}

/** Build dist/ (tsc) when a source the CLI needs is newer than its compiled file. */
export function ensureBuilt(): void {
  const out = path.join(REPO, "dist/cli/umlab.js");
  const sources = ["cli/umlab.ts", "provider/exec.ts", "provider/naming.ts", "provider/hosttools.ts"];
  const stale =
    !fs.existsSync(out) ||
    sources.some((s) => fs.statSync(path.join(REPO, s)).mtimeMs > fs.statSync(out).mtimeMs);
  if (stale)
    child_process.execFileSync("npx", ["tsc", "-p", "tsconfig.json"], { cwd: REPO, stdio: "inherit" });
}
