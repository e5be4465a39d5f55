// Class mode's pure parts: the student list, stack names, per-student config, the admission
// arithmetic, the rows read from a stack's state and their table/JSON/CSV renderings.
import * as fc from "fast-check";
import {
  parseStudents,
  parseClassArgs,
  stackOf,
  studentOfStack,
  studentConfig,
  seedOf,
  admit,
  studentCost,
  guestKind,
  sizeBytes,
  IDLE_CPU,
  CPU_BUDGET,
  STUDENT_RE,
} from "../../../cli/class-plan";
import { rowOf, renderCsv, renderJson, renderTable, csvField, StudentRow } from "../../../cli/class-render";
import { UsageError } from "../../../cli/args";
import { labId } from "../../../provider/core/naming";

const name = fc.stringMatching(/^[a-z][a-z0-9-]{0,15}$/);

describe("class: students", () => {
  test("N gives s1..sN with indexes; a list keeps its order", () => {
    expect(parseStudents("3")).toEqual([
      { name: "s1", index: 1 },
      { name: "s2", index: 2 },
      { name: "s3", index: 3 },
    ]);
    expect(parseStudents(" bob, alice ")).toEqual([
      { name: "bob", index: 1 },
      { name: "alice", index: 2 },
    ]);
  });

  test.each([
    ["0", /1 to 200/],
    ["201", /1 to 200/],
    ["a,a", /named twice/],
    ["Alice", /not a student name/],
    ["a/../b", /not a student name/],
    ["x,,y", /not a student name/],
    ["a-very-long-student-name", /not a student name/],
    ["-a", /not a student name/],
  ])("%s is refused naming the field", (spec, msg) => {
    expect(() => parseStudents(spec)).toThrow(UsageError);
    expect(() => parseStudents(spec)).toThrow(msg);
    expect(() => parseStudents(spec)).toThrow(/--students/);
  });

  test("property: any accepted list round-trips through stack names, and stacks never collide", () => {
    fc.assert(
      fc.property(fc.uniqueArray(name, { minLength: 1, maxLength: 20 }), (names) => {
        const students = parseStudents(names.join(","));
        expect(students.map((s) => studentOfStack(stackOf(s)))).toEqual(names);
        expect(new Set(students.map(stackOf)).size).toBe(names.length);
        // Their labs (project + stack) never share an id either.
        expect(new Set(students.map((s) => labId("umlab-ospf-ring", stackOf(s)))).size).toBe(names.length);
      }),
    );
  });

  test("property: whatever the string, parseStudents accepts only valid names or throws a UsageError", () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 40 }), (spec) => {
        try {
          for (const s of parseStudents(spec)) expect(STUDENT_RE.test(s.name)).toBe(true);
        } catch (e) {
          expect(e).toBeInstanceOf(UsageError);
        }
      }),
    );
  });

  test("a stack that is not a student's is not taken for one", () => {
    expect(studentOfStack("dev")).toBeUndefined();
    expect(studentOfStack("organization/p/student-s1")).toBe("s1");
    expect(studentOfStack("student-")).toBeUndefined();
    expect(studentOfStack("xstudent-a")).toBeUndefined();
  });
});

describe("class: per-student config", () => {
  test("name, index, count, seed, and --set templates", () => {
    const c = studentConfig(
      { name: "bob", index: 3 },
      5,
      [
        ["net", "10.{index}.0.0/24"],
        ["who", "{student}"],
      ],
      "x",
    );
    expect(c).toEqual({
      student: "bob",
      studentIndex: "3",
      studentCount: "5",
      studentSeed: String(seedOf("bob", "x")),
      net: "10.3.0.0/24",
      who: "bob",
    });
  });

  test("property: seeds are stable, in range, and change with the class seed", () => {
    fc.assert(
      fc.property(name, fc.string(), (n, s) => {
        expect(seedOf(n, s)).toBe(seedOf(n, s));
        expect(seedOf(n, s)).toBeGreaterThanOrEqual(0);
        expect(seedOf(n, s)).toBeLessThan(2 ** 31);
      }),
    );
    expect(seedOf("a", "1")).not.toBe(seedOf("a", "2"));
  });
});

