// Shared by the integration tests and benches: the Pulumi CLI on PATH, a sandbox per test, and
// cleanup of whatever process groups a failed run left behind under a runtime dir.
import * as child_process from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { REPO } from "./stack";
import { killMatching } from "../../provider/host/reap";
import { waitFor } from "../../provider/host/process";

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
  if (!dir || !has(dir)) throw new Error("the Pulumi toolchain is not built: run `npm run setup` first");
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

/**
 * SIGKILL every process group with a process whose command line or cwd mentions `needle` (a
 * runtime dir); SIGCONT first, so a suspended switch goes too (provider/host/reap.ts).
 */
export function killGroupsMentioning(needle: string): void {
  killMatching((p) => p.argv.join(" ").includes(needle) || p.cwd.startsWith(needle));
}

/** Build dist/ (tsc) when a source the CLI needs is newer than its compiled file. */
export function ensureBuilt(): void {
  const out = path.join(REPO, "dist/cli/umlab.js");
  const sources = [
    ...fs.readdirSync(path.join(REPO, "cli")).map((f) => `cli/${f}`),
    "provider/exec/agent.ts",
    "provider/core/naming.ts",
    "provider/core/ownership.ts",
    "provider/lab/owned.ts",
    "provider/host/process.ts",
  ];
  const stale =
    !fs.existsSync(out) ||
    sources.some((s) => fs.statSync(path.join(REPO, s)).mtimeMs > fs.statSync(out).mtimeMs);
  if (stale)
    child_process.execFileSync("npx", ["tsc", "-p", "tsconfig.json"], { cwd: REPO, stdio: "inherit" });
}

/** A test's own scratch dir, short runtime root (UMLAB_RUNTIME) and Pulumi home. */
export interface LabSandbox {
  scratch: string;
  runtime: string;
  /** Kill the process groups a failed run left under the runtime root, remove both dirs. */
  cleanup(): void;
}

/**
 * Set up a LabSandbox and point this process's UMLAB_RUNTIME and PULUMI_HOME at it.
 * `runtimePrefix` is short: unix socket paths under the runtime root must stay below 108 bytes.
 */
export function labSandbox(tag: string, runtimePrefix: string): LabSandbox {
  ensurePulumiOnPath();
  const scratch = fs.mkdtempSync(path.join(os.tmpdir(), `umlab-${tag}-`));
  const runtime = fs.mkdtempSync(`/tmp/${runtimePrefix}-`);
  process.env.UMLAB_RUNTIME = runtime;
  process.env.PULUMI_HOME = path.join(scratch, "pulumi-home");
  fs.mkdirSync(process.env.PULUMI_HOME);
  return {
    scratch,
    runtime,
    cleanup() {
      killGroupsMentioning(runtime);
      fs.rmSync(runtime, { recursive: true, force: true });
      fs.rmSync(scratch, { recursive: true, force: true });
    },
  };
}

/**
 * Ping from a guest now, through its console shell (the console FIFO the Guest resource gives
 * con0): the exit code comes back through the guest folder. Works without the exec agent.
 */
export async function consolePing(g: { guestDir: string }, target: string, tag = "ping"): Promise<boolean> {
  const name = `${tag}-${target}-${Date.now()}`;
  const result = path.join(g.guestDir, "state", name);
  fs.appendFileSync(
    path.join(g.guestDir, "console.in"),
    `ping -c 2 -W 2 ${target} >/dev/null 2>&1; echo $? > /umlab/state/${name}\n`,
  );
  const done = await waitFor(
    () => fs.existsSync(result) && fs.readFileSync(result, "utf8").trim() !== "",
    30_000,
    100,
  );
  return !!done && fs.readFileSync(result, "utf8").trim() === "0";
}

/** What the test programs export per guest (each takes the fields it needs). */
export interface GuestInfo {
  name: string;
  pid: number;
  guestDir: string;
  bootId: string;
  mconsole: string;
  instance: string;
  consoleLog: string;
}

let consoleSeq = 0;
/**
 * Run a shell line in a guest through its console shell (the console FIFO) and return its
 * exit code and output, which come back through the guest folder.
 */
export async function consoleRun(
  g: Pick<GuestInfo, "name" | "guestDir">,
  line: string,
  timeoutMs = 60_000,
): Promise<{ rc: number; out: string }> {
  const tag = `t${process.pid}-${consoleSeq++}`;
  const rc = path.join(g.guestDir, "state", `${tag}.rc`);
  fs.appendFileSync(
    path.join(g.guestDir, "console.in"),
    `(${line}) > /umlab/state/${tag}.out 2>&1; echo $? > /umlab/state/${tag}.rc\n`,
  );
  const done = await waitFor(
    () => fs.existsSync(rc) && fs.readFileSync(rc, "utf8").trim() !== "",
    timeoutMs,
    100,
  );
  if (!done) throw new Error(`guest ${g.name} did not run: ${line}`);
  return {
    rc: Number(fs.readFileSync(rc, "utf8").trim()),
    out: fs.readFileSync(path.join(g.guestDir, "state", `${tag}.out`), "utf8"),
  };
}

/** How a test runs the built CLI (dist/cli/umlab.js), as a user would: its own process. */
export interface UmlabRun {
  cwd?: string;
  /** Added to the test process's environment. */
  env?: Record<string, string>;
  input?: string;
  timeoutMs?: number;
}

/** `umlab <args>` in a child process (spawnSync: status, stdout, stderr). Default timeout 120 s. */
export function runUmlab(args: string[], opts: UmlabRun = {}): child_process.SpawnSyncReturns<string> {
  return child_process.spawnSync("node", [path.join(REPO, "dist/cli/umlab.js"), ...args], {
    cwd: opts.cwd,
    env: { ...process.env, ...opts.env },
    input: opts.input,
    encoding: "utf8",
    timeout: opts.timeoutMs ?? 120_000,
  });
}
