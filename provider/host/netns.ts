// The lab's network namespace and the devices in it: everything that runs `ip`. Taps live
// here (never in the root namespace), so the host side can ping and sniff a lab.
import * as fs from "fs";
import { run } from "./process";

/** Root or CAP_NET_ADMIN in the effective set: needed for `ip netns add` and tap devices. */
export function hasNetAdmin(): boolean {
  if (process.geteuid?.() === 0) return true;
  try {
    const line = fs
      .readFileSync("/proc/self/status", "utf8")
      .split("\n")
      .find((l) => l.startsWith("CapEff:"));
    return !!line && (BigInt(`0x${line.split(/\s+/)[1]}`) & (1n << 12n)) !== 0n;
  } catch {
    return false;
  }
}

export function requireNetAdmin(what: string): void {
  if (!hasNetAdmin())
    throw new Error(
      `${what} needs root or CAP_NET_ADMIN (it creates a network namespace and a tap device); ` +
        `run pulumi as root, or leave the Tap out and capture with a Capture on a vde switch, which needs no privilege`,
    );
}

export function namespaceExists(ns: string): boolean {
  return fs.existsSync(`/run/netns/${ns}`);
}

/** Create the lab's namespace unless it exists (two taps may race: "exists" is fine). */
export async function ensureNamespace(ns: string): Promise<void> {
  if (!namespaceExists(ns)) {
    const r = await run("ip", ["netns", "add", ns], { allowFailure: true });
    if (r.code !== 0 && !namespaceExists(ns))
      throw new Error(`ip netns add ${ns} failed: ${r.stderr.trim()}`);
  }
  await run("ip", ["-n", ns, "link", "set", "lo", "up"]);
}

export async function deviceExists(ns: string, dev: string): Promise<boolean> {
  if (!namespaceExists(ns)) return false;
  const r = await run("ip", ["-n", ns, "link", "show", "dev", dev], { allowFailure: true });
  return r.code === 0;
}

/** Remove a device from the namespace; `allowFailure`: a device already gone is fine. */
export async function deleteDevice(ns: string, dev: string, allowFailure = false): Promise<void> {
  await run("ip", ["-n", ns, "link", "del", dev], { allowFailure });
}

/** Remove the namespace when nothing but `lo` is left in it (its last tap is gone). */
export async function removeNamespaceIfUnused(ns: string): Promise<void> {
  if (!namespaceExists(ns)) return;
  const r = await run("ip", ["-n", ns, "-o", "link", "show"], { allowFailure: true });
  const links = r.stdout
    .split("\n")
    .filter((l) => l.trim() !== "")
    .map((l) => l.split(":")[1]?.trim().split("@")[0]);
  if (links.some((l) => l && l !== "lo")) return;
  await run("ip", ["netns", "del", ns], { allowFailure: true });
}

/** Set a device's addresses (after flushing the old ones when `flush`) and bring it up. */
export async function setAddresses(
  ns: string,
  dev: string,
  addresses: string[],
  flush: boolean,
): Promise<void> {
  if (flush) await run("ip", ["-n", ns, "addr", "flush", "dev", dev]);
  for (const a of addresses) await run("ip", ["-n", ns, "addr", "add", a, "dev", dev]);
  await run("ip", ["-n", ns, "link", "set", dev, "up"]);
}

/** The argv that runs `cmd` inside the namespace (`ip netns exec` execs it in place: same pid). */
export function inNamespace(ns: string, cmd: string, args: string[]): { cmd: string; args: string[] } {
  return { cmd: "ip", args: ["netns", "exec", ns, cmd, ...args] };
}
