// Pure placement over several hosts (no I/O): each host's capacity (MemAvailable and cores, as
// the capacity probe reads them there: provider/host/capacity.ts) and an optional cap on the
// memory umlab may use there. Two planners:
//  - placeStudents (class mode, cli/class.ts): whole student labs of one cost onto hosts, a
//    student kept on the host it is on while that host still has room for it;
//  - planByMemory (sdk/placement.ts placeByMemory): parts of one lab (each a memory demand)
//    spread by free memory, largest first, each onto the host with the most left.

/** The share of MemAvailable a class or a lab may take (cli/class-plan.ts MEM_BUDGET). */
export const MEM_SHARE = 0.9;
/** The share of a host's cores an idle class may take: at 65 % boots slowed 5x, at 96 % checks failed (issue 15). */
export const CPU_SHARE = 0.6;

export interface HostCapacity {
  /** The host's name (Host `name`). */
  name: string;
  /** Bytes: /proc/meminfo MemAvailable there. */
  memAvailable: number;
  /** Cores there. */
  cores: number;
  /** Bytes umlab may use there at most (hosts.json `maxMemory`); none: no cap. */
  capBytes?: number;
}

const mib = (b: number) => `${Math.round(b / 1024 ** 2)} MiB`;

/** The memory budget of a host: MEM_SHARE of MemAvailable, never above its cap. */
export function memBudget(h: HostCapacity): number {
  const share = Math.max(0, h.memAvailable) * MEM_SHARE;
  return h.capBytes === undefined ? share : Math.min(share, h.capBytes);
}

/** How many students of this cost a host holds (memory and idle CPU). */
export function slotsOf(h: HostCapacity, cost: { memBytes: number; cpuCores: number }): number {
  const byMem = cost.memBytes > 0 ? Math.floor(memBudget(h) / cost.memBytes) : Infinity;
  const byCpu = cost.cpuCores > 0 ? Math.floor((h.cores * CPU_SHARE) / cost.cpuCores + 1e-9) : Infinity;
  return Math.max(0, Math.min(byMem, byCpu));
}

/** One host's free memory in words: "host-a: 512 MiB of MemAvailable 2048 MiB (cap 600 MiB)". */
export function describeHost(h: HostCapacity, usedBytes = 0): string {
  const cap = h.capBytes === undefined ? "" : `, cap ${mib(h.capBytes)}`;
  return (
    `${h.name}: ${mib(Math.max(0, memBudget(h) - usedBytes))} free for umlab ` +
    `(${MEM_SHARE * 100} % of MemAvailable ${mib(h.memAvailable)}${cap}${usedBytes ? `, ${mib(usedBytes)} taken by this class` : ""}), ${h.cores} cores`
  );
}

export interface StudentPlacement {
  /** Student name -> host name, for every student that fits. */
  hostOf: Map<string, string>;
  /** Students that kept the host they were on. */
  kept: string[];
  /** Students that were on a host and now go to another (theirs is gone or full). */
  moved: string[];
  /** Students no host holds. */
  unplaced: string[];
  /** Per host: how many students of the class it holds after placement, and its slots. */
  load: Map<string, { students: number; slots: number }>;
  /** Why students are unplaced (empty when all fit). */
  message: string;
}

/**
 * Place whole students (each `cost`) on hosts. `previous`: the host each student is on now (a
 * stack's `umlab:host`); `fixed`: other student stacks of the class, which stay where they are
 * and take room there. A student keeps its host while that host has room; the others go, in
 * order, to the host with the most room left (ties: the first in the list).
 */
