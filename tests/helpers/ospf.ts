// Outage measurement for the OSPF ring (tests and bench): a ping at a 50 ms interval runs in a
// guest through the exec agent while something breaks; lost replies x 50 ms = the outage.
import * as crypto from "crypto";
import { waitFor } from "../../provider/host/process";
import { exec, GuestRef } from "../../sdk/exec";

export const PING_INTERVAL_S = 0.05;

export interface PingStats {
  transmitted: number;
  received: number;
  lost: number;
  /** lost x interval. */
  outageSeconds: number;
}

export function parsePingStats(text: string): PingStats {
  const m = /(\d+) packets transmitted, (\d+) received/.exec(text);
  if (!m) throw new Error(`no ping statistics in:\n${text}`);
  const transmitted = Number(m[1]);
  const received = Number(m[2]);
  const lost = transmitted - received;
  return { transmitted, received, lost, outageSeconds: +(lost * PING_INTERVAL_S).toFixed(2) };
}

/** Start pinging `target` from `guest` every 50 ms; `stop()` ends it and returns the counts. */
export async function startPing(guest: GuestRef, target: string): Promise<{ stop(): Promise<PingStats> }> {
  const tag = crypto.randomBytes(4).toString("hex");
  const script = [
    `ping -i ${PING_INTERVAL_S} -q ${target} >/tmp/ping-${tag} 2>&1 & p=$!`,
    `while [ ! -e /tmp/stop-${tag} ]; do sleep 0.1; done`,
    "kill -INT $p; wait $p",
    `cat /tmp/ping-${tag}; rm -f /tmp/ping-${tag} /tmp/stop-${tag}`,
  ].join("\n");
  const running = exec(guest, script, { timeoutMs: 900_000 });
  running.catch(() => undefined); // awaited in stop()
  const started = await waitFor(
    async () => (await exec(guest, ["test", "-s", `/tmp/ping-${tag}`])).exitCode === 0,
    10_000,
    100,
  );
  if (!started) throw new Error(`ping to ${target} did not start`);
  return {
    async stop() {
      await exec(guest, ["touch", `/tmp/stop-${tag}`]);
      return parsePingStats((await running).stdout);
    },
  };
}

/** The record-route hops of one `ping -R` (addresses after "RR:"), [] when it got no reply. */
export async function recordRoute(guest: GuestRef, target: string): Promise<string[]> {
  const r = await exec(guest, ["ping", "-R", "-c", "1", "-W", "2", target]);
  const at = r.stdout.indexOf("RR:");
  if (r.exitCode !== 0 || at < 0) return [];
  return r.stdout
    .slice(at + 3)
    .split("\n")
    .map((l) => l.trim())
    .filter((l) => /^\d+\.\d+\.\d+\.\d+$/.test(l));
}

/** A router of examples/ospf-ring as its `nodes` output gives it. */
export interface NodeInfo {
  name: string;
  pid: number;
  guestDir: string;
  bootId: string;
}

// On link 3 (node03-node04) node04 is 192.168.3.4; on link 2 (node02-node03) node02 is 192.168.2.2:
// node01 reaches node03 via node04, and via node02 once link 4 is down.
export const VIA_NODE04 = "192.168.3.4";
export const VIA_NODE02 = "192.168.2.2";
