// umlab class up|status|check|reset|down <program dir> --students <a,b,c | N>: one stack per
// student (`student-<name>`) of one program, through Pulumi's Automation API over the program
// folder with the lab folder's environment (toolchain.ts: file backend in <program>/.pulumi-state).
// The pure parts (arguments, students, config, admission) are in class-plan.ts; rows and their
// renderings in class-render.ts.
import * as fs from "fs";
import * as path from "path";
import { LocalWorkspace, Stack, EngineEvent } from "@pulumi/pulumi/automation";
import { localCapacity } from "../provider/host/capacity";
import { UsageError } from "./args";
import { projectDir, toolchainBin, labEnv, fileBackendDir } from "./toolchain";
import { privateStateDir } from "./pulumi";
import {
  parseClassArgs,
  ClassArgs,
  Student,
  stackOf,
  studentOfStack,
  studentConfig,
  studentCost,
  admit,
  GuestPreview,
  ImagePreview,
} from "./class-plan";
import { rowOf, renderTable, renderJson, renderCsv, StudentRow } from "./class-render";
import { placeClass, readHostsFile, liveness } from "./class-place";
import { HOST_KEY } from "./class-hosts";
import type { Host } from "../provider/host/remote-argv";

interface ClassEnv {
  project: string;
  envVars: Record<string, string>;
}

async function classEnv(program: string): Promise<ClassEnv> {
  const project = projectDir(program);
  if (!project || path.resolve(program) !== project)
    throw new UsageError(`class: ${program} is not a Pulumi program folder (no Pulumi.yaml in it)`);
  const bin = await toolchainBin(false);
  const env = labEnv(bin, project, process.env);
  // The Automation API runs the `pulumi` on this process's PATH: the toolchain's.
  process.env.PATH = env.PATH;
  process.umask(0o077);
  const stateDir = fileBackendDir(env.PULUMI_BACKEND_URL ?? "");
  if (stateDir) privateStateDir(stateDir);
  const envVars: Record<string, string> = {};
  for (const [k, v] of Object.entries(env)) if (v !== undefined) envVars[k] = v;
  return { project, envVars };
}

const t0 = Date.now();
/** One progress line per student per phase (stderr: stdout stays the table/JSON/CSV). */
function progress(student: string, what: string): void {
  process.stderr.write(
    `[${((Date.now() - t0) / 1000).toFixed(1).padStart(6)} s] ${student.padEnd(16)} ${what}\n`,
  );
}

/** Run `fn` over `items`, at most `k` at a time; every item runs, failures are collected. */
export async function pool<T, R>(items: T[], k: number, fn: (t: T) => Promise<R>): Promise<(R | Error)[]> {
  const out: (R | Error)[] = new Array(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      try {
        out[i] = await fn(items[i]);
      } catch (e) {
        out[i] = e instanceof Error ? e : new Error(String(e));
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(k, items.length) }, worker));
  return out;
}

async function openStack(ce: ClassEnv, s: Pick<Student, "name">, create: boolean): Promise<Stack> {
  const opts = { stackName: stackOf(s), workDir: ce.project };
  const ws = { envVars: ce.envVars };
  return create ? LocalWorkspace.createOrSelectStack(opts, ws) : LocalWorkspace.selectStack(opts, ws);
}

/** The class's existing student stacks, with when each last changed. */
async function existingStudents(ce: ClassEnv): Promise<Map<string, string>> {
  const ws = await LocalWorkspace.create({ workDir: ce.project, envVars: ce.envVars });
  const out = new Map<string, string>();
  for (const s of await ws.listStacks()) {
    const name = studentOfStack(s.name);
    if (name) out.set(name, s.lastUpdate ? new Date(s.lastUpdate).toISOString() : "");
  }
  return out;
}

/**
 * What one student's stack costs under the config just set: a preview's guests and images
 * (every step's new inputs, unchanged ones too). Not the state's: a class re-run with another
 * profile would be priced at the old one.
 */
