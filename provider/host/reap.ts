// Orphans: processes of a lab that no state records (an interrupted `pulumi up`, a killed
// provider, a create that failed half-way). Found by their command line (and working
// directory), which names the lab's own paths, and checked again in /proc just before each
// signal, so a reused pid is never taken for one of ours.
import * as fs from "fs";

export interface HostProcess {
  pid: number;
  /** Process group id. */
  pgid: number;
  argv: string[];
  /** Working directory ("" when it cannot be read). */
  cwd: string;
}

function readProcess(pid: number): HostProcess | undefined {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, "utf8");
    const f = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    if (f[0] === "Z" || f[0] === "X") return undefined;
    const argv = fs
      .readFileSync(`/proc/${pid}/cmdline`, "utf8")
      .split("\0")
      .filter((s) => s !== "");
    let cwd = "";
    try {
      cwd = fs.readlinkSync(`/proc/${pid}/cwd`);
    } catch {
      /* another user's process, or gone */
    }
    return { pid, pgid: Number(f[2]), argv, cwd };
  } catch {
    return undefined;
  }
}

/** The process group of this process (never signalled by the reapers below). */
function ownGroup(): number {
  return readProcess(process.pid)?.pgid ?? process.pid;
}

/** Live (non-zombie) processes for which `match` holds. */
export function findProcesses(match: (p: HostProcess) => boolean): HostProcess[] {
  const out: HostProcess[] = [];
  for (const e of fs.readdirSync("/proc")) {
    if (!/^\d+$/.test(e) || Number(e) === process.pid) continue;
    const p = readProcess(Number(e));
    if (p && match(p)) out.push(p);
  }
  return out;
}

/** Does the path `dir` (or something under it) appear in this process's argv or cwd? */
export function mentions(p: HostProcess, dir: string): boolean {
  const under = (s: string) => s === dir || s.includes(`${dir}/`);
  return p.argv.some(under) || p.cwd === dir || p.cwd.startsWith(`${dir}/`);
}

/**
 * SIGCONT (a stopped process ignores the rest) then SIGKILL: to the whole group when its leader
 * matches too (a lab process started in its own session, with its helpers), else to the pid
 * alone (e.g. a `tail` of a lab log started by some script: never the script's whole group).
 */
function killProcess(p: HostProcess, own: number, match: (p: HostProcess) => boolean): void {
  const leader = p.pgid === p.pid ? p : readProcess(p.pgid);
  const wholeGroup = p.pgid > 1 && p.pgid !== own && !!leader && match(leader);
  const target = wholeGroup ? -p.pgid : p.pid;
  for (const sig of ["SIGCONT", "SIGKILL"] as const) {
    try {
      process.kill(target, sig);
    } catch {
      /* gone meanwhile */
    }
  }
}

/**
 * SIGCONT + SIGKILL every process for which `match` holds, with its process group when the
 * group's leader matches too (each re-checked in /proc just before it is signalled; never this
 * process's own group); does not wait.
 */
export function killMatching(match: (p: HostProcess) => boolean): HostProcess[] {
  const own = ownGroup();
  const found = findProcesses(match);
  for (const p of found) {
    const now = readProcess(p.pid); // pid reuse: still the process we matched?
    if (now && match(now)) killProcess(now, own, match);
  }
  return found;
}

async function waitGone(match: (p: HostProcess) => boolean, timeoutMs: number): Promise<HostProcess[]> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const left = findProcesses(match);
    if (left.length === 0 || Date.now() >= deadline) return left;
    await new Promise((r) => setTimeout(r, 50));
  }
}

/**
 * Kill (SIGCONT + SIGKILL, whole process groups) every process for which `match` holds, each
 * re-checked in /proc just before it is signalled; wait until none is left. Returns how many
 * were found; throws naming the survivors when some outlive `timeoutMs`.
 */
export async function reapMatching(
  match: (p: HostProcess) => boolean,
  what: string,
  timeoutMs = 10_000,
): Promise<number> {
  const found = killMatching(match);
  if (found.length === 0) return 0;
  const left = await waitGone(match, timeoutMs);
  if (left.length > 0)
    throw new Error(
      `could not stop ${left.length} process(es) of ${what}: ` +
        left.map((p) => `${p.pid} (${p.argv.join(" ").slice(0, 120)})`).join(", "),
    );
  return found.length;
}

/** Every process whose argv or cwd mentions `dir` (a lab directory): killed with its group. */
export async function reapUnder(dir: string, timeoutMs = 10_000): Promise<number> {
  if (!dir.startsWith("/") || dir.replace(/\/+$/, "") === "")
    throw new Error(`refusing to reap under ${dir}`);
  return reapMatching((p) => mentions(p, dir), dir, timeoutMs);
}

/**
 * Stop the previous run of a thing before a create starts it again: a process of the program
 * `cmd` (its argv[0]'s base name) whose argv has every one of `words` as a whole argument.
 */
export function reapPrevious(cmd: string, words: string[], what: string): Promise<number> {
  return reapMatching(
    (p) => (p.argv[0] ?? "").split("/").pop() === cmd && words.every((w) => p.argv.includes(w)),
    what,
  );
}
