// Class mode, the pure part (no I/O): the command line, the student list, each student's stack
// name and config, the admission arithmetic (memory and idle CPU), and the per-student rows
// read from a stack's state. The effects (Automation API, /proc) are in class.ts; the table,
// CSV and JSON renderings in class-render.ts.
import { createHash } from "crypto";
import { UsageError } from "./args";
import { CPU_SHARE, MEM_SHARE } from "../provider/core/placement";

export type ClassCommand = "up" | "status" | "check" | "reset" | "down";

export interface ClassArgs {
  command: ClassCommand;
  program: string;
  /** Students named on the command line (`--students`, or the one `reset` names); undefined: every student stack. */
  students?: Student[];
  parallel: number;
  format: "table" | "json" | "csv";
  force: boolean;
  /** `--set key=value` (repeatable): config of every student; `{student}`, `{index}` are filled in. */
  sets: [string, string][];
  /** `--seed <text>`: mixed into each student's seed (a new exercise for the same names). */
  seed: string;
  /** `--hosts <file>` (up): place each student's lab on one of these hosts (cli/class-hosts.ts). */
  hosts?: string;
}

export interface Student {
  name: string;
  /** 1-based position in the class. */
  index: number;
}

/** A student name: it becomes part of a stack name, a lab id and socket paths. */
export const STUDENT_RE = /^[a-z][a-z0-9-]{0,15}$/;

/** The stack of a student: `student-<name>`. */
export const stackOf = (s: Pick<Student, "name">) => `student-${s.name}`;
/** The student of a stack name, or undefined for a stack that is not a student's. */
export function studentOfStack(stack: string): string | undefined {
  const m = /^(?:.*\/)?student-([a-z][a-z0-9-]{0,15})$/.exec(stack);
  return m ? m[1] : undefined;
}

/** `a,b,c` (names, in that order) or `N` (s1 … sN). Duplicates and bad names are refused. */
export function parseStudents(spec: string): Student[] {
  const t = spec.trim();
  if (/^\d+$/.test(t)) {
    const n = Number(t);
    if (n < 1 || n > 200) throw new UsageError(`--students ${t}: a class has 1 to 200 students`);
    return Array.from({ length: n }, (_, i) => ({ name: `s${i + 1}`, index: i + 1 }));
  }
  const names = t.split(",").map((s) => s.trim());
  const seen = new Set<string>();
  return names.map((name, i) => {
    if (!STUDENT_RE.test(name))
      throw new UsageError(
        `--students: "${name}" is not a student name (1-16 lower-case letters, digits and '-', ` +
          `starting with a letter; e.g. --students alice,bob or --students 5)`,
      );
    if (seen.has(name)) throw new UsageError(`--students: "${name}" is named twice`);
    seen.add(name);
    return { name, index: i + 1 };
  });
}

/** A student's seed for randomised exercises: stable for (class seed, name), 0 … 2^31-1. */
export function seedOf(name: string, classSeed = ""): number {
  return createHash("sha256").update(`${classSeed}\0${name}`).digest().readUInt32BE(0) & 0x7fffffff;
}

/**
 * The config a student's stack gets (keys of the program's own namespace: read them with
 * `new pulumi.Config().get("student")` etc.): student, studentIndex, studentCount, studentSeed,
 * and every `--set key=value` with `{student}`, `{index}` filled in (e.g. --set net=10.{index}.0).
 */
export function studentConfig(
  s: Student,
  count: number,
  sets: [string, string][],
  classSeed = "",
): Record<string, string> {
  const out: Record<string, string> = {
    student: s.name,
    studentIndex: String(s.index),
    studentCount: String(count),
    studentSeed: String(seedOf(s.name, classSeed)),
  };
  for (const [k, v] of sets)
    out[k] = v.replace(/\{student\}/g, s.name).replace(/\{index\}/g, String(s.index));
  return out;
}

const COMMANDS = ["up", "status", "check", "reset", "down"];
const USAGE_HINT =
  "umlab class up|status|check|reset|down <program dir> [--students <a,b,c | N>] [--hosts hosts.json]";

