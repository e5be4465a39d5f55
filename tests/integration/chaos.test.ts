// Chaos on real UML under the real Pulumi CLI: `pulumi up` of a 3-guest lab (core-program)
// interrupted at a random point (0.3-5 s after its dynamic provider started) by Ctrl-C twice
// 0.3 s apart (SIGINT to pulumi's process group, as a terminal sends it), by SIGKILL of the
// pulumi process, or by SIGKILL of the dynamic provider's node process; then `pulumi refresh` + `pulumi up` must converge (3
// guests, each the only UML process of its name, switches alive, a ping between two guests)
// and `pulumi destroy` must leave no process, file, socket or netns of the lab. Some runs
// also kill -9 a random guest and a random switch of the converged lab: `up --refresh`
// converges again. Default counts (10 runs) fit `npm test`; UMLAB_CHAOS_RUNS=full (`npm run
// chaos`) runs the issue's 20 SIGINT + 5 + 5 SIGKILL runs, 5 of them with kills mid-lab.
import * as child_process from "child_process";
import * as fs from "fs";
import * as path from "path";
import { REPO, testStack, TestStack } from "../helpers/stack";
import {
  labSandbox,
  LabSandbox,
  processesMentioning,
  consolePing,
  type GuestInfo as LabGuestInfo,
} from "../helpers/lab";
import { buildImage, resolveSpec } from "../../provider/image/provider";
import { processAlive, processInstance, sleep, waitFor } from "../../provider/host/process";
import { findProcesses } from "../../provider/host/reap";

const workDir = path.join(REPO, "tests/integration/core-program");
const FULL = process.env.UMLAB_CHAOS_RUNS === "full";
const COUNTS = FULL
  ? { sigint2: 20, killPulumi: 5, killProvider: 5, killMidLab: 5 }
  : { sigint2: 6, killPulumi: 2, killProvider: 2, killMidLab: 2 };
type Kind = "sigint2" | "killPulumi" | "killProvider";

type GuestInfo = Pick<LabGuestInfo, "name" | "pid" | "guestDir">;

interface Cli {
  code: number | null;
  out: string;
}

let env: NodeJS.ProcessEnv;
let stackName: string;

/** Start a pulumi command in its own process group (signals reach it; see DESIGN.md). */
function startPulumi(args: string[]): { child: child_process.ChildProcess; done: Promise<Cli> } {
  const child = child_process.spawn("pulumi", [...args, "--stack", stackName, "--non-interactive"], {
    cwd: workDir,
    env,
    detached: true,
    stdio: ["ignore", "pipe", "pipe"],
  });
  let out = "";
  child.stdout?.on("data", (d) => (out += d));
  child.stderr?.on("data", (d) => (out += d));
  const done = new Promise<Cli>((resolve) => child.on("close", (code) => resolve({ code, out })));
  return { child, done };
}

async function pulumi(...args: string[]): Promise<Cli> {
  return startPulumi(args).done;
}

async function mustPulumi(...args: string[]): Promise<string> {
  const r = await pulumi(...args);
  if (r.code !== 0) throw new Error(`pulumi ${args.join(" ")} exited ${r.code}\n${r.out.slice(-3000)}`);
  return r.out;
}

/** Every descendant of `pid` (by /proc ppid). */
function descendants(pid: number): number[] {
  const parent = new Map<number, number>();
  for (const e of fs.readdirSync("/proc")) {
    if (!/^\d+$/.test(e)) continue;
    try {
      const stat = fs.readFileSync(`/proc/${e}/stat`, "utf8");
      parent.set(Number(e), Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]));
    } catch {
      /* gone */
    }
  }
  const out: number[] = [];
  const walk = (p: number) => {
    for (const [c, pp] of parent) {
      if (pp !== p) continue;
      out.push(c);
      walk(c);
    }
  };
  walk(pid);
  return out;
}

function cmdline(pid: number): string {
  try {
    return fs.readFileSync(`/proc/${pid}/cmdline`, "utf8");
  } catch {
    return "";
  }
}

