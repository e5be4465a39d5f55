// Class mode over two simulated hosts (tests/helpers/hosts.ts: a namespace and an sshd each,
// reached only through `ip netns exec <ns> nc 127.0.0.1 22`), as a teacher runs it (the built
// CLI): `umlab class up <program> --students 6 --hosts hosts.json` probes each host's capacity
// over ssh and places each student's whole lab on one host. The program is light
// (class-multihost-program: two busybox guests of 64M and a ping check each way, 128 MiB a
// student); both simulated hosts read this machine's MemAvailable, so a per-host `maxMemory`
// forces the split: host-a 520M (4 students), host-b 300M (2). Shown: an unreachable host is
// refused by name before anything starts; the 4+2 placement; `status` (JSON, table, CSV) says
// each student's host; `check` passes; every guest runs in its host's namespace with its files
// under that host's runtime root; a re-run with the hosts listed the other way round keeps
// every student where it is; a 7th student is refused (its need against each host's free
// memory); `down` leaves no process and no file on either host.
import * as fs from "fs";
import * as path from "path";
import { LocalWorkspace } from "@pulumi/pulumi/automation";
import { REPO } from "../helpers/stack";
import {
  labSandbox,
  LabSandbox,
  ensureBuilt,
  processesMentioning,
  killGroupsMentioning,
} from "../helpers/lab";
import { simHosts, SimHosts, SimHost, leftUnder, inNamespaceOf } from "../helpers/hosts";
import { umlabCli, classBackend, classLeftovers } from "../helpers/class";
import { processAlive } from "../../provider/host/process";
import { placeByMemory } from "../../sdk/placement";

const program = path.join(REPO, "tests/integration/class-multihost-program");
const students = ["s1", "s2", "s3", "s4", "s5", "s6"];

interface Row {
  student: string;
  host: string | null;
  state: string;
  guestsUp: number;
  passed: number;
  failed: number;
  checks: { name: string; ok: boolean }[];
}