async function previewCost(stack: Stack) {
  // By URN: a replace (e.g. a student moved to another host) sends several steps per resource.
  const guests = new Map<string, GuestPreview>();
  const images = new Map<string, ImagePreview>();
  await stack.preview({
    onEvent: (e: EngineEvent) => {
      const m = e.resourcePreEvent?.metadata;
      if (!m?.new) return;
      if (m.type.endsWith("umlab:Guest")) guests.set(m.urn, m.new.inputs ?? {});
      if (m.type.endsWith("umlab:Image")) images.set(m.urn, m.new.inputs ?? {});
    },
  });
  return studentCost([...guests.values()], [...images.values()]);
}

async function upOne(
  ce: ClassEnv,
  s: Student,
  a: ClassArgs,
  count: number,
  fresh: boolean,
  host?: Host,
): Promise<void> {
  const t = Date.now();
  const stack = await openStack(ce, s, true);
  await stack.setAllConfig({
    ...Object.fromEntries(
      Object.entries(studentConfig(s, count, a.sets, a.seed)).map(([k, v]) => [k, { value: v }]),
    ),
    // The student's program runs its Lab there (sdk/lab.ts reads it as the default host).
    ...(host ? { [HOST_KEY]: { value: JSON.stringify(host) } } : {}),
  });
  if (host) progress(s.name, `on host ${host.name}`);
  if (fresh) {
    progress(s.name, "destroy (reset)");
    await stack.destroy();
  } else {
    progress(s.name, "refresh (a guest killed behind umlab's back is repaired by the up)");
    await stack.refresh();
  }
  // The checks run again in full (their retries and deadline): a refresh ran each once only,
  // and an up that changes nothing else would keep that verdict.
  const checks = ((await stack.exportStack()).deployment?.resources ?? [])
    .filter((r: { type: string }) => r.type.endsWith("umlab:Checks"))
    .map((r: { urn: string }) => r.urn);
  progress(s.name, "up");
  let created = 0;
  const up = await stack.up({
    replace: checks,
    onEvent: (e) => {
      const m = e.resOutputsEvent?.metadata;
      if (m && m.op !== "same" && m.type.endsWith("umlab:Guest"))
        progress(s.name, `guest ${++created} ready: ${m.urn.split("::").pop()}`);
    },
  });
  const ok = up.outputs.checksOk?.value;
  progress(
    s.name,
    `up done in ${((Date.now() - t) / 1000).toFixed(1)} s` +
      (ok === undefined ? "" : ok ? ", checks pass" : ", CHECKS FAIL"),
  );
}

async function rows(ce: ClassEnv, students: string[], existing: Map<string, string>): Promise<StudentRow[]> {
  const exported = await pool(students, 4, async (name) =>
    existing.has(name) ? (await openStack(ce, { name }, false)).exportStack() : {},
  );
  const states = exported.map((e) => (e instanceof Error ? {} : e));
  // Each guest's pid is asked about where it runs (this machine, or its host).
  const alive = await liveness(states, (l) => console.error(l));
  return students.map((name, i) =>
    rowOf(
      name,
      stackOf({ name }),
      states[i],
      exported[i] instanceof Error ? "" : (existing.get(name) ?? ""),
      alive[i],
    ),
  );
}

function render(a: ClassArgs, r: StudentRow[]): string {
  return a.format === "json" ? renderJson(r) : a.format === "csv" ? renderCsv(r) : renderTable(r);
}

function failures(names: string[], results: (unknown | Error)[]): string[] {
  // The engine's error lines (what failed and why), else the message's end.
  const why = (m: string[]) =>
    m.some((l) => /error/i.test(l)) ? m.filter((l) => /error/i.test(l)) : m.slice(-8);
  return results.flatMap((r, i) =>
    r instanceof Error ? [`${names[i]}: ${why(r.message.split("\n")).slice(0, 8).join("\n  ")}`] : [],
  );
}

