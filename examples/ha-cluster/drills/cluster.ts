// What a drill sees and does in the running cluster: commands in the guests (the exec agent),
// the management console, signals from the host (provider/host), and the cluster's state as
// heartbeat and the addresses show it.
import { execInGuest } from "../../../provider/exec/agent";
import { mconsoleCommand } from "../../../provider/host/mconsole";
import { processAlive, signalGroup, waitFor } from "../../../provider/host/process";
import type { ClusterOutputs, GuestRow } from "./stack";

export const NODE_NAMES = ["one", "two"] as const;
export const LINKS = ["/dev/ttyS1", "eth0", "eth1"] as const;

export interface NodeView {
  name: string;
  /** The UML process is alive and the exec agent answers. */
  up: boolean;
  holdsService: boolean;
  /** cl_status nodestatus of the other node (active, dead, ...). */
  peer?: string;
  /** cl_status hblinkstatus <peer> <link> per link. */
  links: Record<string, string>;
}

export class Cluster {
  constructor(public o: ClusterOutputs) {}

  guest(name: string): GuestRow {
    const g = this.o.guests.find((x) => x.name === name);
    if (!g) throw new Error(`drill: no guest ${name} in the stack's outputs`);
    return g;
  }

  /** A shell line in a guest; undefined when the guest does not answer. */
  async sh(name: string, line: string, timeoutMs = 30_000): Promise<{ out: string; rc: number } | undefined> {
    try {
      const r = await execInGuest(this.o.labDir, name, line, { timeoutMs });
      return { out: r.stdout + r.stderr, rc: r.exitCode };
    } catch {
      return undefined;
    }
  }

  async mconsole(name: string, words: string[]): Promise<string> {
    const r = await mconsoleCommand(this.guest(name).mconsole, words, 10_000);
    return r.text;
  }

  alive(name: string): boolean {
    return processAlive(this.guest(name).pid);
  }

  /** kill -9 of the guest's UML process group from the host (the guest gets no say). */
  killFromHost(name: string): void {
    signalGroup(this.guest(name).pid, "SIGKILL");
  }

  async holdsService(name: string): Promise<boolean> {
    if (!this.alive(name)) return false;
    const r = await this.sh(name, "ip -4 -o addr show dev eth0", 15_000);
    return !!r && r.out.includes(`inet ${this.o.serviceAddress}/`);
  }

  /** The nodes holding the service address now. */
  async holders(): Promise<string[]> {
    const out: string[] = [];
    for (const n of NODE_NAMES) if (await this.holdsService(n)) out.push(n);
    return out;
  }

  async view(name: string): Promise<NodeView> {
    const peer = name === "one" ? "two" : "one";
    const v: NodeView = { name, up: false, holdsService: false, links: {} };
    if (!this.alive(name)) return v;
    // cl_status fails (and says so on stderr) while heartbeat restarts: "no-heartbeat" then.
    const q = (args: string) => `x=$(cl_status ${args} 2>/dev/null); echo "\${x:-no-heartbeat}"`;
    const lines = [q(`nodestatus ${peer}`), ...LINKS.map((l) => q(`hblinkstatus ${peer} ${l}`))];
    const r = await this.sh(name, lines.join("; "), 20_000);
    if (!r) return v;
    v.up = true;
    const out = r.out.split("\n").filter((l) => l.trim() !== "");
    v.peer = out[0];
    LINKS.forEach((l, i) => (v.links[l] = out[i + 1] ?? "?"));
    v.holdsService = await this.holdsService(name);
    return v;
  }

  /** Lines in /var/log/ha-log of a node (0 when it does not answer). */
  async logLength(name: string): Promise<number> {
    const r = await this.sh(name, "wc -l < /var/log/ha-log", 15_000);
    return r ? Number(r.out.trim()) || 0 : 0;
  }

  /** The ha-log lines of a node after line `from` that tell the story (deaths, links, takeovers). */
  async logSince(name: string, from: number): Promise<string[]> {
    const r = await this.sh(name, `tail -n +${from + 1} /var/log/ha-log`, 15_000);
    if (!r) return [];
    const telling =
      /is dead|dead\.|Link .* (up|dead)|takeover|standby|foreign|Both machines|resources|IPaddr2|Gratuitous|Cluster node|returning|WARN|ERROR|CRIT/;
    return r.out.split("\n").filter((l) => telling.test(l) && !/debug|G_CH_/.test(l));
  }

  /** Wait until `test` holds, polling every second; false after `ms`. */
  async until(test: () => Promise<boolean>, ms: number): Promise<boolean> {
    return !!(await waitFor(test, ms, 1000));
  }
}

export function formatView(v: NodeView): string {
  if (!v.up) return `${v.name}: down (no answer)`;
  const links = Object.entries(v.links)
    .map(([l, s]) => `${l.replace("/dev/", "")} ${s}`)
    .join(", ");
  return `${v.name}: peer ${v.peer}; links ${links}${v.holdsService ? "; HOLDS the service address" : ""}`;
}
