// Placement over several hosts, the pure parts: whole students onto hosts by capacity
// (provider/core/placement.ts placeStudents: caps, a student kept on its host, need vs free
// when none fits), parts of one lab by free memory (planByMemory), the hosts file
// (cli/class-hosts.ts), `--hosts` on the command line, the host column of `class status`, the
// capacity probe's parsing and answer, and the remote `capacity` request itself.
import * as child_process from "child_process";
import * as path from "path";
import * as fc from "fast-check";
import {
  placeStudents,
  planByMemory,
  slotsOf,
  memBudget,
  type HostCapacity,
} from "../../../provider/core/placement";
import { parseHostsFile, hostNameOfConfig, HOST_KEY } from "../../../cli/class-hosts";
import { parseClassArgs } from "../../../cli/class-plan";
import { rowOf, renderCsv, renderTable, renderJson } from "../../../cli/class-render";
import { parseMeminfo, checkCapacity, localCapacity, alivePids } from "../../../provider/host/capacity";
import { hostOfState, liveness } from "../../../cli/class-place";
import { placeByMemory, memoryBytes } from "../../../sdk/placement";
import { UsageError } from "../../../cli/args";

const M = 1024 ** 2;
const G = 1024 ** 3;
/** Two guests of 64M (busybox), idle. */
const cost = { memBytes: 128 * M, cpuCores: 0.002, guests: 2 };
const host = (name: string, capMiB?: number, memAvailable = 20 * G, cores = 8): HostCapacity => ({
  name,
  memAvailable,
  cores,
  ...(capMiB === undefined ? {} : { capBytes: capMiB * M }),
});
const six = ["s1", "s2", "s3", "s4", "s5", "s6"];
/** A host ssh cannot reach: its ProxyCommand is `false` (no traffic leaves this machine). */
const dead = {
  name: "deadhost",
  address: "192.0.2.9",
  runtimeRoot: "/var/tmp/umlab",
  cache: "/var/cache/umlab",
  proxyCommand: ["false"],
};