describe("class mode over two hosts (simulated: netns + sshd each), placed by capacity", () => {
  let sandbox: LabSandbox | undefined;
  let sim: SimHosts | undefined;
  let env: Record<string, string>;
  let hostsFile = "";
  const labs: Record<
    string,
    { labDir: string; host: string; guests: { name: string; pid: number; guestDir: string }[] }
  > = {};

  const stackOutputs = async (s: string): Promise<Record<string, any>> => {
    const st = await LocalWorkspace.selectStack(
      { stackName: `student-${s}`, workDir: program },
      { envVars: env },
    );
    const checks = ((await st.exportStack()).deployment.resources as { type: string; inputs: any }[]).find(
      (r) => r.type.endsWith("umlab:Checks"),
    );
    const out: Record<string, any> = Object.fromEntries(
      Object.entries(await st.outputs()).map(([k, v]) => [k, v.value]),
    );
    // Each check names the host its guest is on: the Checks provider sends it there (over ssh).
    const checkHosts = [...new Set((checks?.inputs?.checks ?? []).map((c: any) => c.host?.name))];
    return { ...out, checksHost: checkHosts.length === 1 ? checkHosts[0] : checkHosts };
  };
  const hostByName = (name: string) => sim!.hosts.find((h) => h.host.name === name) as SimHost;
  const writeHosts = (file: string, entries: object[]) => {
    fs.writeFileSync(file, JSON.stringify(entries, null, 2));
    return file;
  };

  beforeAll(() => {
    ensureBuilt();
    sandbox = labSandbox("clmh", "h20cl");
    sim = simHosts("h20cl", 2);
    env = classBackend(sandbox.scratch);
    const [A, B] = sim.hosts;
    hostsFile = writeHosts(path.join(sandbox.scratch, "hosts.json"), [
      { ...A.host, maxMemory: "520M" },
      { ...B.host, maxMemory: "300M" },
    ]);
  }, 120_000);

  afterAll(async () => {
    await classLeftovers(program);
    for (const h of sim?.hosts ?? []) killGroupsMentioning(h.host.runtimeRoot);
    sim?.teardown();
    sandbox?.cleanup();
  }, 900_000);

  test("an unreachable host is refused by name before anything starts; placeByMemory spreads parts over the probed hosts", async () => {
    const [A, B] = sim!.hosts;
    const dead = writeHosts(path.join(sandbox!.scratch, "dead.json"), [
      A.host,
      { ...B.host, proxyCommand: ["ip", "netns", "exec", B.netns, "nc", "127.0.0.1", "2222"] },
    ]);
    const r = await umlabCli(["class", "up", program, "--students", "2", "--hosts", dead]);
    expect(r.code).toBe(3);
    expect(r.stderr).toMatch(/1 of 2 hosts could not be probed \(nothing was started\)/);
    expect(r.stderr).toMatch(/host "host-b" \(root@192\.0\.2\.2 port 22\) cannot be reached over SSH/);
    expect(r.stderr).not.toMatch(/host "host-a" \(root@192\.0\.2\.1 port 22\) cannot/);
    for (const h of sim!.hosts) expect(leftUnder(h.host.runtimeRoot)).toEqual([]);
    // A bad hosts file names the entry and the field.
    const bad = writeHosts(path.join(sandbox!.scratch, "bad.json"), [
      { ...A.host, address: "-oProxyCommand=x" },
    ]);
    const b = await umlabCli(["class", "up", program, "--students", "2", "--hosts", bad]);
    expect(b.code).not.toBe(0);
    expect(b.stderr).toMatch(/bad\.json\[0\]: host\.address: use a host name or an IP address/);
    // The sdk's placeByMemory over the same probe: parts of one lab spread by free memory.
    // (umlab on the hosts: this checkout; Jest runs the sdk from source, not from dist/.)
    const here = [A.host, B.host].map((h) => ({ ...h, umlab: REPO }));
    const where = await placeByMemory(
      here,
      { g1: "256M", g2: "128M", g3: "128M" },
      { maxMemory: { "host-a": "300M", "host-b": "300M" } },
    );
    expect(Object.fromEntries(Object.entries(where).map(([k, h]) => [k, h.name]))).toEqual({
      g1: "host-a",
      g2: "host-b",
      g3: "host-b",
    });
    await expect(
      placeByMemory(here, { big: "400M" }, { maxMemory: { "host-a": "300M", "host-b": "300M" } }),
    ).rejects.toThrow(/no host fits "big": it needs 400 MiB; host-a: 300 MiB free for umlab/);
    // Nothing was started: the class has stacks at most (no lab ran anywhere).
    for (const h of sim!.hosts) expect(processesMentioning(h.host.runtimeRoot)).toEqual([]);
  }, 600_000);

  test("6 students placed 4+2 by capacity: status shows the host, checks pass, guests run in their host's namespace", async () => {
    const t0 = Date.now();
    const up = await umlabCli([
      "class",
      "up",
      program,
      "--students",
      "6",
      "--hosts",
      hostsFile,
      "--parallel",
      "2",
    ]);
    console.log(`class up of 6 students over 2 hosts: ${((Date.now() - t0) / 1000).toFixed(1)} s`);
    expect([up.code, up.stderr.split("\n").slice(-15).join("\n")]).toEqual([0, expect.anything()]);
    expect(up.stderr).toMatch(/placement: host-a: 4 students of this class \(holds 4\): s1, s2, s3, s5/);
    expect(up.stderr).toMatch(/placement: host-b: 2 students of this class \(holds 2\): s4, s6/);
    const want: Record<string, string> = {
      s1: "host-a",
      s2: "host-a",
      s3: "host-a",
      s5: "host-a",
      s4: "host-b",
      s6: "host-b",
    };

    const status = await umlabCli(["class", "status", program, "--json"]);
    expect(status.code).toBe(0);
    const rows = JSON.parse(status.stdout).students as Row[];
    expect(Object.fromEntries(rows.map((r) => [r.student, r.host]))).toEqual(want);
    for (const r of rows)
      expect([r.student, r.state, r.guestsUp, r.passed, r.failed]).toEqual([r.student, "up", 2, 2, 0]);
    const table = await umlabCli(["class", "status", program]);
    console.log(table.stdout);
    expect(table.stdout.split("\n")[0]).toMatch(/^student\s+host\s+state/);
    for (const s of students)
      expect(table.stdout).toMatch(new RegExp(`^${s}\\s+${want[s]}\\s+up\\s+2/2\\s+2/2`, "m"));
    const csv = (await umlabCli(["class", "status", program, "--csv"])).stdout.trimEnd().split("\n");
    expect(csv[0]).toMatch(/^student,stack,host,state,/);
    expect(csv.slice(1).map((l) => l.split(",").slice(0, 4).join(","))).toEqual(
      students.map((s) => `${s},student-${s},${want[s]},up`),
    );

    const check = await umlabCli(["class", "check", program, "--json"]);
    expect(check.code).toBe(0);
    expect((JSON.parse(check.stdout).students as Row[]).every((r) => r.failed === 0 && r.passed === 2)).toBe(
      true,
    );

    for (const s of students) {
      const o = await stackOutputs(s);
      expect([s, o.host]).toEqual([s, want[s]]);
      // Its checks ran on that host too (they read its guests' folders there).
      expect([s, o.checksHost]).toEqual([s, want[s]]);
      const h = hostByName(want[s]);
      labs[s] = { labDir: o.labDir, host: want[s], guests: o.guestInfo };
      expect(o.labDir.startsWith(h.host.runtimeRoot + "/")).toBe(true);
      for (const g of o.guestInfo as { pid: number; guestDir: string }[]) {
        expect(processAlive(g.pid)).toBe(true);
        expect([s, inNamespaceOf(g.pid, h)]).toEqual([s, true]);
        expect(g.guestDir.startsWith(o.labDir + "/")).toBe(true);
      }
    }
    // Nothing of the class runs on this machine's own runtime root.
    expect(processesMentioning(sandbox!.runtime)).toEqual([]);
  }, 1_800_000);

  test("a re-run keeps every student on its host (hosts listed the other way round); a 7th student is refused with need vs free", async () => {
    const [A, B] = sim!.hosts;
    const reversed = writeHosts(path.join(sandbox!.scratch, "reversed.json"), [
      { ...B.host, maxMemory: "300M" },
      { ...A.host, maxMemory: "520M" },
    ]);
    const pidsBefore = Object.fromEntries(students.map((s) => [s, labs[s].guests.map((g) => g.pid).sort()]));
    const again = await umlabCli(["class", "up", program, "--students", "6", "--hosts", reversed]);
    expect([again.code, again.stderr.split("\n").slice(-12).join("\n")]).toEqual([0, expect.anything()]);
    expect(again.stderr).not.toMatch(/ move \(/);
    const rows = JSON.parse((await umlabCli(["class", "status", program, "--json"])).stdout)
      .students as Row[];
    expect(Object.fromEntries(rows.map((r) => [r.student, r.host]))).toEqual(
      Object.fromEntries(students.map((s) => [s, labs[s].host])),
    );
    for (const s of students)
      expect([s, ((await stackOutputs(s)).guestInfo as { pid: number }[]).map((g) => g.pid).sort()]).toEqual([
        s,
        pidsBefore[s],
      ]);

    const seven = await umlabCli(["class", "up", program, "--students", "7", "--hosts", hostsFile]);
    expect([seven.code, seven.stderr.split("\n").slice(-12).join("\n")]).toEqual([3, expect.anything()]);
    expect(seven.stderr).toMatch(/no host fits 1 of 7 students \(s7\): each needs 128 MiB of memory/);
    expect(seven.stderr).toMatch(
      /host-a: 8 MiB free for umlab \(90 % of MemAvailable \d+ MiB, cap 520 MiB, 512 MiB taken by this class\)/,
    );
    expect(seven.stderr).toMatch(/host-b: 44 MiB free for umlab/);
    const ws = await LocalWorkspace.create({ workDir: program, envVars: env });
    const s7 = (await ws.listStacks()).find((st) => st.name.endsWith("student-s7"));
    expect(s7?.resourceCount ?? 0).toBe(0);
  }, 1_800_000);

  test("down leaves no process and no file on either host", async () => {
    const r = await umlabCli(["class", "down", program]);
    expect(r.code).toBe(0);
    const ws = await LocalWorkspace.create({ workDir: program, envVars: env });
    expect((await ws.listStacks()).map((s) => s.name)).toEqual([]);
    for (const s of students)
      for (const g of labs[s].guests) expect([s, processAlive(g.pid)]).toEqual([s, false]);
    for (const h of sim!.hosts) {
      expect(processesMentioning(h.host.runtimeRoot).map((p) => p.cmd)).toEqual([]);
      expect(leftUnder(h.host.runtimeRoot)).toEqual([]);
    }
  }, 900_000);
});
