// Where the ring's routers run (config, all optional; without `hostB` everything is here):
//   hostA   JSON umlab Host for node01/node02's part (default: this machine)
//   hostB   JSON umlab Host for the routers of `onB`
//   peerB   JSON Host: host B as host A reaches it, for the cables between the hosts
//           (default: hostB)
//   onB     comma-separated routers on host B (default "node03,node04")
//   cables  JSON settings of the cables between hosts by link name, e.g.
//           {"link2": {"delayMs": 20}, "link4": {"suspended": true}} (HostLink's suspended,
//           lossPercent, delayMs, rateKbit; changed in place)
// A link whose two routers are on different hosts is a switch on each host joined by a
// HostLink (a VDE cable over ssh) run on host A; the others are one switch where both run.
import type * as umlab from "../../sdk";

export interface CableSettings {
  suspended?: boolean;
  lossPercent?: number;
  delayMs?: number;
  rateKbit?: number;
}

export interface Placement {
  hostA?: umlab.Host;
  hostB?: umlab.Host;
  peerB?: umlab.Host;
  onB: Set<string>;
  cables: Record<string, CableSettings>;
}

function json<T>(key: string, v: string | undefined): T | undefined {
  if (v === undefined || v === "") return undefined;
  try {
    return JSON.parse(v) as T;
  } catch (e) {
    throw new Error(`ospf-ring: config ${key} is not JSON (${(e as Error).message}); pass an object`);
  }
}

/** The placement from config values (pure). */
export function parsePlacement(get: (k: string) => string | undefined): Placement {
  const hostB = json<umlab.Host>("hostB", get("hostB"));
  const onB = hostB
    ? new Set(
        (get("onB") ?? "node03,node04")
          .split(",")
          .map((s) => s.trim())
          .filter((s) => s !== ""),
      )
    : new Set<string>();
  for (const n of onB)
    if (!/^node0[1-4]$/.test(n))
      throw new Error(`ospf-ring: config onB names "${n}": use node01..node04, comma-separated`);
  const cables = json<Record<string, CableSettings>>("cables", get("cables")) ?? {};
  return {
    hostA: json("hostA", get("hostA")),
    hostB,
    peerB: json("peerB", get("peerB")) ?? hostB,
    onB,
    cables,
  };
}