describe("placeStudents: whole students onto hosts by capacity", () => {
  test("caps of 520M and 300M split six students 4+2, the fuller host first on ties", () => {
    const p = placeStudents(six, cost, [host("host-a", 520), host("host-b", 300)]);
    expect(Object.fromEntries(p.hostOf)).toEqual({
      s1: "host-a",
      s2: "host-a",
      s3: "host-a",
      s4: "host-b",
      s5: "host-a",
      s6: "host-b",
    });
    expect(p.load.get("host-a")).toEqual({ students: 4, slots: 4 });
    expect(p.load.get("host-b")).toEqual({ students: 2, slots: 2 });
    expect([p.unplaced, p.moved, p.message]).toEqual([[], [], ""]);
  });

  test("a re-run keeps every student where it is, whatever the hosts' order", () => {
    const first = placeStudents(six, cost, [host("host-a", 520), host("host-b", 300)]);
    const again = placeStudents(
      six,
      cost,
      [host("host-b", 300), host("host-a", 520)],
      first.hostOf,
      first.hostOf,
    );
    expect(again.hostOf).toEqual(first.hostOf);
    expect(again.kept).toEqual(six);
    expect(again.moved).toEqual([]);
  });

  test("a student whose host left the list, or no longer has room, moves; the others stay", () => {
    const prev = new Map([
      ["s1", "host-a"],
      ["s2", "host-gone"],
      ["s3", "host-b"],
      ["s4", "host-b"],
    ]);
    // host-b now holds one student: s3 keeps it (first in order), s4 moves.
    const p = placeStudents(
      ["s1", "s2", "s3", "s4"],
      cost,
      [host("host-a", 600), host("host-b", 200)],
      prev,
      prev,
    );
    expect(Object.fromEntries(p.hostOf)).toEqual({ s1: "host-a", s2: "host-a", s3: "host-b", s4: "host-a" });
    expect(p.kept).toEqual(["s1", "s3"]);
    expect(p.moved).toEqual(["s2", "s4"]);
  });

  test("other students of the class take room where they run", () => {
    const fixed = new Map([
      ["old1", "host-a"],
      ["old2", "host-a"],
    ]);
    const p = placeStudents(["s1", "s2"], cost, [host("host-a", 300), host("host-b", 300)], new Map(), fixed);
    expect(Object.fromEntries(p.hostOf)).toEqual({ s1: "host-b", s2: "host-b" });
  });

  test("no host fits: the message names the students, the need, and each host's free memory", () => {
    const p = placeStudents([...six, "s7"], cost, [host("host-a", 520), host("host-b", 300)]);
    expect(p.unplaced).toEqual(["s7"]);
    expect(p.message).toMatch(
      /^no host fits 1 of 7 students \(s7\): each needs 128 MiB of memory and 0\.002 idle cores \(2 guests\)/,
    );
    expect(p.message).toMatch(
      /host-a: 8 MiB free for umlab \(90 % of MemAvailable 20480 MiB, cap 520 MiB, 512 MiB taken by this class\), 8 cores: holds 4 students, 4 placed/,
    );
    expect(p.message).toMatch(/host-b: 44 MiB free for umlab .*holds 2 students, 2 placed/);
    expect(p.message).toMatch(/Add a host to the hosts file, raise its maxMemory, or start fewer students/);
  });

  test("idle CPU limits too: 60 % of the cores", () => {
    expect(slotsOf(host("h", undefined, 100 * G, 2), { memBytes: M, cpuCores: 0.046 * 4 })).toBe(6);
    expect(slotsOf(host("h", 100), { memBytes: 0, cpuCores: 0 })).toBe(Infinity);
    expect(memBudget(host("h", undefined, 1000 * M))).toBe(900 * M);
    expect(memBudget(host("h", 100, 1000 * M))).toBe(100 * M);
  });

  test("property: every student placed once or refused, no host over its slots, kept ones stay", () => {
    const arb = fc.record({
      caps: fc.array(fc.integer({ min: 0, max: 2000 }), { minLength: 1, maxLength: 4 }),
      n: fc.integer({ min: 0, max: 30 }),
      prev: fc.array(fc.integer({ min: 0, max: 5 }), { maxLength: 30 }),
    });
    fc.assert(
      fc.property(arb, ({ caps, n, prev }) => {
        const hosts = caps.map((c, i) => host(`h${i}`, c));
        const students = Array.from({ length: n }, (_, i) => `s${i + 1}`);
        const previous = new Map(
          prev.slice(0, n).flatMap((h, i) => (h < 5 ? [[`s${i + 1}`, `h${h}`] as [string, string]] : [])),
        );
        const p = placeStudents(students, cost, hosts, previous);
        expect(p.hostOf.size + p.unplaced.length).toBe(n);
        for (const s of p.unplaced) expect(p.hostOf.has(s)).toBe(false);
        for (const h of hosts) {
          const on = [...p.hostOf.values()].filter((x) => x === h.name).length;
          expect(on).toBeLessThanOrEqual(slotsOf(h, cost));
          expect(p.load.get(h.name)?.students).toBe(on);
        }
        for (const s of p.kept) expect(p.hostOf.get(s)).toBe(previous.get(s));
        // Refused only when every host is full.
        if (p.unplaced.length)
          for (const h of hosts) expect(p.load.get(h.name)?.students).toBe(slotsOf(h, cost));
      }),
    );
  });
});