/** The dynamic provider's node process among pulumi's descendants. */
function providerOf(pulumiPid: number): number | undefined {
  return descendants(pulumiPid).find((p) => cmdline(p).includes("dynamic-provider"));
}

function tree(dir: string): string[] {
  if (!fs.existsSync(dir)) return [];
  return (fs.readdirSync(dir, { recursive: true }) as string[]).map((p) => path.join(dir, p));
}

describe("chaos: interrupted and killed runs of a 3-guest lab converge and leave nothing", () => {
  let sandbox: LabSandbox | undefined;
  let t: TestStack | undefined;
  let labDir = "";
  const tally = {
    runs: 0,
    sigint2: 0,
    killPulumi: 0,
    killProvider: 0,
    killMidLab: 0,
    converged: 0,
    stragglers: 0,
    umlGroupsAfterInterrupt: 0,
    finishedFirst: 0,
  };

  beforeAll(async () => {
    sandbox = labSandbox("chaos", "uch");
    const image = await buildImage(
      resolveSpec({ preset: "busybox", cacheDir: path.join(sandbox.scratch, "cache") }),
    );
    stackName = `chaos${process.pid}`;
    t = await testStack(workDir, stackName, { backing: image.path });
    env = { ...process.env, ...t.env };
    console.log(
      `chaos counts (${FULL ? "full" : "default; UMLAB_CHAOS_RUNS=full for the issue's"}):`,
      COUNTS,
    );
  }, 300_000);

  afterAll(async () => {
    console.log("chaos tally:", tally);
    await t?.dispose().catch(() => undefined);
    sandbox?.cleanup();
  }, 300_000);

  /** Stack outputs after a converged up: 3 guests, each alive and the only UML run of its name. */
  async function checkConverged(): Promise<GuestInfo[]> {
    const outs = JSON.parse(await mustPulumi("stack", "output", "--json"));
    labDir = outs.labDir;
    const guests = outs.guestInfo as GuestInfo[];
    expect(guests.map((g) => g.name)).toEqual(["g1", "g2", "g3"]);
    for (const g of guests) {
      expect(processInstance(g.pid)).toBeDefined();
      // No orphan of an interrupted run beside it: every UML process naming this guest's umid in
      // this lab is in the recorded guest's process group.
      const uml = findProcesses(
        (p) => p.argv.includes(`umid=${g.name}`) && p.argv.includes(`uml_dir=${labDir}/uml`),
      );
      expect(uml.length).toBeGreaterThan(0);
      expect([...new Set(uml.map((p) => p.pgid))]).toEqual([g.pid]);
    }
    for (const s of Object.values(outs.switches as Record<string, { pid: number }>))
      expect(processAlive(s.pid)).toBe(true);
    // Exactly the lab's own process groups: 3 guests + 2 switches.
    const groups = new Set(processesMentioning(labDir).map((p) => p.pgid));
    expect(groups.size).toBe(5);
    expect(await consolePing(guests[0], "10.0.0.2", "chaos")).toBe(true);
    return guests;
  }

  async function checkDestroyed(): Promise<void> {
    await mustPulumi("destroy", "--yes", "--skip-preview");
    expect(processesMentioning(sandbox!.runtime)).toEqual([]);
    expect(tree(sandbox!.runtime)).toEqual([]);
    if (labDir) expect(fs.existsSync(`/run/netns/umlab-${path.basename(labDir)}`)).toBe(false);
  }

  /** One interrupted up; returns when pulumi and everything it started have exited. */
  async function interruptedUp(kind: Kind, atMs: number): Promise<string> {
    const { child, done } = startPulumi(["up", "--yes", "--skip-preview"]);
    const pid = child.pid as number;
    let ended = false;
    void done.then(() => (ended = true));
    // The delay counts from when the dynamic provider runs (the program before it takes seconds
    // on a loaded machine), so interrupts land among the creates, not before them.
    await waitFor(() => ended || !!providerOf(pid), 60_000, 100);
    await Promise.race([sleep(atMs), done]);
    // What pulumi itself started (not the lab's processes: those are the orphans under test).
    const family = descendants(pid).filter((p) => !cmdline(p).includes(sandbox!.runtime));
    let what = "finished before the interrupt";
    if (processAlive(pid)) {
      if (kind === "sigint2") {
        process.kill(-pid, "SIGINT");
        await sleep(300);
        if (processAlive(pid)) process.kill(-pid, "SIGINT");
        what = "SIGINT x2";
      } else if (kind === "killPulumi") {
        process.kill(pid, "SIGKILL");
        what = "SIGKILL pulumi";
      } else {
        const provider = providerOf(pid);
        if (provider) {
          process.kill(provider, "SIGKILL");
          what = "SIGKILL dynamic provider";
        } else {
          process.kill(pid, "SIGKILL");
          what = "SIGKILL pulumi (no provider yet)";
        }
      }
    }
    if (!(await waitFor(() => ended, 180_000, 100))) throw new Error(`pulumi up did not end after ${what}`);
    const r = await done;
    // What pulumi started (language host, provider) may outlive a SIGKILL: let it finish.
    const left = await waitFor(() => family.every((p) => !processAlive(p)), 30_000, 200);
    if (!left) {
      tally.stragglers++;
      for (const p of family) if (processAlive(p)) process.kill(p, "SIGKILL");
    }
    // Lab processes no state may record now (counted; the next create must stop them).
    const uml = findProcesses((p) => p.argv.some((a) => a.startsWith(`uml_dir=${sandbox!.runtime}/`)));
    const groups = new Set(uml.map((p) => p.pgid)).size;
    tally.umlGroupsAfterInterrupt += groups;
    return `${what} at ${atMs} ms (exit ${r.code}; ${groups} UML process groups running)`;
  }

  /** Recover as a user would: refresh (dropping pending creates) then up. */
  async function recover(): Promise<void> {
    let r = await pulumi("refresh", "--yes", "--skip-preview", "--clear-pending-creates");
    if (r.code !== 0 && /locked/i.test(r.out)) {
      await pulumi("cancel", "--yes");
      r = await pulumi("refresh", "--yes", "--skip-preview", "--clear-pending-creates");
    }
    if (r.code !== 0) throw new Error(`refresh failed:\n${r.out.slice(-3000)}`);
    await mustPulumi("up", "--yes", "--skip-preview");
  }

  test("interrupted runs: refresh + up converge, kill -9 mid-lab + up --refresh converges, destroy leaves nothing", async () => {
    const kinds: Kind[] = [
      ...Array<Kind>(COUNTS.sigint2).fill("sigint2"),
      ...Array<Kind>(COUNTS.killPulumi).fill("killPulumi"),
      ...Array<Kind>(COUNTS.killProvider).fill("killProvider"),
    ];
    for (const [k, kind] of kinds.entries()) {
      const atMs = 300 + Math.floor(Math.random() * 4700);
      const what = await interruptedUp(kind, atMs);
      tally.runs++;
      if (what.startsWith("finished")) tally.finishedFirst++;
      else tally[kind]++;
      await recover();
      const guests = await checkConverged();
      tally.converged++;
      if (k < COUNTS.killMidLab) {
        // kill -9 a random guest and a random switch of the running lab.
        const outs = JSON.parse(await mustPulumi("stack", "output", "--json"));
        const g = guests[Math.floor(Math.random() * guests.length)];
        const sw = Object.values(outs.switches as Record<string, { pid: number }>)[
          Math.floor(Math.random() * 2)
        ];
        process.kill(g.pid, "SIGKILL");
        process.kill(sw.pid, "SIGKILL");
        await waitFor(() => !processAlive(g.pid) && !processAlive(sw.pid), 10_000);
        await mustPulumi("up", "--yes", "--skip-preview", "--refresh");
        await checkConverged();
        tally.killMidLab++;
      }
      console.log(`chaos run ${k + 1}/${kinds.length}: ${what}: converged`);
      await checkDestroyed();
    }
    expect(tally.converged).toBe(kinds.length);
  }, 3_600_000);
});
