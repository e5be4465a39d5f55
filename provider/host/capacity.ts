// A host's capacity for placement (provider/core/placement.ts): MemAvailable and cores, read
// on the host itself: here from /proc/meminfo and os.cpus(), on another host by the remote
// entry's `capacity` request (provider/remote-main.ts) over ssh: a fixed argv, no shell string.
import * as fs from "fs";
import * as os from "os";
import { callRemote } from "./remote";
import { processAlive } from "./process";
import { hostLabel, type Host } from "./remote-argv";

export interface Capacity {
  /** Bytes: MemAvailable of /proc/meminfo. */
  memAvailable: number;
  /** Bytes: MemTotal. */
  memTotal: number;
  cores: number;
}

/** MemAvailable and MemTotal (bytes) from /proc/meminfo's text; undefined when either is missing. */
export function parseMeminfo(text: string): { memAvailable: number; memTotal: number } | undefined {
  const kb = (key: string) => {
    const m = new RegExp(`^${key}:\\s+(\\d+) kB`, "m").exec(text);
    return m ? Number(m[1]) * 1024 : undefined;
  };
  const memAvailable = kb("MemAvailable");
  const memTotal = kb("MemTotal");
  return memAvailable === undefined || memTotal === undefined ? undefined : { memAvailable, memTotal };
}

/** This machine's capacity. */
export function localCapacity(): Capacity {
  const m = parseMeminfo(fs.readFileSync("/proc/meminfo", "utf8"));
  if (!m)
    throw new Error("umlab: /proc/meminfo has no MemAvailable/MemTotal line (Linux 3.14 or later needed)");
  return { ...m, cores: os.cpus().length };
}

/** A capacity answer checked: numbers where numbers belong. */
export function checkCapacity(v: unknown, where: string): Capacity {
  const c = v as Partial<Capacity> | null;
  const ok = (x: unknown) => typeof x === "number" && Number.isFinite(x) && x >= 0;
  if (!c || !ok(c.memAvailable) || !ok(c.memTotal) || !ok(c.cores) || (c.cores as number) < 1)
    throw new Error(
      `umlab: ${where} answered the capacity probe with ${JSON.stringify(v)} (an older umlab there?)`,
    );
  return { memAvailable: c.memAvailable as number, memTotal: c.memTotal as number, cores: c.cores as number };
}

/** Which of `pids` run here (a checked list: whole numbers above 0, at most 10000 of them). */
export function alivePids(pids: unknown): number[] {
  if (!Array.isArray(pids) || pids.length > 10_000 || !pids.every((p) => Number.isInteger(p) && p > 0))
    throw new Error("alive: give a list of process ids (whole numbers above 0)");
  return (pids as number[]).filter((p) => processAlive(p));
}

/** Which of `pids` run on another host, asked there (a pid here means nothing there). */
export async function hostAlive(h: Host, pids: number[]): Promise<number[]> {
  if (pids.length === 0) return [];
  const r = await callRemote(h, { op: "alive", pids }, { timeoutMs: 60_000 });
  if (!Array.isArray(r))
    throw new Error(`umlab: ${hostLabel(h)} answered the alive probe with ${JSON.stringify(r)}`);
  return r.filter((p): p is number => typeof p === "number");
}

/** Another host's capacity, read there. Throws HostUnreachable (naming the host) when ssh fails. */
export async function hostCapacity(h: Host): Promise<Capacity> {
  return checkCapacity(await callRemote(h, { op: "capacity" }, { timeoutMs: 60_000 }), hostLabel(h));
}