describe("planByMemory: parts of one lab spread by free memory", () => {
  test("largest first, each onto the host with the most left", () => {
    const p = planByMemory({ r1: 256 * M, r2: 256 * M, r3: 128 * M, r4: 64 * M }, [
      host("a", 600),
      host("b", 400),
    ]);
    expect(p.hostOf).toEqual({ r1: "a", r2: "b", r3: "a", r4: "a" });
    expect(p.placed).toEqual({ a: 448 * M, b: 256 * M });
  });

  test("kept parts stay on their host while it has room; the rest spread around them", () => {
    const hosts = [host("a", 600), host("b", 400)];
    // Without keep r1 would go to a; kept on b it stays, and r2 takes a.
    const p = planByMemory({ r1: 256 * M, r2: 256 * M, r3: 128 * M }, hosts, { r1: "b" });
    expect(p.hostOf).toEqual({ r1: "b", r2: "a", r3: "a" });
    // A kept host that is gone or too small: spread like any other part.
    expect(planByMemory({ r1: 256 * M }, hosts, { r1: "gone" }).hostOf).toEqual({ r1: "a" });
    expect(planByMemory({ r1: 500 * M }, hosts, { r1: "b" }).hostOf).toEqual({ r1: "a" });
  });

  test("a part no host holds: named, with its need and each host's free memory", () => {
    expect(() => planByMemory({ big: 900 * M, small: 100 * M }, [host("a", 500), host("b", 800)])).toThrow(
      /no host fits "big": it needs 900 MiB; a: 500 MiB free for umlab .*; b: 800 MiB free/,
    );
    expect(() => planByMemory({ x: 1 }, [])).toThrow(/at least one host/);
    expect(() => planByMemory({ x: 1 }, [host("a"), host("a")])).toThrow(/host "a" is given twice/);
    expect(() => planByMemory({ x: -1 }, [host("a")])).toThrow(/"x" needs -1 bytes/);
  });

  test("property: every part placed where it fits, no host over budget, same inputs same plan", () => {
    fc.assert(
      fc.property(
        fc.dictionary(fc.stringMatching(/^[a-z][a-z0-9]{0,5}$/), fc.integer({ min: 0, max: 512 }), {
          maxKeys: 12,
        }),
        fc.array(fc.integer({ min: 0, max: 3000 }), { minLength: 1, maxLength: 4 }),
        (demand, caps) => {
          const hosts = caps.map((c, i) => host(`h${i}`, c));
          const bytes = Object.fromEntries(Object.entries(demand).map(([k, v]) => [k, v * M]));
          let p;
          try {
            p = planByMemory(bytes, hosts);
          } catch (e) {
            expect(String(e)).toMatch(/no host fits/);
            return;
          }
          expect(Object.keys(p.hostOf).sort()).toEqual(Object.keys(bytes).sort());
          for (const h of hosts) {
            const sum = Object.entries(p.hostOf)
              .filter(([, x]) => x === h.name)
              .reduce((s, [k]) => s + bytes[k], 0);
            expect(sum).toBe(p.placed[h.name]);
            expect(sum).toBeLessThanOrEqual(memBudget(h));
          }
          expect(planByMemory(bytes, hosts)).toEqual(p);
        },
      ),
    );
  });
});

