// A null-modem cable between serial lines of two guests, made of FIFOs (no ptys needed).
//
// Each end `<dir>/<name>.<a|b>` is two FIFOs: `.out` (the guest writes) and `.in` (the
// guest reads). The guest opens both O_RDWR and passes them as `sslN=fd:<in>,fd:<out>`,
// so it never sees EOF and survives a restart of its peer. A relay (`socat`) copies
// a.out → b.in and b.out → a.in; with `log: true` it also writes a hex dump of every byte
// that crosses, with direction and time (`>` a→b, `<` b→a), to `<name>.log`.
// The FIFOs stay while the cable exists, so restarting the relay (log toggled, or after it
// died) never disturbs the guests. `suspended` cuts the cable in place: the relay is stopped
// (SIGSTOP), so nothing crosses; what a guest writes meanwhile waits in its `.out` FIFO and is
// thrown away when the cable is mended, just before the relay resumes (SIGCONT): bytes sent
// down a cut cable are lost. (Delivered instead, a burst of more than about 4 KiB wedged the
// receiving guests' serial input for good: heartbeat after a 35 s cut, examples/ha-cluster.)
import * as fs from "fs";
import type * as pulumi from "@pulumi/pulumi";
import * as host from "../host/process";
import { dropWaiting, FIFO_BYTES } from "../host/files";
import * as reap from "../host/reap";
import * as naming from "../core/naming";
import { serialCableSchema, serialCablePolicy, SerialCableInputs } from "../core/schemas";
import { planFromPolicy, diffResult } from "../core/diff";
import { defineProvider } from "../core/define";

export { FIFO_BYTES } from "../host/files";

export interface SerialCableOutputs extends SerialCableInputs {
  /** Give these to Guest `serial` entries: `cable:<path prefix>`. */
  endA: string;
  endB: string;
  /** The byte log (hex dump) when `log` is on. */
  logPath: string;
  pid: number;
  instance: string;
}

/** The relay's argv: socat between the two ends, each read from `.out` and written to the other's `.in`. */
export function relayCommand(c: SerialCableInputs): { cmd: string; args: string[] } {
  const p = naming.cablePaths(c.labDir, c.name);
  const end = (e: string) => `OPEN:${e}.out,rdwr!!OPEN:${e}.in,rdwr`;
  return { cmd: "socat", args: [...(c.log ? ["-x"] : []), "-b", "4096", end(p.a), end(p.b)] };
}

/** New FIFOs only for a new place; `log` and `suspended` in place (core/schemas/serial.ts serialCablePolicy). */
export function planSerialCable(olds: SerialCableInputs, news: SerialCableInputs): pulumi.dynamic.DiffResult {
  return diffResult(planFromPolicy(serialCablePolicy, olds, news));
}

/** Stop (SIGSTOP) or resume (SIGCONT) the relay's process group: the cable goes dead or comes back. */
export function suspendRelay(pid: number, suspended: boolean): void {
  host.signalGroup(pid, suspended ? "SIGSTOP" : "SIGCONT");
}

/** Stop the relay we started (only that run: pids get reused); resumed first, or SIGTERM would wait. */
async function stopRelay(pid: number, instance: string): Promise<void> {
  if (!host.sameRun(pid, instance)) return;
  suspendRelay(pid, false);
  await host.stopGroup(pid);
}

/**
 * Read and drop what waits in the guests' `.out` FIFOs (non-blocking; at most `cap` bytes
 * each). The cap is a FIFO's size: a guest blocked writing into the cut cable refills the FIFO
 * as it is read, and without the cap the drain could swallow everything it writes next, so
 * nothing written after the mend would cross.
 */
export function drainFifos(paths: string[], cap = FIFO_BYTES): number {
  let dropped = 0;
  for (const f of paths) {
    let fd: number;
    try {
      fd = fs.openSync(f, fs.constants.O_RDONLY | fs.constants.O_NONBLOCK | fs.constants.O_NOFOLLOW);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === "ENOENT") continue;
      throw e;
    }
    try {
      dropped += dropWaiting(fd, cap);
    } finally {
      fs.closeSync(fd);
    }
  }
  return dropped;
}

async function startRelay(c: SerialCableInputs): Promise<{ pid: number; instance: string }> {
  const p = naming.cablePaths(c.labDir, c.name);
  const { cmd, args } = relayCommand(c);
  // A relay of this cable still running (an interrupted run, or a failed update): stop it,
  // or two relays would share the FIFOs and split the bytes between them.
  await reap.reapPrevious(cmd, args.slice(-2), `cable ${c.name}`);
  const pid = host.spawnDetached(cmd, args, { logFile: p.log });
  await host.sleep(200);
  const instance = host.processInstance(pid);
  if (!instance) {
    host.signalGroup(pid, "SIGKILL"); // its helpers, if any
    throw new Error(`SerialCable ${c.name}: socat exited at once\n${host.fileTail(p.log, 10)}`);
  }
  if (c.suspended) suspendRelay(pid, true);
  return { pid, instance };
}

export const serialCableProvider = defineProvider<SerialCableInputs, SerialCableOutputs>({
  schema: serialCableSchema,
  policy: serialCablePolicy,

  async create(c) {
    const p = naming.cablePaths(c.labDir, c.name);
    fs.mkdirSync(p.dir, { recursive: true, mode: 0o700 });
    // Keep FIFOs that exist: running guests may hold them (the relay died and is restarted).
    for (const f of p.fifos) if (!fs.existsSync(f)) await host.run("mkfifo", ["-m", "0600", f]);
    const relay = await startRelay(c);
    const outs: SerialCableOutputs = {
      ...c,
      endA: `cable:${p.a}`,
      endB: `cable:${p.b}`,
      logPath: p.log,
      ...relay,
    };
    return { id: `${c.name}@${c.labDir}`, outs };
  },

  async update(o, n) {
    // Mended: what was sent down the cut cable is lost (see the top of this file).
    const p = naming.cablePaths(n.labDir, n.name);
    if (o.suspended && !n.suspended) drainFifos([`${p.a}.out`, `${p.b}.out`]);
    // `suspended` alone: signal the running relay. `log` (or a relay that died): a new relay
    // on the same FIFOs, started suspended when the cable is.
    if (o.log === n.log && host.sameRun(o.pid, o.instance)) {
      suspendRelay(o.pid, n.suspended);
      return { ...o, ...n };
    }
    await stopRelay(o.pid, o.instance);
    return { ...o, ...n, ...(await startRelay(n)) };
  },

  async delete(o) {
    await stopRelay(o.pid, o.instance);
    const p = naming.cablePaths(o.labDir, o.name);
    for (const f of [...p.fifos, p.log]) fs.rmSync(f, { force: true });
  },
});
