// Class mode on real UML: `umlab class up` of N students of one program (default 5 x the OSPF
// ring, examples/ospf-ring; UMLAB_CLASS_PROGRAM=quickstart UMLAB_CLASS_STUDENTS=2 for a quick
// run), as a user runs it (the built CLI, dist/cli/umlab.js): every student's checks pass,
// `status --json` lists every student's checks, `reset` of student 3 leaves the others' boot ids
// as they were, student 2's guest reaches nothing of student 1's lab (addresses on s1's switch,
// s1's switch socket, s1's lab over hostfs), and `down` leaves no stack, file or process.
// The idle CPU of each student's UML processes is measured and printed (the admission table in
// cli/class-plan.ts comes from such runs); speed is never asserted.
import * as fs from "fs";
import * as path from "path";
import { LocalWorkspace } from "@pulumi/pulumi/automation";
import { REPO } from "../helpers/stack";
import { labSandbox, LabSandbox, ensureBuilt, processesMentioning } from "../helpers/lab";
import { umlabCli, classBackend, classLeftovers } from "../helpers/class";
import { exec } from "../../sdk/exec";
import { sleep } from "../../provider/host/process";

const programName = process.env.UMLAB_CLASS_PROGRAM ?? "ospf-ring";
const program = path.join(REPO, "examples", programName);
const N = Number(process.env.UMLAB_CLASS_STUDENTS ?? 5);
const students = Array.from({ length: N }, (_, i) => `s${i + 1}`);

interface GuestState {
  name: string;
  pid: number;
  bootId: string;
  guestDir: string;
}
interface LabState {
  labDir: string;
  guests: GuestState[];
  switches: { name: string; control: string }[];
}