describe("the hosts file", () => {
  const ok = {
    name: "lab1",
    address: "10.1.0.5",
    runtimeRoot: "/var/tmp/umlab",
    cache: "/var/cache/umlab",
  };

  test("a list of Hosts (defaults filled), each with an optional maxMemory; or {hosts: [...]}", () => {
    const hs = parseHostsFile(
      JSON.stringify([
        { ...ok, maxMemory: "8G" },
        { ...ok, name: "lab2" },
      ]),
      "h.json",
    );
    expect(hs[0]).toEqual({ host: { ...ok, user: "root", port: 22, node: "node" }, capBytes: 8 * G });
    expect(hs[1].capBytes).toBeUndefined();
    expect(parseHostsFile(JSON.stringify({ hosts: [ok] }), "h.json")).toHaveLength(1);
  });

  test.each([
    ["not json", /h\.json: not JSON/],
    ["[]", /give a JSON list of hosts, e\.g\./],
    ['{"a":1}', /give a JSON list of hosts/],
    ["[1]", /h\.json\[0\]: a host is an object/],
    [
      JSON.stringify([{ ...ok, address: "-oProxyCommand=x" }]),
      /h\.json\[0\]: host\.address: use a host name or an IP address/,
    ],
    [
      JSON.stringify([ok, { ...ok, runtimeRoot: "/a/../b" }]),
      /h\.json\[1\]: host\.runtimeRoot: the runtime root: no "\.\."/,
    ],
    [JSON.stringify([ok, ok]), /h\.json\[1\]: host name "lab1" is used twice/],
    [
      JSON.stringify([{ ...ok, maxMemory: "lots" }]),
      /h\.json\[0\]\.maxMemory: "lots" is not a size: use e\.g\. 768M or 8G/,
    ],
    [JSON.stringify([{ ...ok, maxMemory: "0M" }]), /maxMemory: "0M" is not a size/],
    [JSON.stringify([{ ...ok, shell: "rm -rf /" }]), /h\.json\[0\]: host: .*shell/],
  ])("refused: %s", (text, re) => {
    expect(() => parseHostsFile(text, "h.json")).toThrow(UsageError);
    expect(() => parseHostsFile(text, "h.json")).toThrow(re);
  });

  test("a student's host read back from its stack config", () => {
    expect(hostNameOfConfig({ [HOST_KEY]: { value: JSON.stringify({ ...ok }) } })).toBe("lab1");
    expect(hostNameOfConfig({})).toBeUndefined();
    expect(hostNameOfConfig({ [HOST_KEY]: { value: "{not json" } })).toBeUndefined();
  });

  test("--hosts belongs to class up", () => {
    expect(parseClassArgs(["up", "prog", "--students", "2", "--hosts", "h.json"]).hosts).toBe("h.json");
    expect(() => parseClassArgs(["status", "prog", "--hosts", "h.json"])).toThrow(/--hosts is for class up/);
    expect(() => parseClassArgs(["up", "prog", "--students", "2", "--hosts"])).toThrow(
      /--hosts needs a value/,
    );
  });
});

describe("class status: the host column", () => {
  const deployment = (host?: string) => ({
    deployment: {
      resources: [
        { type: "pulumi-nodejs:dynamic/umlab:LabRuntime", outputs: host ? { host: { name: host } } : {} },
        { type: "pulumi-nodejs:dynamic/umlab:Guest", outputs: { pid: 1 } },
      ],
    },
  });
  const alive = () => true;

  test("read from the lab runtime's host; shown only for a class placed on hosts", () => {
    const placed = [
      rowOf("a", "student-a", deployment("host-a"), "", alive),
      rowOf("b", "student-b", deployment(), "", alive),
    ];
    expect(placed.map((r) => r.host)).toEqual(["host-a", null]);
    expect(JSON.parse(renderJson(placed)).students.map((r: { host: unknown }) => r.host)).toEqual([
      "host-a",
      null,
    ]);
    const csv = renderCsv(placed).split("\n");
    expect(csv[0]).toBe("student,stack,host,state,guests_up,guests,passed,total,last_change");
    expect(csv[1]).toBe("a,student-a,host-a,up,1,1,0,0,");
    expect(csv[2]).toBe("b,student-b,,up,1,1,0,0,");
    const t = renderTable(placed).split("\n");
    expect(t[0]).toMatch(/^student\s+host\s+state/);
    expect(t[1]).toMatch(/^a\s+host-a\s+up\s+1\/1/);
    expect(t[2]).toMatch(/^b\s+\(this machine\)\s+up/);
    const local = [rowOf("b", "student-b", deployment(), "", alive)];
    expect(renderCsv(local).split("\n")[0]).toBe(
      "student,stack,state,guests_up,guests,passed,total,last_change",
    );
    expect(renderTable(local)).not.toMatch(/host/);
  });
});