export async function cmdClass(args: string[]): Promise<number> {
  const a = parseClassArgs(args);
  const ce = await classEnv(a.program);
  const existing = await existingStudents(ce);
  const named = a.students?.map((s) => s.name) ?? [...existing.keys()].sort();
  if (a.command !== "up" && a.command !== "reset" && named.length === 0) {
    console.error(
      `umlab: class ${a.command}: no student stacks in ${ce.project} (start a class with umlab class up)`,
    );
    return a.command === "down" ? 0 : 1;
  }
  if (a.command === "up") {
    const students = a.students as Student[];
    const hosts = a.hosts === undefined ? undefined : readHostsFile(a.hosts);
    const running = new Set([...existing.keys(), ...students.map((s) => s.name)]).size;
    const cost = await previewCost(
      await openStack(ce, students[0], true).then(async (st) => {
        await st.setAllConfig(
          Object.fromEntries(
            Object.entries(studentConfig(students[0], students.length, a.sets, a.seed)).map(([k, v]) => [
              k,
              { value: v },
            ]),
          ),
        );
        return st;
      }),
    );
    let placed: Map<string, Host> | undefined;
    if (hosts) {
      // Admission per host: each student's whole lab on one host where it fits.
      placed = await placeClass({
        hostsFile: a.hosts as string,
        hosts,
        students: students.map((s) => s.name),
        existing: [...existing.keys()],
        cost,
        force: a.force,
        configOf: async (name) => (await openStack(ce, { name }, false)).getAllConfig(),
        log: (l) => console.error(l),
      });
      if (!placed) return 3;
    } else {
      const adm = admit(running, cost, localCapacity());
      console.error(
        `umlab: ${adm.message}` +
          (running > students.length
            ? ` (${running - students.length} more student stacks of this program exist)`
            : ""),
      );
      if (!adm.ok && !a.force) return 3;
    }
    const t = Date.now();
    const res = await pool(students, a.parallel, (s) =>
      upOne(ce, s, a, students.length, false, placed?.get(s.name)),
    );
    console.error(
      `umlab: class up: ${students.length} students in ${((Date.now() - t) / 1000).toFixed(1)} s (parallel ${a.parallel})`,
    );
    for (const f of failures(named, res)) console.error(`umlab: ${f}`);
    console.log(render(a, await rows(ce, named, await existingStudents(ce))));
    return res.some((r) => r instanceof Error) ? 1 : 0;
  }
  if (a.command === "reset") {
    const s = (a.students as Student[])[0];
    if (!existing.has(s.name))
      throw new UsageError(
        `class reset: no stack student-${s.name} (students: ${[...existing.keys()].join(", ") || "none"})`,
      );
    const stack = await openStack(ce, s, false);
    const cfg = await stack.getAllConfig();
    const index = Number(Object.entries(cfg).find(([k]) => k.endsWith(":studentIndex"))?.[1].value ?? 0);
    const count = Number(
      Object.entries(cfg).find(([k]) => k.endsWith(":studentCount"))?.[1].value ?? existing.size,
    );
    await upOne(ce, { name: s.name, index }, a, count, true);
    console.log(render(a, await rows(ce, [s.name], await existingStudents(ce))));
    return 0;
  }
  if (a.command === "down") {
    const res = await pool(
      named.filter((n) => existing.has(n)),
      a.parallel,
      async (name) => {
        const stack = await openStack(ce, { name }, false);
        progress(name, "destroy");
        await stack.destroy();
        await stack.workspace.removeStack(stack.name);
        fs.rmSync(path.join(ce.project, `Pulumi.${stack.name}.yaml`), { force: true });
        progress(name, "removed");
      },
    );
    for (const f of failures(named, res)) console.error(`umlab: ${f}`);
    return res.some((r) => r instanceof Error) ? 1 : 0;
  }
  const unknown = named.filter((n) => !existing.has(n));
  if (unknown.length)
    console.error(`umlab: class ${a.command}: no stack for ${unknown.join(", ")} (shown as down)`);
  if (a.command === "check")
    // A refresh reads every guest and runs every check once more (Checks read).
    await pool(
      named.filter((n) => existing.has(n)),
      a.parallel,
      async (name) => {
        progress(name, "check (refresh)");
        await (await openStack(ce, { name }, false)).refresh();
      },
    );
  const r = await rows(ce, named, await existingStudents(ce));
  console.log(render(a, r));
  return r.every((x) => x.state === "up" && x.failed === 0) ? 0 : 1;
}
