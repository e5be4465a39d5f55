// The NFS writer as a drill probe: the client appends numbered records to the export on its
// hard, synchronous NFS mount (cluster.ts writerScript) and logs each acknowledgement. The
// outage is the longest gap between acknowledgements; at the end every acknowledged record
// must be in the file, in order, with no error (no stale file handle) — verifyRecords.
import { WRITER, outage, parseWriterLog, startWriterCommand, verifyRecords } from "../cluster";
import type { Cluster } from "./cluster";
import type { Probe, ProbeResult } from "./probe";

export const WRITER_INTERVAL_S = 0.2;

/** A ProbeResult from the writer's log and the records read back (pure; tests/unit). */
export function writerResult(
  log: string,
  records: string | undefined,
  kind: string,
  /** When the probe stopped (client clock): a writer still hung then counts up to it. */
  until?: number,
): ProbeResult {
  const acks = parseWriterLog(log).events.filter((e) => e.kind === "ack");
  const errs = parseWriterLog(log).events.filter((e) => e.kind === "err");
  const notes: string[] = [];
  let verified: boolean | undefined;
  if (records === undefined) notes.push("records not read back: the export did not answer");
  else {
    const v = verifyRecords(records, log);
    verified = v.ok;
    notes.push(
      v.ok
        ? `all ${v.lastAcked} acknowledged records read back in order (${v.records} in the file), no error`
        : `records NOT all there: ${v.problems.slice(0, 5).join("; ")}`,
    );
  }
  const first = acks[0]?.t ?? 0;
  const last = acks[acks.length - 1]?.t ?? 0;
  const end = Math.max(until ?? last, last);
  const o = acks.length >= 1 ? outage(acks, first, end) : { seconds: 0 };
  return {
    kind,
    outageSeconds: Math.round(o.seconds * 10) / 10,
    answered: acks.length,
    sent: acks.length + errs.length,
    recovered: acks.length > 0 && (o.seconds === 0 || o.after !== undefined),
    verified,
    notes,
  };
}

export class WriterProbe implements Probe {
  readonly kind = `NFS writer: a synchronous record every ${WRITER_INTERVAL_S} s on ${WRITER.records}`;
  private readonly pid = "/tmp/umlab-drill-writer.pid";
  constructor(
    private readonly cluster: Cluster,
    private readonly client = "client",
  ) {}

  async start(): Promise<void> {
    // A writer left hung by an earlier drill (hard mount) is killed first.
    const r = await this.cluster.sh(
      this.client,
      `[ -f ${this.pid} ] && kill -9 $(cat ${this.pid}) 2>/dev/null; ` +
        `${startWriterCommand(WRITER_INTERVAL_S)} echo $! >${this.pid}; echo started`,
    );
    if (!r || !r.out.includes("started"))
      throw new Error("drill: could not start the NFS writer in the client (is the export mounted?)");
  }

  private async log(): Promise<string> {
    return (await this.cluster.sh(this.client, `cat ${WRITER.log}`))?.out ?? "";
  }

  /** Answering: a new acknowledgement within the last 3 s of the client's clock. */
  async waitAnswering(ms: number): Promise<boolean> {
    return this.cluster.until(async () => {
      const r = await this.cluster.sh(this.client, `tail -n 1 ${WRITER.log}; date +%s.%3N`);
      const [line, now] = (r?.out ?? "").trim().split("\n");
      const m = /^ack \d+ (\S+)/.exec(line ?? "");
      return !!m && Number(now) - Number(m[1]) < 3;
    }, ms);
  }

  async stop(): Promise<ProbeResult> {
    const r0 = await this.cluster.sh(this.client, `date +%s.%3N; touch ${WRITER.log}.stop; sleep 1`);
    const until = Number(r0?.out.trim().split("\n")[0]) || undefined;
    const log = await this.log();
    // The file last (after the log): a hung hard mount is given 20 s, then the read is killed.
    const r = await this.cluster.sh(
      this.client,
      `timeout -s KILL 20 cat ${WRITER.records} && echo '#read-ok'`,
      40_000,
    );
    const ok = !!r && r.out.endsWith("#read-ok\n");
    return writerResult(log, ok ? r!.out.replace(/#read-ok\n$/, "") : undefined, this.kind, until);
  }
}