describe("the capacity probe", () => {
  test("MemAvailable and MemTotal from /proc/meminfo's text", () => {
    expect(parseMeminfo("MemTotal:       24683520 kB\nMemFree: 1 kB\nMemAvailable:   23519232 kB\n")).toEqual(
      {
        memTotal: 24683520 * 1024,
        memAvailable: 23519232 * 1024,
      },
    );
    expect(parseMeminfo("MemTotal: 1 kB\n")).toBeUndefined();
    const here = localCapacity();
    expect(here.cores).toBeGreaterThanOrEqual(1);
    expect(here.memAvailable).toBeLessThanOrEqual(here.memTotal);
  });

  test("an answer that is not a capacity is refused, naming where it came from", () => {
    expect(checkCapacity({ memAvailable: 1, memTotal: 2, cores: 1 }, "x")).toEqual({
      memAvailable: 1,
      memTotal: 2,
      cores: 1,
    });
    for (const bad of [
      null,
      {},
      { memAvailable: "1", memTotal: 2, cores: 1 },
      { memAvailable: 1, memTotal: 2, cores: 0 },
      { memAvailable: -1, memTotal: 2, cores: 1 },
    ])
      expect(() => checkCapacity(bad, 'host "b"')).toThrow(/host "b" answered the capacity probe with/);
  });

  test("the remote entry answers a capacity request (the argv ssh runs there, run here)", () => {
    const main = path.resolve(__dirname, "../../../dist/provider/remote-main.js");
    const r = child_process.spawnSync(process.execPath, [main], {
      input: '{"op":"capacity"}\n',
      encoding: "utf8",
    });
    const answer = JSON.parse(r.stdout.trim().split("\n").pop() as string);
    expect(answer.ok).toBe(true);
    expect(checkCapacity(answer.result, "here").cores).toBeGreaterThanOrEqual(1);
  });

  test("placeByMemory: an unreachable host is named; bad sizes name the part", async () => {
    await expect(placeByMemory([dead], { g1: "64M" })).rejects.toThrow(
      /host "deadhost" \(root@192\.0\.2\.9 port 22\) cannot be reached over SSH/,
    );
    expect(() => memoryBytes("lots", 'placeByMemory demand "g1"')).toThrow(
      /demand "g1": "lots" is not a size/,
    );
    expect(memoryBytes("2G", "x")).toBe(2 * G);
    expect(memoryBytes(4096, "x")).toBe(4096);
  });

  test("alive: which pids run, asked where they run; bad lists refused", async () => {
    expect(alivePids([process.pid, 2 ** 22 + 12345])).toEqual([process.pid]);
    for (const bad of ["1", [0], [1.5], ["1"], null])
      expect(() => alivePids(bad)).toThrow(/give a list of process ids/);
    const main = path.resolve(__dirname, "../../../dist/provider/remote-main.js");
    const r = child_process.spawnSync(process.execPath, [main], {
      input: JSON.stringify({ op: "alive", pids: [process.pid] }) + "\n",
      encoding: "utf8",
    });
    expect(JSON.parse(r.stdout.trim().split("\n").pop() as string)).toEqual({
      umlabRemote: 1,
      ok: true,
      result: [process.pid],
    });
    // A student on a host that cannot be asked: named, its guests down; one here: asked here.
    const state = (host?: object) => ({
      deployment: {
        resources: [
          { type: "pulumi-nodejs:dynamic/umlab:LabRuntime", outputs: host ? { host } : {} },
          { type: "pulumi-nodejs:dynamic/umlab:Guest", outputs: { pid: process.pid } },
        ],
      },
    });
    expect(hostOfState(state(dead))?.name).toBe("deadhost");
    expect(hostOfState(state())).toBeUndefined();
    const lines: string[] = [];
    const [there, here] = await liveness([state(dead), state()], (l) => lines.push(l));
    expect([there(process.pid), here(process.pid)]).toEqual([false, true]);
    expect(lines.join("\n")).toMatch(
      /host "deadhost" .*cannot tell which guests run there \(shown as down\)/,
    );
  });
});
