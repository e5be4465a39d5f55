// The client's view of an outage. A Probe runs in the client during a drill and reports the
// longest time the service did not answer. The ping probe is the first; the NFS writer
// (numbered synchronous records, acked with timestamps) implements the same interface.
import type { Cluster } from "./cluster";

export interface ProbeResult {
  /** What the probe measured, e.g. "ping every 0.2 s". */
  kind: string;
  /** The longest run without an answer, seconds. */
  outageSeconds: number;
  /** Answered / sent. */
  answered: number;
  sent: number;
  /** Answers came back after the longest gap (false: still out when stopped). */
  recovered: boolean;
  /** Every acknowledged write read back (writer probe; undefined: not checked or not readable). */
  verified?: boolean;
  /** Anything else worth a line (e.g. records lost, stale handles). */
  notes: string[];
}

export interface Probe {
  readonly kind: string;
  start(): Promise<void>;
  /** Wait until the service answers again (true), or give up after `ms` (false). */
  waitAnswering(ms: number): Promise<boolean>;
  stop(): Promise<ProbeResult>;
}

export const PING_INTERVAL_S = 0.2;

/** Outage from the sequence numbers answered out of `sent` (pure; tested in tests/unit). */
export function pingOutage(answeredSeqs: number[], sent: number, interval = PING_INTERVAL_S) {
  const got = new Set(answeredSeqs);
  let longest = 0;
  let run = 0;
  let recovered = true;
  for (let s = 1; s <= sent; s++) {
    if (got.has(s)) {
      run = 0;
      continue;
    }
    run++;
    if (run > longest) longest = run;
  }
  if (run > 0 && run === longest) recovered = false;
  return { outageSeconds: Math.round(longest * interval * 10) / 10, recovered };
}

/** Parse `ping -O -n` output: the answered icmp_seq numbers and the highest seq sent. */
export function parsePing(text: string): { answered: number[]; sent: number } {
  const answered: number[] = [];
  let sent = 0;
  for (const line of text.split("\n")) {
    const m = /icmp_seq=(\d+)/.exec(line);
    if (!m) continue;
    const seq = Number(m[1]);
    sent = Math.max(sent, seq);
    if (/bytes from/.test(line)) answered.push(seq);
  }
  return { answered, sent };
}

/** The client pings the service address every 0.2 s (ping -O: a line for each missing answer). */
export class PingProbe implements Probe {
  readonly kind = `ping every ${PING_INTERVAL_S} s from the client`;
  private readonly log = "/tmp/umlab-drill-ping.log";
  private readonly pid = "/tmp/umlab-drill-ping.pid";
  constructor(
    private readonly cluster: Cluster,
    private readonly client = "client",
  ) {}

  async start(): Promise<void> {
    const a = this.cluster.o.serviceAddress;
    const r = await this.cluster.sh(
      this.client,
      `[ -f ${this.pid} ] && kill $(cat ${this.pid}) 2>/dev/null; rm -f ${this.log}; ` +
        `setsid ping -n -O -i ${PING_INTERVAL_S} -W 1 ${a} </dev/null >${this.log} 2>&1 & echo $! > ${this.pid}; echo started`,
    );
    if (!r || !r.out.includes("started"))
      throw new Error("drill: could not start the ping probe in the client");
  }

  private async text(): Promise<string> {
    return (await this.cluster.sh(this.client, `cat ${this.log}`))?.out ?? "";
  }

  async waitAnswering(ms: number): Promise<boolean> {
    return this.cluster.until(async () => {
      const lines = (await this.text()).split("\n").filter((l) => /icmp_seq=/.test(l));
      return lines.length >= 3 && lines.slice(-3).every((l) => /bytes from/.test(l));
    }, ms);
  }

  async stop(): Promise<ProbeResult> {
    await this.cluster.sh(this.client, `kill $(cat ${this.pid}) 2>/dev/null; rm -f ${this.pid}; sleep 0.3`);
    const { answered, sent } = parsePing(await this.text());
    const o = pingOutage(answered, sent);
    return { kind: this.kind, answered: answered.length, sent, notes: [], ...o };
  }
}
