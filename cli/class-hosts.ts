// Class mode over several hosts, the pure part: the hosts file (`--hosts hosts.json`: a list of
// Host definitions, the sdk's Host shape, each with an optional `maxMemory` cap on the memory
// umlab may use there) checked field by field, and a student's host read back from its stack
// config (`umlab:host`, which the student's `Lab` takes as its default host).
import { checkHost, type Host } from "../provider/host/remote-argv";
import { UsageError } from "./args";
import { sizeBytes } from "./class-plan";

export interface ClassHost {
  host: Host;
  /** Bytes umlab may use there at most (`maxMemory`: "2G", "768M"); none: no cap. */
  capBytes?: number;
}

/** The stack config key that tells a student's program its host (read by sdk/lab.ts `Lab`). */
export const HOST_KEY = "umlab:host";

/** The hosts file's text, checked: every failure names `<file>[i].<field>` and what to write. */
export function parseHostsFile(text: string, file: string): ClassHost[] {
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch (e) {
    throw new UsageError(`class: --hosts ${file}: not JSON (${(e as Error).message})`);
  }
  const list = Array.isArray(v) ? v : (v as { hosts?: unknown } | null)?.hosts;
  if (!Array.isArray(list) || list.length === 0)
    throw new UsageError(
      `class: --hosts ${file}: give a JSON list of hosts, e.g. [{"name":"lab1","address":"10.1.0.5",` +
        `"runtimeRoot":"/var/tmp/umlab","cache":"/var/cache/umlab","maxMemory":"8G"}]`,
    );
  const names = new Set<string>();
  return list.map((entry, i) => {
    const where = `${file}[${i}]`;
    if (!entry || typeof entry !== "object" || Array.isArray(entry))
      throw new UsageError(
        `class: --hosts ${where}: a host is an object (name, address, runtimeRoot, cache, ...)`,
      );
    const { maxMemory, ...rest } = entry as Record<string, unknown>;
    const r = checkHost(rest);
    if (!r.ok)
      throw new UsageError(
        `class: --hosts ${where}: ${r.failures.map((f) => `${f.property}: ${f.reason}`).join("; ")}`,
      );
    if (names.has(r.host.name))
      throw new UsageError(
        `class: --hosts ${where}: host name "${r.host.name}" is used twice; give each host its own name`,
      );
    names.add(r.host.name);
    let capBytes: number | undefined;
    if (maxMemory !== undefined) {
      capBytes = sizeBytes(maxMemory);
      if (capBytes === undefined || capBytes === 0)
        throw new UsageError(
          `class: --hosts ${where}.maxMemory: "${String(maxMemory)}" is not a size: use e.g. 768M or 8G`,
        );
    }
    return { host: r.host, ...(capBytes === undefined ? {} : { capBytes }) };
  });
}

/** The host name a stack's config places it on (`umlab:host`), or undefined. */
export function hostNameOfConfig(config: Record<string, { value: string }>): string | undefined {
  const v = config[HOST_KEY]?.value;
  if (v === undefined) return undefined;
  try {
    const name = (JSON.parse(v) as { name?: unknown }).name;
    return typeof name === "string" ? name : undefined;
  } catch {
    return undefined;
  }
}
