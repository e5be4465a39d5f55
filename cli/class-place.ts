// Class mode over several hosts, the effects: read the hosts file, probe each host's capacity
// over ssh (provider/host/capacity.ts: the remote entry's `capacity` request, a fixed argv),
// read where each student is now (its stack's `umlab:host`), and place every student's whole
// lab on one host (provider/core/placement.ts placeStudents). Errors name the host.
import * as fs from "fs";
import * as path from "path";
import { hostCapacity, hostAlive } from "../provider/host/capacity";
import { processAlive } from "../provider/host/process";
import { hostLabel, checkHost, type Host } from "../provider/host/remote-argv";
import { placeStudents, memBudget, type HostCapacity } from "../provider/core/placement";
import { parseHostsFile, hostNameOfConfig, type ClassHost } from "./class-hosts";
import { UsageError } from "./args";

/** The hosts file, read and checked (before anything else runs: a bad file fails fast). */
export function readHostsFile(hostsFile: string): ClassHost[] {
  let text: string;
  try {
    text = fs.readFileSync(path.resolve(hostsFile), "utf8");
  } catch (e) {
    throw new UsageError(
      `class: --hosts ${hostsFile}: cannot read it (${(e as NodeJS.ErrnoException).code})`,
    );
  }
  return parseHostsFile(text, hostsFile);
}

export interface PlaceInput {
  hostsFile: string;
  hosts: ClassHost[];
  /** The students of this run, in order. */
  students: string[];
  /** Every student stack of the class now, by name. */
  existing: string[];
  cost: { memBytes: number; cpuCores: number; guests: number };
  force: boolean;
  /** A student stack's config (the existing ones). */
  configOf: (student: string) => Promise<Record<string, { value: string }>>;
  log: (line: string) => void;
}

/** Each student's host, or a refusal (its message already logged). */
export async function placeClass(p: PlaceInput): Promise<Map<string, Host> | undefined> {
  const hosts = p.hosts;
  const probed = await Promise.allSettled(hosts.map((h) => hostCapacity(h.host)));
  const down = probed.flatMap((r, i) =>
    r.status === "rejected" ? [`${hostLabel(hosts[i].host)}: ${String(r.reason?.message ?? r.reason)}`] : [],
  );
  if (down.length) {
    p.log(
      `umlab: class up: ${down.length} of ${hosts.length} hosts could not be probed (nothing was started):\n  ` +
        down.join("\n  ") +
        `\nFix the host or take it out of ${p.hostsFile}`,
    );
    return undefined;
  }
  const caps: HostCapacity[] = hosts.map((h, i) => {
    const c = (probed[i] as PromiseFulfilledResult<{ memAvailable: number; cores: number }>).value;
    return {
      name: h.host.name,
      memAvailable: c.memAvailable,
      cores: c.cores,
      ...(h.capBytes === undefined ? {} : { capBytes: h.capBytes }),
    };
  });
  for (const c of caps)
    p.log(
      `umlab: probed ${c.name}: MemAvailable ${Math.round(c.memAvailable / 1024 ** 2)} MiB, ${c.cores} cores` +
        (c.capBytes === undefined ? "" : `, maxMemory ${Math.round(c.capBytes / 1024 ** 2)} MiB`),
    );
  const previous = new Map<string, string>();
  for (const name of p.existing) {
    const h = hostNameOfConfig(await p.configOf(name));
    if (h) previous.set(name, h);
  }
  const plan = placeStudents(p.students, p.cost, caps, previous, previous);
  if (plan.unplaced.length) {
    p.log(`umlab: placement refused: ${plan.message}${p.force ? "" : " (or pass --force)"}`);
    if (!p.force) return undefined;
    // --force: the rest go to the host with the most memory for umlab, over its budget.
    const most = [...caps].sort((a, b) => memBudget(b) - memBudget(a))[0].name;
    for (const s of plan.unplaced) plan.hostOf.set(s, most);
    p.log(`umlab: --force: ${plan.unplaced.join(", ")} go to ${most} anyway (its labs may starve)`);
  }
  for (const [name, l] of plan.load)
    p.log(
      `umlab: placement: ${name}: ${l.students} students of this class (holds ${l.slots}): ` +
        p.students.filter((s) => plan.hostOf.get(s) === name).join(", "),
    );
  if (plan.moved.length)
    p.log(`umlab: placement: ${plan.moved.join(", ")} move (their host is gone from the list or full)`);
  const byName = new Map(hosts.map((h) => [h.host.name, h.host]));
  return new Map([...plan.hostOf].map(([s, h]) => [s, byName.get(h) as Host]));
}

interface StateResource {
  type?: string;
  outputs?: Record<string, unknown>;
}
const resourcesOf = (exported: unknown) =>
  ((exported as { deployment?: { resources?: unknown[] } })?.deployment?.resources ?? []) as StateResource[];

/** The host a student's lab runs on: its LabRuntime's `host` in the state; undefined: this machine. */
export function hostOfState(exported: unknown): Host | undefined {
  const rt = resourcesOf(exported).find((r) => String(r.type ?? "").endsWith("umlab:LabRuntime"));
  if (rt?.outputs?.host === undefined) return undefined;
  const h = checkHost(rt.outputs.host);
  return h.ok ? h.host : undefined;
}

/**
 * Per student state: is a guest pid alive? Asked where the guests run: this machine, or each
 * host once for all its students' pids (a pid here says nothing about a process there). A host
 * that cannot be asked is named, and its students' guests count as down.
 */
export async function liveness(
  states: unknown[],
  log: (line: string) => void,
): Promise<((pid: number) => boolean)[]> {
  const hosts = states.map(hostOfState);
  const byHost = new Map<string, { host: Host; pids: number[] }>();
  states.forEach((st, i) => {
    const h = hosts[i];
    if (!h) return;
    const e = byHost.get(h.name) ?? { host: h, pids: [] };
    for (const r of resourcesOf(st))
      if (String(r.type ?? "").endsWith("umlab:Guest") && typeof r.outputs?.pid === "number")
        e.pids.push(r.outputs.pid);
    byHost.set(h.name, e);
  });
  const alive = new Map<string, Set<number>>();
  await Promise.all(
    [...byHost.values()].map(async ({ host, pids }) => {
      try {
        alive.set(host.name, new Set(await hostAlive(host, pids)));
      } catch (e) {
        log(
          `umlab: class: ${hostLabel(host)}: cannot tell which guests run there (shown as down): ${(e as Error).message.split("\n")[0]}`,
        );
        alive.set(host.name, new Set());
      }
    }),
  );
  return hosts.map((h) => (h ? (pid: number) => alive.get(h.name)?.has(pid) ?? false : processAlive));
}