export function placeStudents(
  students: string[],
  cost: { memBytes: number; cpuCores: number; guests: number },
  hosts: HostCapacity[],
  previous: Map<string, string> = new Map(),
  fixed: Map<string, string> = new Map(),
): StudentPlacement {
  const slots = new Map(hosts.map((h) => [h.name, slotsOf(h, cost)]));
  const used = new Map(hosts.map((h) => [h.name, 0]));
  for (const [s, h] of fixed) if (!students.includes(s) && used.has(h)) used.set(h, (used.get(h) ?? 0) + 1);
  const room = (h: string) => (slots.get(h) ?? 0) - (used.get(h) ?? 0);
  const hostOf = new Map<string, string>();
  const kept: string[] = [];
  for (const s of students) {
    const p = previous.get(s);
    if (p !== undefined && used.has(p) && room(p) > 0) {
      hostOf.set(s, p);
      used.set(p, (used.get(p) ?? 0) + 1);
      kept.push(s);
    }
  }
  const moved: string[] = [];
  const unplaced: string[] = [];
  for (const s of students) {
    if (hostOf.has(s)) continue;
    let best: string | undefined;
    for (const h of hosts)
      if (room(h.name) > 0 && (best === undefined || room(h.name) > room(best))) best = h.name;
    if (best === undefined) {
      unplaced.push(s);
      continue;
    }
    hostOf.set(s, best);
    used.set(best, (used.get(best) ?? 0) + 1);
    if (previous.has(s)) moved.push(s);
  }
  const load = new Map(
    hosts.map((h) => [h.name, { students: used.get(h.name) ?? 0, slots: slots.get(h.name) ?? 0 }]),
  );
  const message = unplaced.length
    ? `no host fits ${unplaced.length} of ${students.length} students (${unplaced.join(", ")}): each needs ` +
      `${mib(cost.memBytes)} of memory and ${cost.cpuCores.toFixed(3)} idle cores (${cost.guests} guests); ` +
      hosts
        .map(
          (h) =>
            `${describeHost(h, (used.get(h.name) ?? 0) * cost.memBytes)}: holds ${slots.get(h.name)} students, ` +
            `${used.get(h.name)} placed`,
        )
        .join("; ") +
      ". Add a host to the hosts file, raise its maxMemory, or start fewer students"
    : "";
  return { hostOf, kept, moved, unplaced, load, message };
}

export interface MemoryPlan {
  /** Part name -> host name. */
  hostOf: Record<string, string>;
  /** Per host: bytes placed there. */
  placed: Record<string, number>;
}

/**
 * Spread parts (name -> bytes of memory) over hosts by free memory: parts in `keep` (part ->
 * host name) stay on that host while it has budget left for them; the others, largest first
 * (ties: by name, so the plan is the same for the same inputs), each onto the host with the
 * most budget left (ties: the first in the list). Throws, naming the part, its need and every
 * host's free memory, when one fits nowhere.
 */
export function planByMemory(
  demands: Record<string, number>,
  hosts: HostCapacity[],
  keep: Record<string, string> = {},
): MemoryPlan {
  if (hosts.length === 0) throw new Error("placeByMemory: give at least one host");
  const names = new Set<string>();
  for (const h of hosts) {
    if (names.has(h.name)) throw new Error(`placeByMemory: host "${h.name}" is given twice`);
    names.add(h.name);
  }
  for (const [part, bytes] of Object.entries(demands))
    if (!Number.isFinite(bytes) || bytes < 0)
      throw new Error(
        `placeByMemory: "${part}" needs ${bytes} bytes: give a size such as 128M or a byte count`,
      );
  const left = new Map(hosts.map((h) => [h.name, memBudget(h)]));
  const hostOf: Record<string, string> = {};
  for (const [part, bytes] of Object.entries(demands)) {
    const h = keep[part];
    const l = h === undefined ? undefined : left.get(h);
    if (l === undefined || l < bytes) continue;
    hostOf[part] = h;
    left.set(h, l - bytes);
  }
  const parts = Object.entries(demands)
    .filter(([part]) => hostOf[part] === undefined)
    .sort(([a, x], [b, y]) => y - x || (a < b ? -1 : a > b ? 1 : 0));
  for (const [part, bytes] of parts) {
    let best: string | undefined;
    for (const h of hosts) {
      const l = left.get(h.name) ?? 0;
      if (l >= bytes && (best === undefined || l > (left.get(best) ?? 0))) best = h.name;
    }
    if (best === undefined)
      throw new Error(
        `placeByMemory: no host fits "${part}": it needs ${mib(bytes)}; ` +
          hosts.map((h) => describeHost(h, memBudget(h) - (left.get(h.name) ?? 0))).join("; "),
      );
    hostOf[part] = best;
    left.set(best, (left.get(best) ?? 0) - bytes);
  }
  const placed = Object.fromEntries(hosts.map((h) => [h.name, memBudget(h) - (left.get(h.name) ?? 0)]));
  return { hostOf, placed };
}