describe(`class mode: ${N} students x ${programName} on one host`, () => {
  let sandbox: LabSandbox | undefined;
  let env: Record<string, string>;
  const before: Record<string, LabState> = {};

  async function labOf(student: string): Promise<LabState> {
    const stack = await LocalWorkspace.selectStack(
      { stackName: `student-${student}`, workDir: program },
      { envVars: env },
    );
    const res = (await stack.exportStack()).deployment.resources as {
      type: string;
      urn: string;
      outputs: Record<string, unknown>;
    }[];
    const of = (t: string) => res.filter((r) => r.type.endsWith(`umlab:${t}`));
    return {
      labDir: String(of("LabRuntime")[0].outputs.dir),
      guests: of("Guest").map((r) => ({
        name: r.urn.split("::").pop() as string,
        pid: Number(r.outputs.pid),
        bootId: String(r.outputs.bootId),
        guestDir: String(r.outputs.guestDir),
      })),
      switches: of("Switch").map((r) => ({
        name: r.urn.split("::").pop() as string,
        control: String(r.outputs.control),
      })),
    };
  }

  beforeAll(() => {
    ensureBuilt();
    sandbox = labSandbox("class", "ucl");
    env = classBackend(sandbox.scratch);
  });

  afterAll(async () => {
    // Whatever a failed run left: the class's own down, then the sandbox's process groups.
    await classLeftovers(program);
    sandbox?.cleanup();
  }, 900_000);

  test(`class up brings ${N} students up with every check passing; status --json lists ${N} x the checks`, async () => {
    const t0 = Date.now();
    const up = await umlabCli(["class", "up", program, "--students", String(N), "--parallel", "2"]);
    const seconds = (Date.now() - t0) / 1000;
    expect(up.stderr).toMatch(/admission: .*fits/);
    expect([up.code, up.stderr.split("\n").slice(-15).join("\n")]).toEqual([0, expect.anything()]);
    const done = up.stderr.split("\n").filter((l) => / up done in /.test(l));
    console.log(
      `class up of ${N} x ${programName}: ${seconds.toFixed(1)} s in all; per student: ${done.map((l) => l.replace(/^.*\] /, "").replace(/\s+up done in /, " ")).join(", ")}`,
    );
    for (const s of students) expect(done.some((l) => l.includes(` ${s} `))).toBe(true);

    const status = await umlabCli(["class", "status", program, "--json"]);
    expect(status.code).toBe(0);
    const rows = JSON.parse(status.stdout).students as {
      student: string;
      state: string;
      checks: { ok: boolean }[];
    }[];
    expect(rows.map((r) => r.student)).toEqual(students);
    const perStudent = rows[0].checks.length;
    if (programName === "ospf-ring") expect(perStudent).toBe(17);
    for (const r of rows) {
      expect(r.state).toBe("up");
      expect(r.checks).toHaveLength(perStudent);
      expect(r.checks.every((c) => c.ok)).toBe(true);
    }
    const csv = await umlabCli(["class", "status", program, "--csv"]);
    expect(csv.stdout.trimEnd().split("\n")).toHaveLength(N + 1);
    for (const s of students) before[s] = await labOf(s);
  }, 3_600_000);

  test("idle CPU per guest, measured (the admission table's figures)", async () => {
    const ticks = () => {
      const per: Record<string, number> = {};
      for (const s of students)
        per[s] = processesMentioning(before[s].labDir).reduce((sum, p) => {
          try {
            const st = fs.readFileSync(`/proc/${p.pid}/stat`, "utf8");
            const f = st.slice(st.lastIndexOf(")") + 2).split(" ");
            return sum + Number(f[11]) + Number(f[12]);
          } catch {
            return sum;
          }
        }, 0);
      return per;
    };
    const a = ticks();
    await sleep(20_000);
    const b = ticks();
    const perGuest = students.map((s) => (b[s] - a[s]) / 100 / 20 / before[s].guests.length);
    console.log(
      `idle CPU per guest (cores, 20 s, UML + switch processes of each student): ${perGuest.map((c) => c.toFixed(4)).join(", ")}`,
    );
    expect(perGuest.every((c) => c >= 0)).toBe(true);
  }, 120_000);

  test("student 2's guest reaches nothing of student 1's lab: its addresses, its switch socket, its files", async () => {
    const byName = (l: LabState) => [...l.guests].sort((a, b) => a.name.localeCompare(b.name));
    const g1 = byName(before.s1)[0];
    const g2 = before.s2.guests.find((g) => g.name === g1.name) as GuestState;
    // A student-1-only address on s1's first guest, in the subnet both students use.
    const dev = "eth0";
    const addrs = async (g: GuestState) => (await exec(g, ["ip", "addr", "show"])).stdout;
    const [, net] = /inet (\d+\.\d+\.\d+)\.\d+\/24[^\n]* eth0/.exec(await addrs(g1)) ?? [];
    expect(net).toBeDefined();
    const only1 = `${net}.201`;
    expect((await exec(g1, ["ip", "addr", "add", `${only1}/24`, "dev", dev])).exitCode).toBe(0);
    // The control: student 1's own neighbour on that switch answers it.
    let peer1: GuestState | undefined;
    for (const g of byName(before.s1).slice(1))
      if (!peer1 && (await addrs(g)).includes(`inet ${net}.`)) peer1 = g;
    expect(peer1).toBeDefined();
    const peerSees = await exec(peer1 as GuestState, ["ping", "-c", "3", "-W", "2", only1]);
    expect([peer1?.name, peerSees.exitCode]).toEqual([peer1?.name, 0]);
    // Student 2's guest of the same name, on its own switch with the same subnet, gets no answer.
    const s2ping = await exec(g2, ["ping", "-c", "3", "-W", "2", only1]);
    expect(s2ping.exitCode).not.toBe(0);
    // The two guests' MACs differ (they never collide on any switch).
    const mac = async (g: GuestState) =>
      (await exec(g, ["cat", `/sys/class/net/${dev}/address`])).stdout.trim();
    expect(await mac(g1)).not.toBe(await mac(g2));

    // s1's switch sockets and lab dir are not in the view of s2's UML process.
    const umlPid = Number(fs.readFileSync(path.join(before.s2.labDir, "uml", g2.name, "pid"), "utf8").trim());
    expect(fs.readFileSync(`/proc/${umlPid}/cmdline`, "utf8").split("\0")[0]).toMatch(/linux\.uml$/);
    const root = `/proc/${umlPid}/root`;
    expect(fs.existsSync(`${root}${g2.guestDir}`)).toBe(true);
    for (const sw of before.s1.switches) {
      expect(fs.existsSync(sw.control)).toBe(true);
      expect(fs.existsSync(`${root}${sw.control}`)).toBe(false);
    }
    expect(fs.existsSync(`${root}${before.s1.labDir}`)).toBe(false);
    // From inside s2's guest: hostfs of s1's lab, its guest folder, its switch's dir reach nothing.
    const up = "../../../../../../../../../..";
    for (const o of [
      before.s1.labDir,
      `${up}${before.s1.labDir}`,
      `${up}${g1.guestDir}`,
      `${up}${path.dirname(before.s1.switches[0].control)}`,
    ]) {
      const r = await exec(g2, [
        "sh",
        "-c",
        `d=/mnt/cls$$; mkdir -p $d; if mount -t hostfs none $d -o "$1" 2>/dev/null; then ls -A $d; umount $d; fi; rmdir $d`,
        "probe",
        o,
      ]);
      expect([o, r.stdout.trim()]).toEqual([o, ""]);
    }
    await exec(g1, ["ip", "addr", "del", `${only1}/24`, "dev", dev]);
  }, 600_000);

  test("reset of student 3 boots its guests again and leaves every other student's boot ids as they were", async () => {
    const target = students[Math.min(2, N - 1)];
    const r = await umlabCli(["class", "reset", program, target, "--json"]);
    expect(r.code).toBe(0);
    const row = JSON.parse(r.stdout).students[0];
    expect(row).toMatchObject({ student: target, state: "up" });
    expect(row.checks.every((c: { ok: boolean }) => c.ok)).toBe(true);
    for (const s of students) {
      const now = await labOf(s);
      const ids = (l: LabState) => l.guests.map((g) => `${g.name}=${g.bootId}`).sort();
      if (s === target) for (const id of ids(now)) expect(ids(before[s])).not.toContain(id);
      else expect([s, ids(now)]).toEqual([s, ids(before[s])]);
    }
    const status = await umlabCli(["class", "status", program]);
    expect(status.code).toBe(0);
    console.log(status.stdout);
  }, 1_800_000);

  test("a guest of student 1 killed behind umlab's back: status says partial, class up repairs it alone", async () => {
    const lab = await labOf("s1");
    const victim = [...lab.guests].sort((a, b) => a.name.localeCompare(b.name))[0];
    const umlPid = Number(fs.readFileSync(path.join(lab.labDir, "uml", victim.name, "pid"), "utf8").trim());
    const pgid = Number(fs.readFileSync(`/proc/${umlPid}/stat`, "utf8").split(") ")[1].split(" ")[2]);
    process.kill(-pgid, "SIGKILL");
    await sleep(2000);
    const status = await umlabCli(["class", "status", program, "--json"]);
    expect(status.code).toBe(1);
    const rows = JSON.parse(status.stdout).students as { student: string; state: string }[];
    expect(rows.find((r) => r.student === "s1")?.state).toBe("partial");
    const others = students.filter((s) => s !== "s1");
    const idsBefore = Object.fromEntries(
      await Promise.all(others.map(async (s) => [s, (await labOf(s)).guests.map((g) => g.bootId).sort()])),
    );
    const up = await umlabCli(["class", "up", program, "--students", String(N)]);
    expect(up.code).toBe(0);
    const again = await labOf("s1");
    expect(again.guests.find((g) => g.name === victim.name)?.bootId).not.toBe(victim.bootId);
    for (const s of others)
      expect([s, (await labOf(s)).guests.map((g) => g.bootId).sort()]).toEqual([s, idsBefore[s]]);
    const after = JSON.parse((await umlabCli(["class", "status", program, "--json"])).stdout).students as {
      state: string;
      failed: number;
    }[];
    expect(after.every((r) => r.state === "up" && r.failed === 0)).toBe(true);
  }, 3_600_000);

  test("down destroys every student's lab and removes the stacks", async () => {
    const r = await umlabCli(["class", "down", program]);
    expect(r.code).toBe(0);
    const ws = await LocalWorkspace.create({ workDir: program, envVars: env });
    expect((await ws.listStacks()).map((s) => s.name)).toEqual([]);
    expect(fs.readdirSync(program).filter((f) => f.startsWith("Pulumi.student-"))).toEqual([]);
    for (const s of students) expect(fs.existsSync(before[s].labDir)).toBe(false);
    expect(processesMentioning(sandbox?.runtime as string)).toEqual([]);
    const again = await umlabCli(["class", "status", program]);
    expect(again.code).toBe(1);
    expect(again.stderr).toMatch(/no student stacks/);
  }, 900_000);
});
