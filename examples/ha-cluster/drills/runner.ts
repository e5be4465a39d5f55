// The drill runner: the context a drill runs in (the stack, the cluster, the client's probe),
// its steps printed in order, and the result it hands back. The drills are in drills.ts.
import { Cluster, formatView, NODE_NAMES } from "./cluster";
import { sleep } from "../../../provider/host/process";
import { PingProbe, Probe, ProbeResult } from "./probe";
import { WriterProbe } from "./writer-probe";
import type { DrillStack, FaultKey } from "./stack";
import type { SniffSummary } from "./sniff";

export interface Outage {
  label: string;
  result: ProbeResult;
}

export interface DrillResult {
  drill: string;
  holdersBefore: string[];
  holdersAfter: string[];
  /** The holders while the fault was on (after the takeover, for a kill). */
  holdersDuring: string[];
  outages: Outage[];
  /** What was seen on the way (one line each). */
  seen: string[];
  /** The cluster is back to normal: both nodes up, one holder. */
  restored: boolean;
  /** How: "resume" (the faults off were enough), "reboot" (both nodes killed and booted again). */
  restoredBy?: "resume" | "reboot";
  /** Split brain: the holders when the unaided wait after the resume ran out. */
  holdersAfterResume?: string[];
  /** The telling ha-log lines shown, per node. */
  logs: Record<string, string[]>;
  /** Split brain: who had the shared disk mounted, and the refused mount. */
  sharedDisk?: { mounted: string[]; refused: string[] };
  /** Manual failover: what the client and the heir showed. */
  manual?: ManualSeen;
  /** Sniff: the public pcap's summary, a heartbeat payload, the cable's decoded text. */
  sniff?: { pcap?: string; summary?: SniffSummary; heartbeatText?: string; cableText?: string };
}

/** What a manual failover showed (the wrong order: the heir served its root disk's directory). */
export interface ManualSeen {
  /** `ls` of the client's mount (and the records' line count) while the heir served without the disk. */
  clientListing: string;
  /** Records the client wrote to the heir's root disk under the export (hidden by the mount). */
  heirRootRecords: number;
  /** The writer's last `err` lines (e.g. Stale file handle). */
  writerErrors: string[];
}

export interface Drill {
  name: string;
  /** One line for `list`. */
  summary: string;
  /** Set when the drill cannot run on this program yet (says what it needs). */
  needs?: string;
  run(d: DrillRun): Promise<void>;
}

/** Makes the client's probe; the NFS writer replaces the ping probe here. */
export type ProbeFactory = (c: Cluster) => Probe;

/** The NFS writer when the program exports the shared disk (exportPath output), else pings. */
export const defaultProbe: ProbeFactory = (c) => (c.o.exportPath ? new WriterProbe(c) : new PingProbe(c));

export class DrillRun {
  readonly result: DrillResult;
  private stepNo = 0;
  private logStart: Record<string, number> = {};

  constructor(
    readonly stack: DrillStack,
    readonly cluster: Cluster,
    readonly name: string,
    readonly probeOf: ProbeFactory = defaultProbe,
    readonly print: (line: string) => void = (l) => console.log(l),
  ) {
    this.result = {
      drill: name,
      holdersBefore: [],
      holdersAfter: [],
      holdersDuring: [],
      outages: [],
      seen: [],
      logs: {},
      restored: false,
    };
  }

  /** A numbered step: what it does, and what to watch. */
  step(what: string, watch?: string): void {
    this.print(`\n[${++this.stepNo}] ${what}`);
    if (watch) this.print(`    watch: ${watch}`);
  }

  note(line: string): void {
    this.result.seen.push(line);
    this.print(`    - ${line}`);
  }

  async show(): Promise<void> {
    for (const n of NODE_NAMES) this.print(`    ${formatView(await this.cluster.view(n))}`);
  }

  /** The cluster must be whole before a drill: both nodes up, exactly one holder. */
  async begin(): Promise<string> {
    this.step(
      "The cluster before the drill",
      "both nodes see each other; exactly one holds the service address",
    );
    for (const n of NODE_NAMES) this.logStart[n] = await this.cluster.logLength(n);
    await this.show();
    const holders = await this.cluster.holders();
    this.result.holdersBefore = holders;
    if (holders.length !== 1)
      throw new Error(
        `drill: the cluster is not whole (holders of ${this.cluster.o.serviceAddress}: ${holders.join(", ") || "none"}): ` +
          "restore it first (`npm run drill -- restore`)",
      );
    return holders[0];
  }

  /** Run `act` under the client's probe until `done` holds and the service answers again. */
  async measure(
    label: string,
    act: () => Promise<void>,
    done: () => Promise<boolean>,
    ms = 180_000,
    backMs = 60_000,
  ) {
    const probe = this.probeOf(this.cluster);
    await probe.start();
    await new Promise((r) => setTimeout(r, 2000));
    const t0 = Date.now();
    await act();
    const ok = await this.cluster.until(done, ms);
    const back = ok && backMs > 0 && (await probe.waitAnswering(backMs));
    const result = await probe.stop();
    this.result.outages.push({ label, result });
    this.note(
      `${label}: ${ok ? `done after ${((Date.now() - t0) / 1000).toFixed(1)} s` : `NOT done within ${ms / 1000} s`}; ` +
        `client (${result.kind}): longest outage ${result.outageSeconds} s, ${result.answered}/${result.sent} answered` +
        (back ? "" : ", not answering at the end"),
    );
    for (const n of result.notes) this.note(`${label}: ${n}`);
    return ok;
  }

