// The orphan reaper on real processes (no UML): it kills exactly the processes that name a lab
// dir (argv or cwd), whole groups, and nothing else: not a process naming a sibling dir with
// the same prefix, not one that only names the dir's parent, not its own process group.
import * as child_process from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { findProcesses, mentions, reapPrevious, reapUnder } from "../../../provider/host/reap";
import { processAlive, waitFor } from "../../../provider/host/process";

function start(args: string[], cwd?: string): child_process.ChildProcess {
  // sh -c 'sleep 300 & wait': a group of two, so a survivor child would show.
  const c = child_process.spawn("sh", ["-c", "sleep 300 & wait", "sh", ...args], {
    cwd,
    detached: true,
    stdio: "ignore",
  });
  c.unref();
  return c;
}

describe("host/reap", () => {
  let base: string;
  const started: child_process.ChildProcess[] = [];
  beforeEach(() => {
    base = fs.mkdtempSync(path.join(os.tmpdir(), "umlab-reap-"));
  });
  afterEach(() => {
    for (const c of started.splice(0)) {
      try {
        process.kill(-(c.pid as number), "SIGKILL");
      } catch {
        /* gone */
      }
    }
    fs.rmSync(base, { recursive: true, force: true });
  });

  test("reapUnder kills argv and cwd mentions with their groups, spares a sibling with the same prefix", async () => {
    const lab = path.join(base, "lab1");
    const sibling = path.join(base, "lab10");
    for (const d of [lab, sibling]) fs.mkdirSync(d);
    const byArgv = start([`uml_dir=${lab}/uml`]);
    const byCwd = start([], lab);
    const bySibling = start([`${sibling}/sw.ctl`]);
    const byParent = start([base]);
    started.push(byArgv, byCwd, bySibling, byParent);
    await waitFor(() => findProcesses((p) => mentions(p, lab)).length >= 2, 5000);
    const groupOf = (c: child_process.ChildProcess) => findProcesses((p) => p.pgid === c.pid);
    expect(groupOf(byArgv).length).toBe(2); // sh and its sleep
    expect(await reapUnder(lab)).toBeGreaterThanOrEqual(2);
    expect(findProcesses((p) => mentions(p, lab))).toEqual([]);
    // Whole groups went: the sleeps (whose argv names nothing) too.
    expect(groupOf(byArgv)).toEqual([]);
    expect(groupOf(byCwd)).toEqual([]);
    expect(processAlive(bySibling.pid)).toBe(true);
    expect(processAlive(byParent.pid)).toBe(true);
    expect(groupOf(bySibling).length).toBe(2);
  });

  test("a matching process in a group whose leader does not match is killed alone", async () => {
    const lab = path.join(base, "lab3");
    fs.mkdirSync(lab);
    const script = '"$N" -e "setTimeout(() => 0, 300000)" "$D/x"; sleep 300';
    const leader = child_process.spawn("sh", ["-c", script], {
      env: { ...process.env, N: process.execPath, D: lab },
      detached: true,
      stdio: "ignore",
    });
    started.push(leader);
    await waitFor(() => findProcesses((p) => mentions(p, lab)).length > 0, 5000);
    expect(await reapUnder(lab)).toBe(1);
    expect(processAlive(leader.pid)).toBe(true);
  });

  test("reapPrevious matches the program and whole arguments only", async () => {
    const ctl = path.join(base, "sw0.ctl");
    const other = start([`${ctl}x`]);
    const exact = start([ctl]);
    started.push(other, exact);
    await waitFor(() => findProcesses((p) => p.argv.includes(ctl)).length > 0, 5000);
    expect(await reapPrevious("uml_switch", [ctl], "switch sw0")).toBe(0); // sh is not uml_switch
    expect(processAlive(exact.pid)).toBe(true);
    expect(await reapPrevious("sh", [ctl], "switch sw0")).toBe(1);
    expect(processAlive(exact.pid)).toBe(false);
    expect(processAlive(other.pid)).toBe(true);
  });

  test("refuses a relative or root dir, and never signals its own process group", async () => {
    await expect(reapUnder("lab")).rejects.toThrow(/refusing/);
    await expect(reapUnder("/")).rejects.toThrow(/refusing/);
    // A process of this test's own group (not detached) naming the dir: killed alone, by pid;
    // signalling its group would kill this test run too.
    const lab = path.join(base, "lab2");
    fs.mkdirSync(lab);
    const child = child_process.spawn(process.execPath, ["-e", "setTimeout(() => 0, 300000)", `${lab}/x`], {
      stdio: "ignore",
    });
    started.push(child);
    const exited = new Promise((r) => child.on("exit", r));
    await waitFor(() => findProcesses((p) => mentions(p, lab)).length > 0, 5000);
    expect(await reapUnder(lab)).toBe(1);
    await exited;
    expect(processAlive(process.pid)).toBe(true);
  });
});
