// The drill runner: the context a drill runs in (the stack, the cluster, the client's probe),
// its steps printed in order, and the result it hands back. The drills are in drills.ts.
import { Cluster, formatView, NODE_NAMES } from "./cluster";
import { sleep } from "../../../provider/host/process";
import { PingProbe, Probe, ProbeResult } from "./probe";
import type { DrillStack, FaultKey } from "./stack";

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

export class DrillRun {
  readonly result: DrillResult;
  private stepNo = 0;
  private logStart: Record<string, number> = {};

  constructor(
    readonly stack: DrillStack,
    readonly cluster: Cluster,
    readonly name: string,
    readonly probeOf: ProbeFactory = (c) => new PingProbe(c),
    readonly print: (line: string) => void = (l) => console.log(l),
  ) {
    this.result = {
      drill: name,
      holdersBefore: [],
      holdersAfter: [],
      holdersDuring: [],
      outages: [],
      seen: [],
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
  async measure(label: string, act: () => Promise<void>, done: () => Promise<boolean>, ms = 180_000) {
    const probe = this.probeOf(this.cluster);
    await probe.start();
    await new Promise((r) => setTimeout(r, 2000));
    const t0 = Date.now();
    await act();
    const ok = await this.cluster.until(done, ms);
    const back = ok && (await probe.waitAnswering(60_000));
    const result = await probe.stop();
    this.result.outages.push({ label, result });
    this.note(
      `${label}: ${ok ? `done after ${((Date.now() - t0) / 1000).toFixed(1)} s` : `NOT done within ${ms / 1000} s`}; ` +
        `client (${result.kind}): longest outage ${result.outageSeconds} s, ${result.answered}/${result.sent} answered` +
        (back ? "" : ", not answering at the end"),
    );
    return ok;
  }

  /** The telling ha-log lines of the nodes since the drill began. */
  async logs(): Promise<void> {
    for (const n of NODE_NAMES) {
      const lines = await this.cluster.logSince(n, this.logStart[n] ?? 0);
      if (lines.length === 0) continue;
      this.print(`    ha-log of ${n}:`);
      for (const l of lines.slice(-15)) this.print(`      ${l}`);
    }
  }

  /** Re-read the outputs (pids change when a node is booted again). */
  async reload(): Promise<void> {
    this.cluster.o = await this.stack.outputs();
  }

  /** Back to normal: faults off, killed nodes booted again, then wait for one holder. */
  async restore(faults: FaultKey[] = [], refresh = false): Promise<void> {
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
    if (faults.length) await this.stack.setConfig(Object.fromEntries(faults.map((f) => [f, "false"])));
    await this.stack.up(refresh);
    await this.reload();
    const whole = async () => {
      const vs = await Promise.all(NODE_NAMES.map((n) => this.cluster.view(n)));
      return vs.every((v) => v.peer === "active") && (await this.cluster.holders()).length === 1;
    };
    // Whole, and still whole 20 s later: after a split brain heartbeat restarts on both nodes
    // once they hear each other again, and both give the resources up for a while.
    const stable = async () => (await whole()) && (await sleep(20_000), await whole());
    this.result.restored = await this.cluster.until(stable, 360_000);
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
        ? `restored: ${this.result.holdersAfter[0]} holds the address`
        : "NOT restored within 360 s",
    );
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
