// A running guest's power: halt it (delete), pause and resume it (the `paused` fault), pull
// its plug (crashGuest, the one imperative fault), and read which boot it is in.
import * as fs from "fs";
import * as host from "../host/process";
import { mconsole } from "../host/mconsole";

/** The run of a guest that its outputs record. */
export interface GuestRun {
  name: string;
  pid: number;
  /** `<pid>:<start time>` of the UML process. */
  instance: string;
  /** The mconsole socket. */
  mconsole: string;
}

/** Stop a guest: halt through mconsole, then signal its process group (helpers included). */
export async function stopGuest(o: Pick<GuestRun, "pid" | "instance" | "mconsole">): Promise<void> {
  const ours = host.sameRun(o.pid, o.instance);
  if (ours && fs.existsSync(o.mconsole)) {
    const r = await mconsole.halt(o.mconsole, 10_000).catch(() => ({ ok: false, text: "" }));
    if (r.ok) await host.waitFor(() => !host.processAlive(o.pid), 15_000, 100);
  }
  // Whether or not the halt worked (a guest stuck rebooting has no mconsole socket),
  // signal the group: the leader's pid is the group id, and helpers must not survive.
  if (ours || (o.pid && !host.processAlive(o.pid))) await host.stopGroup(o.pid);
}

/** The `paused` fault: mconsole `stop` freezes the guest kernel, `go` resumes it. */
export async function setPaused(o: Pick<GuestRun, "name" | "mconsole">, paused: boolean): Promise<void> {
  const r = await (paused ? mconsole.stop(o.mconsole) : mconsole.go(o.mconsole));
  if (!r.ok) throw new Error(`guest ${o.name}: mconsole ${paused ? "stop" : "go"} failed: ${r.text}`);
}

/** The guest kernel's boot id ("" when mconsole does not answer). */
export async function readBootId(socket: string): Promise<string> {
  const r = await mconsole.proc(socket, "sys/kernel/random/boot_id");
  return r.ok ? r.text.trim() : "";
}

/**
 * Pull the plug on a guest: SIGKILL to its whole process group (UML and its helpers), with
 * no halt. Only a process that is still the run the outputs name is killed. Returns whether
 * it was running. `pulumi refresh` then finds it gone; the next `pulumi up` boots it again.
 */
export async function crashGuest(g: { pid: number; instance: string }): Promise<boolean> {
  if (!Number.isInteger(g?.pid) || g.pid <= 1)
    throw new Error(`crash: pid ${g?.pid} is not a guest's: give the Guest's pid and instance outputs`);
  if (typeof g.instance !== "string" || !/^[0-9]+:[0-9]+$/.test(g.instance))
    throw new Error(
      `crash: give the Guest's instance output with its pid (got ${JSON.stringify(g.instance)}): ` +
        "without it a reused pid could be another process",
    );
  const current = host.processInstance(g.pid);
  if (!current || current !== g.instance) return false;
  host.signalGroup(g.pid, "SIGKILL");
  await host.waitFor(() => !host.processAlive(g.pid), 10_000);
  return true;
}