describe("class: the command line", () => {
  test("up with options", () => {
    const a = parseClassArgs(["up", "lab", "--students=a,b", "--parallel", "3", "--json", "--set", "k=v=w"]);
    expect(a).toMatchObject({
      command: "up",
      program: "lab",
      parallel: 3,
      format: "json",
      sets: [["k", "v=w"]],
    });
    expect(a.students?.map((s) => s.name)).toEqual(["a", "b"]);
  });

  test("reset names one student; status needs no list", () => {
    expect(parseClassArgs(["reset", "lab", "s3"]).students).toEqual([{ name: "s3", index: 0 }]);
    expect(parseClassArgs(["status", "lab", "--csv"]).students).toBeUndefined();
  });

  test.each([
    [["up", "lab"], /give the students/],
    [["fly", "lab"], /unknown command/],
    [["status"], /name the program/],
    [["up", "lab", "--students", "2", "--parallel", "0"], /--parallel/],
    [["up", "lab", "--students"], /--students needs a value/],
    [["up", "lab", "--students", "2", "--set", "student=x"], /set by the class itself/],
    [["up", "lab", "--students", "2", "--set", "a b"], /key=value/],
    [["reset", "lab"], /name one student/],
    [["reset", "lab", "Bad!"], /not a student name/],
    [["status", "lab", "extra"], /unexpected argument/],
    [["status", "lab", "--bogus"], /unknown option --bogus/],
  ])("%j is refused: %s", (args, msg) => {
    expect(() => parseClassArgs(args as string[])).toThrow(msg);
  });
});

describe("class: admission", () => {
  const ring = {
    guests: Array.from({ length: 4 }, () => ({ files: { "/etc/frr/daemons": "ospfd=yes\nbfdd=yes\n" } })),
    images: [{ preset: "debian" }],
  };
  const host = { cores: 2, memAvailable: 20 * 1024 ** 3 };

  test("guest kinds: FRR with BFD, without, Debian, busybox; unknown memory takes the image default", () => {
    expect(guestKind(ring.guests[0], ring.images)).toBe("frr-bfd");
    expect(guestKind({ files: { "/etc/frr/daemons": "bfdd=no\n" } }, ring.images)).toBe("frr");
    expect(guestKind({}, [{ preset: "debian" }])).toBe("debian");
    expect(guestKind({ memory: "64M" }, [{ preset: "busybox" }])).toBe("busybox");
    const c = studentCost(ring.guests, ring.images);
    expect(c.memBytes).toBe(4 * 128 * 1024 ** 2);
    expect(c.cpuCores).toBeCloseTo(4 * IDLE_CPU["frr-bfd"]);
    expect(studentCost([{ memory: "1G" }], [{ preset: "busybox" }]).memBytes).toBe(1024 ** 3);
    expect(sizeBytes("04da6b54-80e4-46f7-96ec-b56ff0331ba9")).toBeUndefined();
  });

  test("an OSPF ring class on 2 cores is limited by CPU, and the refusal says how many fit and --force", () => {
    const c = studentCost(ring.guests, ring.images);
    const a = admit(30, c, host);
    expect(a.ok).toBe(false);
    expect(a.fit).toBe(a.fitCpu);
    expect(a.fitCpu).toBeLessThan(a.fitMem);
    expect(a.fit).toBe(Math.floor((2 * CPU_BUDGET) / c.cpuCores));
    expect(a.message).toMatch(new RegExp(`holds ${a.fit} students`));
    expect(a.message).toMatch(/CPU is the limit/);
    expect(a.message).toMatch(/--force/);
    expect(admit(5, c, host).ok).toBe(true);
  });

  test("memory refuses when guests' memory exceeds what is available", () => {
    const a = admit(
      10,
      { memBytes: 1024 ** 3, cpuCores: 0.001, guests: 1 },
      { cores: 2, memAvailable: 8 * 1024 ** 3 },
    );
    expect(a).toMatchObject({ ok: false, fitMem: 7 });
    expect(a.message).toMatch(/memory is the limit/);
  });

  test("property: admitted exactly when students <= fit, and fit students fit both budgets", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 200 }),
        fc.integer({ min: 1, max: 8 * 1024 }),
        fc.integer({ min: 1, max: 500 }),
        fc.integer({ min: 1, max: 64 }),
        fc.integer({ min: 64, max: 256 * 1024 }),
        (n, memMiB, cpuMilli, cores, availMiB) => {
          const cost = { memBytes: memMiB * 1024 ** 2, cpuCores: cpuMilli / 1000, guests: 1 };
          const a = admit(n, cost, { cores, memAvailable: availMiB * 1024 ** 2 });
          expect(a.ok).toBe(n <= a.fit);
          expect(a.fit * cost.memBytes).toBeLessThanOrEqual(availMiB * 1024 ** 2 * 0.9 + 1);
          expect(a.fit * cost.cpuCores).toBeLessThanOrEqual(cores * CPU_BUDGET + 1e-6);
          expect(
            (a.fit + 1) * cost.memBytes > availMiB * 1024 ** 2 * 0.9 ||
              (a.fit + 1) * cost.cpuCores > cores * CPU_BUDGET - 1e-6,
          ).toBe(true);
        },
      ),
    );
  });
});

