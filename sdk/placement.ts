// Spread the parts of one lab over hosts by free memory: each host's capacity is read there
// (the remote capacity probe over ssh: provider/host/capacity.ts), then the pure planner
// (provider/core/placement.ts planByMemory) gives each part a host.
//
//   const hosts = [hostA, hostB];
//   const where = await umlab.placeByMemory(hosts, { r1: "256M", r2: "256M", r3: "128M" });
//   const lab = new umlab.Lab("lab");                    // then, per guest:
//   new umlab.Guest("r1", { lab: lab.on(where.r1), ... });
//
// The plan is made from free memory at the time of the run: a part already running counts
// against its host's MemAvailable. Give `keep` (part -> host name, e.g. from the last run's
// outputs or config) to hold parts where they are while they still fit.
import { parseHost, hostLabel, type Host, type HostInput } from "../provider/host/remote-argv";
import { hostCapacity } from "../provider/host/capacity";
import { planByMemory, type HostCapacity } from "../provider/core/placement";

/** "128M", "1G", "512K" or a byte count, in bytes. */
export function memoryBytes(v: string | number, what: string): number {
  if (typeof v === "number" && Number.isInteger(v) && v >= 0) return v;
  const m = typeof v === "string" ? /^(\d+)([KMG])$/.exec(v) : null;
  if (!m) throw new Error(`umlab: ${what}: "${v}" is not a size: use e.g. 128M, 1G or a byte count`);
  return Number(m[1]) * { K: 1024, M: 1024 ** 2, G: 1024 ** 3 }[m[2] as "K" | "M" | "G"];
}

export interface PlaceOptions {
  /** Bytes (or "512M") umlab may use on a host at most, by host name. */
  maxMemory?: Record<string, string | number>;
  /** Parts that stay on the host they are on (part -> host name) while it has room for them. */
  keep?: Record<string, string>;
}

/**
 * Which host each part goes on: `demands` maps a part (e.g. a guest's name) to the memory it
 * needs ("256M" or bytes). Reads each host's MemAvailable and cores over ssh; throws naming a
 * host that cannot be reached, or a part no host has room for (its need, each host's free memory).
 */
export async function placeByMemory(
  hosts: HostInput[],
  demands: Record<string, string | number>,
  opts: PlaceOptions = {},
): Promise<Record<string, Host>> {
  const parsed = hosts.map((h) => parseHost(h));
  const caps: HostCapacity[] = await Promise.all(
    parsed.map(async (h) => {
      const c = await hostCapacity(h);
      const cap = opts.maxMemory?.[h.name];
      return {
        name: h.name,
        memAvailable: c.memAvailable,
        cores: c.cores,
        ...(cap === undefined ? {} : { capBytes: memoryBytes(cap, `maxMemory.${h.name}`) }),
      };
    }),
  );
  const bytes = Object.fromEntries(
    Object.entries(demands).map(([k, v]) => [k, memoryBytes(v, `placeByMemory demand "${k}"`)]),
  );
  const plan = planByMemory(bytes, caps, opts.keep);
  const byName = new Map(parsed.map((h) => [h.name, h]));
  const out: Record<string, Host> = {};
  for (const [part, name] of Object.entries(plan.hostOf)) {
    const h = byName.get(name);
    if (!h)
      throw new Error(
        `umlab: placeByMemory: no host ${name} (${[...byName.values()].map(hostLabel).join(", ")})`,
      );
    out[part] = h;
  }
  return out;
}