/** Parse `umlab class …` (the words after `class`). */
export function parseClassArgs(args: string[]): ClassArgs {
  const [command, ...rest] = args;
  if (!COMMANDS.includes(command))
    throw new UsageError(`class: unknown command "${command ?? ""}"; ${USAGE_HINT}`);
  const out: ClassArgs = {
    command: command as ClassCommand,
    program: "",
    parallel: 2,
    format: "table",
    force: false,
    sets: [],
    seed: "",
  };
  const positional: string[] = [];
  for (let i = 0; i < rest.length; i++) {
    const [flag, inline] = rest[i].startsWith("--") ? rest[i].split(/=(.*)/s) : [rest[i], undefined];
    const value = () => {
      const v = inline ?? rest[++i];
      if (v === undefined) throw new UsageError(`class: ${flag} needs a value`);
      return v;
    };
    if (flag === "--students") out.students = parseStudents(value());
    else if (flag === "--parallel") {
      const v = value();
      out.parallel = Number(v);
      if (!Number.isInteger(out.parallel) || out.parallel < 1 || out.parallel > 32)
        throw new UsageError(`class: --parallel wants a whole number from 1 to 32, not "${v}"`);
    } else if (flag === "--json" || flag === "--csv") out.format = flag === "--json" ? "json" : "csv";
    else if (flag === "--force") out.force = true;
    else if (flag === "--seed") out.seed = value();
    else if (flag === "--hosts") out.hosts = value();
    else if (flag === "--set") {
      const v = value();
      const m = /^([A-Za-z][A-Za-z0-9_]*)=(.*)$/s.exec(v);
      if (!m) throw new UsageError(`class: --set wants key=value (key: letters, digits, _), not "${v}"`);
      if (["student", "studentIndex", "studentCount", "studentSeed"].includes(m[1]))
        throw new UsageError(`class: --set ${m[1]}: that key is set by the class itself`);
      out.sets.push([m[1], m[2]]);
    } else if (flag.startsWith("-")) throw new UsageError(`class: unknown option ${flag}`);
    else positional.push(flag);
  }
  if (positional.length === 0)
    throw new UsageError(`class ${command}: name the program directory; ${USAGE_HINT}`);
  out.program = positional[0];
  if (command === "reset") {
    if (positional.length !== 2 || out.students)
      throw new UsageError(
        "class reset: name one student after the program: umlab class reset <program dir> <student>",
      );
    if (!STUDENT_RE.test(positional[1]))
      throw new UsageError(`class reset: "${positional[1]}" is not a student name`);
    out.students = [{ name: positional[1], index: 0 }];
  } else if (positional.length > 1)
    throw new UsageError(`class ${command}: unexpected argument "${positional[1]}"`);
  if (out.hosts !== undefined && command !== "up")
    throw new UsageError(
      `class ${command}: --hosts is for class up (status reads each student's host from its stack)`,
    );
  if (command === "up" && !out.students)
    throw new UsageError("class up: give the students: --students alice,bob,carol or --students 5");
  return out;
}

// ---- admission ----

/**
 * Idle CPU of one running guest, in cores, by what it runs: the CPU time of a student's UML and
 * switch processes over 20 s with its lab idle and checked, per guest (/proc/<pid>/stat utime +
 * stime; tests/integration/class.test.ts prints it).
 *  - frr-bfd: examples/ospf-ring (zebra, ospfd, staticd, bfdd at 100 ms x 3). class.test.ts,
 *    5 rings idle on this 2-core host while other labs ran (load average 23): 0.046-0.052 per
 *    router; issue 15 on a quiet host: 12.6 % of a core per ring, 0.032 per router. The table
 *    takes the loaded figure: a class must not starve on a busy host either.
 *    Again with `bench/class.ts`'s measuring (UML process groups and switches apart, 25 s, one
 *    ring, load average 10): 0.043 per router + 0.002 (its share of the switches): 0.045.
 *  - frr: examples/ospf-ring `profile: class` (no bfdd; OSPF hello 1 s / dead 3 s), measured the
 *    same way twice: 0.0057 and 0.0060 per router + 0.0006-0.0009 of switches: 0.007 (issue 15,
 *    bfdd stopped on a quiet host: 2.9 % per ring, 0.007). Reroute after the transit node is
 *    killed (50 ms ping): 2.2 s, against 0.2 s with BFD. 30 class-profile rings: 0.84 cores.
 *  - debian: FRR with every daemon stopped: 0.3 % per ring (issue 15), rounded up to 0.002.
 *  - busybox: examples/quickstart, class.test.ts with 3 students: 0.0002-0.0007 per guest
 *    (issue 15: 0.2 % for three guests); rounded up to 0.001.
 */