describe("class: rows and renderings", () => {
  const deployment = (pids: number[], results: { name: string; ok: boolean }[]) => ({
    deployment: {
      resources: [
        ...pids.map((pid) => ({ type: "pulumi-nodejs:dynamic/umlab:Guest", outputs: { pid } })),
        { type: "pulumi-nodejs:dynamic/umlab:Checks", outputs: { results } },
        { type: "pulumi-nodejs:dynamic/umlab:Switch", outputs: { pid: 1 } },
      ],
    },
  });
  const alive = (pid: number) => pid < 100;

  test("up, partial, down from the guests' processes; checks from the Checks results", () => {
    const r = rowOf(
      "a",
      "student-a",
      deployment(
        [1, 2],
        [
          { name: "x", ok: true },
          { name: "y", ok: false },
        ],
      ),
      "t",
      alive,
    );
    expect(r).toMatchObject({ state: "up", guestsUp: 2, guests: 2, passed: 1, failed: 1 });
    expect(rowOf("a", "s", deployment([1, 200], []), "", alive).state).toBe("partial");
    expect(rowOf("a", "s", deployment([300], []), "", alive).state).toBe("down");
    expect(rowOf("a", "s", {}, "", alive)).toMatchObject({ state: "down", guests: 0, checks: [] });
  });

  const rows: StudentRow[] = [
    rowOf(
      "a",
      "student-a",
      deployment(
        [1],
        [
          { name: "n1 reaches 10.0.0.2", ok: true },
          { name: 'say "hi", =1', ok: false },
        ],
      ),
      "2026-01-01T00:00:00.000Z",
      alive,
    ),
    rowOf("b", "student-b", deployment([1], [{ name: "n1 reaches 10.0.0.2", ok: true }]), "", alive),
  ];

  test("JSON lists every student's every check", () => {
    const j = JSON.parse(renderJson(rows));
    expect(j.students).toHaveLength(2);
    expect(j.students[0].checks).toEqual([
      { name: "n1 reaches 10.0.0.2", ok: true },
      { name: 'say "hi", =1', ok: false },
    ]);
  });

  test("CSV: a column per check, quoting and spreadsheet formulas defused", () => {
    const lines = renderCsv(rows).trimEnd().split("\n");
    expect(lines[0]).toBe(
      'student,stack,state,guests_up,guests,passed,total,last_change,n1 reaches 10.0.0.2,"say ""hi"", =1"',
    );
    expect(lines[1]).toBe("a,student-a,up,1,1,1,2,2026-01-01T00:00:00.000Z,pass,fail");
    expect(lines[2]).toBe("b,student-b,up,1,1,1,1,,pass,");
    expect(csvField("=cmd()")).toBe("'=cmd()");
  });

  test("property: a CSV field parses back to its text (less a defusing quote)", () => {
    fc.assert(
      fc.property(fc.string(), (s) => {
        const f = csvField(s);
        const back = f.startsWith('"') ? f.slice(1, -1).replace(/""/g, '"') : f;
        expect(back === s || back === `'${s}`).toBe(true);
        if (!f.startsWith('"')) expect(f).not.toMatch(/[",\r\n]/);
      }),
    );
  });

  test("the table: a line per student, + and - per check, what failed", () => {
    const t = renderTable(rows).split("\n");
    expect(t[0]).toMatch(/^student\s+state\s+guests\s+checks/);
    expect(t[1]).toMatch(/^a\s+up\s+1\/1\s+1\/2\s+\+-\s+2026-01-01 00:00:00\s+say "hi", =1$/);
    expect(t[2]).toMatch(/^b\s+up\s+1\/1\s+1\/1\s+\+\.\s*$/);
    expect(t[3]).toMatch(/1\. n1 reaches 10\.0\.0\.2 \| 2\. say/);
  });
});