  /** The telling ha-log lines of the nodes since the drill began (or since `from`). */
  async logs(from: Record<string, number> = this.logStart, n = 15): Promise<void> {
    for (const node of NODE_NAMES) {
      const lines = await this.cluster.logSince(node, from[node] ?? 0);
      this.result.logs[node] = [...(this.result.logs[node] ?? []), ...lines];
      if (lines.length === 0) continue;
      this.print(`    ha-log of ${node}:`);
      for (const l of lines.slice(-n)) this.print(`      ${l}`);
    }
  }

  /** Re-read the outputs (pids change when a node is booted again). */
  async reload(): Promise<void> {
    this.cluster.o = await this.stack.outputs();
  }

  /** Back to normal: faults off, killed nodes booted again, then wait for one holder.
   * `unaidedMs`: after a split brain, wait that long for heartbeat to recover on its own, show
   * the ha-logs since the resume, then (not recovered) kill both nodes and boot them again. */
  async restore(faults: FaultKey[] = [], refresh = false, unaidedMs?: number): Promise<void> {
    const what = [
      ...(faults.length ? [`pulumi config set ${faults.map((f) => `${f} false`).join(", ")}`] : []),
      `pulumi up${refresh ? " --refresh" : ""}`,
    ];
    this.step(`Restore: ${what.join("; then ")}`, "both nodes active again, exactly one holds the address");
    for (const n of NODE_NAMES)
      if (this.cluster.alive(n) && !(await this.cluster.sh(n, "true", 10_000))) {
        this.note(`${n} is running but does not answer: killed so that pulumi boots it again`);
        this.cluster.killFromHost(n);
      }
    const since: Record<string, number> = {};
    for (const n of NODE_NAMES) since[n] = await this.cluster.logLength(n);
    if (faults.length) await this.stack.setConfig(Object.fromEntries(faults.map((f) => [f, "false"])));
    await this.stack.up(refresh);
    await this.reload();
    const t0 = Date.now();
    this.result.restored = await this.cluster.until(() => this.stable(), unaidedMs ?? 360_000);
    if (this.result.restored) this.result.restoredBy = "resume";
    if (unaidedMs !== undefined) {
      const s = ((Date.now() - t0) / 1000).toFixed(0);
      this.note(
        this.result.restored
          ? `recovered to one owner on its own ${s} s after the resume`
          : `NOT one owner ${s} s after the resume (no help given yet): the nodes' view and ha-logs since the resume:`,
      );
      if (!this.result.restored) {
        await this.show();
        // Did a node reboot (softdog: heartbeat shut down with the watchdog open)? Same UML
        // process, another boot id.
        for (const n of NODE_NAMES) {
          const g = this.cluster.guest(n);
          const id = this.cluster.alive(n)
            ? await this.cluster.mconsole(n, ["proc", "sys/kernel/random/boot_id"]).catch(() => "?")
            : "";
          this.note(
            `${n}: UML process ${this.cluster.alive(n) ? "alive" : "gone"}` +
              (id
                ? `, boot id ${id.trim() === g.bootId ? "unchanged" : `changed (was ${g.bootId}, now ${id.trim()})`}`
                : ""),
          );
        }
        this.result.holdersAfterResume = await this.cluster.holders();
        this.note(
          `holders ${unaidedMs / 1000} s after the resume: ${this.result.holdersAfterResume.join(" + ") || "none"}`,
        );
        await this.logs(since, 25);
        this.step(
          "Help: kill both nodes from the host and boot them again (pulumi up --refresh)",
          "one boots, takes the shared disk, NFS and the address; two stays standby",
        );
        for (const n of NODE_NAMES) if (this.cluster.alive(n)) this.cluster.killFromHost(n);
        await this.stack.up(true);
        await this.reload();
        this.result.restored = await this.cluster.until(() => this.stable(), 360_000);
        if (this.result.restored) this.result.restoredBy = "reboot";
      }
    }
    // The links come back a little later than the peer (a rebooted node's serial link last).
    const linksUp = async () =>
      (await Promise.all(NODE_NAMES.map((n) => this.cluster.view(n)))).every((v) =>
        Object.values(v.links).every((s) => s === "up"),
      );
    if (this.result.restored && !(await this.cluster.until(linksUp, 30_000)))
      this.note("not every heartbeat link is up again 30 s after the restore (see below)");
    await this.show();
    this.result.holdersAfter = await this.cluster.holders();
    this.note(
      this.result.restored
        ? `restored${this.result.restoredBy === "reboot" ? " (by the reboot)" : ""}: ${this.result.holdersAfter[0]} holds the address`
        : "NOT restored within 360 s",
    );
  }

  /** Whole (both peers active, one holder), and still whole 20 s later: after a split brain
   * heartbeat may restart on both nodes once they hear each other, giving the resources up. */
  private async stable(): Promise<boolean> {
    const whole = async () => {
      const vs = await Promise.all(NODE_NAMES.map((n) => this.cluster.view(n)));
      return vs.every((v) => v.peer === "active") && (await this.cluster.holders()).length === 1;
    };
    return (await whole()) && (await sleep(20_000), await whole());
  }
}

export function formatResult(r: DrillResult): string {
  const out = [
    `\nResult of ${r.drill}: holder before ${r.holdersBefore.join("+") || "none"}, ` +
      `during ${r.holdersDuring.join("+") || "none"}, after ${r.holdersAfter.join("+") || "none"}; ` +
      `${r.restored ? "restored" : "NOT restored"}`,
  ];
  for (const o of r.outages)
    out.push(
      `  outage ${o.label}: ${o.result.outageSeconds} s${o.result.recovered ? "" : " (not recovered)"}`,
    );
  for (const s of r.seen) out.push(`  seen: ${s}`);
  return out.join("\n");
}