export const IDLE_CPU: Record<GuestKind, number> = {
  "frr-bfd": 0.046,
  frr: 0.007,
  debian: 0.002,
  busybox: 0.001,
};
export type GuestKind = "frr-bfd" | "frr" | "debian" | "busybox";

/** The share of the host's cores an idle class may take: at 65 % boots slowed 5x, at 96 % checks failed (issue 15). */
export const CPU_BUDGET = CPU_SHARE;
/** The share of MemAvailable the class's guest memory may take. */
export const MEM_BUDGET = MEM_SHARE;

/** What a preview of a student's stack shows: its guests (memory if known, files) and images. */
export interface GuestPreview {
  memory?: unknown;
  files?: unknown;
}
export interface ImagePreview {
  preset?: unknown;
}

/** A guest's kind, from its FRR daemons file, else its program's images. */
export function guestKind(g: GuestPreview, images: ImagePreview[]): GuestKind {
  const files = (g.files && typeof g.files === "object" ? g.files : {}) as Record<string, unknown>;
  const daemons = files["/etc/frr/daemons"];
  if (typeof daemons === "string") return /^bfdd=yes/m.test(daemons) ? "frr-bfd" : "frr";
  return images.some((i) => i.preset !== "busybox") ? "debian" : "busybox";
}

/** "64M", "1G", "512K" in bytes; undefined when not such a size (e.g. unknown during preview). */
export function sizeBytes(v: unknown): number | undefined {
  const m = typeof v === "string" ? /^(\d+)([KMG])$/.exec(v) : null;
  if (!m) return undefined;
  return Number(m[1]) * { K: 1024, M: 1024 ** 2, G: 1024 ** 3 }[m[2] as "K" | "M" | "G"];
}

/** One student's cost: guest memory (unknown memory: the image default, 128M Debian, 64M busybox) and idle CPU. */
export function studentCost(guests: GuestPreview[], images: ImagePreview[]) {
  const kinds = guests.map((g) => guestKind(g, images));
  const mem = guests.reduce(
    (sum, g, i) => sum + (sizeBytes(g.memory) ?? (kinds[i] === "busybox" ? 64 : 128) * 1024 ** 2),
    0,
  );
  const cpu = kinds.reduce((sum, k) => sum + IDLE_CPU[k], 0);
  return { guests: guests.length, kinds, memBytes: mem, cpuCores: cpu };
}

export interface Admission {
  ok: boolean;
  /** How many students of this program the host holds (memory and CPU). */
  fit: number;
  fitMem: number;
  fitCpu: number;
  message: string;
}

/** May `students` students of this cost start on a host with these cores and MemAvailable? */
export function admit(
  students: number,
  cost: { memBytes: number; cpuCores: number; guests: number },
  host: { cores: number; memAvailable: number },
): Admission {
  const memBudget = host.memAvailable * MEM_BUDGET;
  const cpuBudget = host.cores * CPU_BUDGET;
  const fitMem = cost.memBytes > 0 ? Math.floor(memBudget / cost.memBytes) : Infinity;
  const fitCpu = cost.cpuCores > 0 ? Math.floor(cpuBudget / cost.cpuCores + 1e-9) : Infinity;
  const fit = Math.min(fitMem, fitCpu);
  const mib = (b: number) => `${Math.round(b / 1024 ** 2)} MiB`;
  const detail =
    `${students} students x ${cost.guests} guests: memory ${mib(students * cost.memBytes)} of ` +
    `${mib(memBudget)} (${MEM_BUDGET * 100} % of MemAvailable ${mib(host.memAvailable)}), idle CPU ` +
    `${(students * cost.cpuCores).toFixed(2)} of ${cpuBudget.toFixed(2)} cores (${CPU_BUDGET * 100} % of ${host.cores})`;
  const ok = students <= fit;
  const limit = fitCpu <= fitMem ? "CPU" : "memory";
  return {
    ok,
    fit,
    fitMem,
    fitCpu,
    message: ok
      ? `admission: ${detail}: fits (up to ${fit})`
      : `admission refused: ${detail}. This host holds ${fit} students of this program (${limit} is the limit); ` +
        `start at most ${fit} (--students ${fit}), or pass --force to start them anyway (the running labs may starve)`,
  };
}
