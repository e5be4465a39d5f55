// A UML guest: one linux.uml process (plus its helpers) in its own session. What UML can
// change while running (its NICs) is changed in place through uml_mconsole; everything
// the guest reads at boot (memory, disks, kernel args, the contract settings) is a replace.
import * as fs from "fs";
import * as path from "path";
import type * as pulumi from "@pulumi/pulumi";
import * as host from "../host/process";
import * as naming from "../core/naming";
import * as uml from "./boot";
import * as exec from "../exec/agent";
import {
  guestSchema,
  labSocketFailures,
  GuestInputs,
  NicInputs,
  CheckFailure,
  UNKNOWN,
} from "../core/schemas";
import { checkInputs } from "../core/define";

export interface GuestOutputs extends GuestInputs {
  pid: number;
  /** `<pid>:<start time>` of the UML process (guards against pid reuse). */
  instance: string;
  /** The guest kernel's boot id: unchanged by in-place updates, new after any (re)boot. */
  bootId: string;
  /** `uml_mconsole <mconsole> <command>` talks to the running guest. */
  mconsole: string;
  consoleLog: string;
  guestDir: string;
}

/** Inputs the guest reads only at boot: changing any of them reboots it (a replace). */
export const REBOOT_KEYS = [
  "labDir",
  "name",
  "kernel",
  "memory",
  "disks",
  "hostname",
  "routes",
  "sysctls",
  "modules",
  "files",
  "startup",
  "serial",
  "kernelArgs",
  "watchdog",
] as const;

export type NicOp =
  | { kind: "attach"; index: number }
  | { kind: "detach"; index: number }
  | { kind: "replug"; index: number }
  | { kind: "readdress"; index: number }
  | { kind: "link"; index: number }
  | { kind: "netem"; index: number };

export interface GuestPlan {
  changes: string[];
  replaces: string[];
  /** In-place NIC operations, in the order to apply them; undefined when NICs are unknown. */
  nicOps?: NicOp[];
}

/** JSON with sorted object keys: equality that ignores key order. */
export function canonical(v: unknown): string {
  if (v === undefined) return "null";
  if (Array.isArray(v)) return `[${v.map(canonical).join(",")}]`;
  if (v && typeof v === "object")
    return `{${Object.keys(v as object)
      .sort()
      .filter((k) => (v as any)[k] !== undefined)
      .map((k) => `${JSON.stringify(k)}:${canonical((v as any)[k])}`)
      .join(",")}}`;
  return JSON.stringify(v);
}

/** How NIC list `olds` becomes `news` in a running guest (ethN is nics[N]). */
/** Set by `read` (refresh) on a NIC whose switch process is gone: its link is dead. */
export const SWITCH_GONE = "gone";

/**
 * Must this NIC be re-plugged? With the switch's outputs known (apply time), any new switch
 * process, control path or MAC says so. During a preview a switch that is being updated has
 * unknown outputs; then only what is known decides: a new generation (the switch is replaced),
 * a switch that refresh found dead, or a new MAC.
 */
export function needsReplug(o: NicInputs, n: NicInputs): boolean {
  if (o.mac !== n.mac) return true;
  const unknown = [n.engine, n.control, n.switchInstance].some((v) => v === UNKNOWN);
  if (unknown) {
    return (
      (o.switchGeneration ?? "") !== (n.switchGeneration ?? "") ||
      o.switchInstance === SWITCH_GONE ||
      (n.engine !== UNKNOWN && o.engine !== n.engine) ||
      (n.control !== UNKNOWN && o.control !== n.control)
    );
  }
  return o.engine !== n.engine || o.control !== n.control || o.switchInstance !== n.switchInstance;
}

export function planNics(olds: NicInputs[], news: NicInputs[]): NicOp[] {
  const ops: NicOp[] = [];
  for (let i = olds.length - 1; i >= news.length; i--) ops.push({ kind: "detach", index: i });
  for (let i = 0; i < Math.min(olds.length, news.length); i++) {
    const o = olds[i];
    const n = news[i];
    if (needsReplug(o, n)) ops.push({ kind: "replug", index: i });
    else if (canonical(o.addresses) !== canonical(n.addresses)) ops.push({ kind: "readdress", index: i });
    else if (!!o.linkDown !== !!n.linkDown) ops.push({ kind: "link", index: i });
    // A re-plugged NIC gets its netem again anyway (a new interface has no qdisc).
    if (!needsReplug(o, n) && uml.netemArgs(o) !== uml.netemArgs(n)) ops.push({ kind: "netem", index: i });
  }
  for (let i = olds.length; i < news.length; i++) ops.push({ kind: "attach", index: i });
  return ops;
}

/** The pure decision: what changed, what needs a reboot (replace), what UML changes in place. */
export function planGuest(olds: GuestInputs, news: GuestInputs): GuestPlan {
  const changes: string[] = [];
  const replaces: string[] = [];
  for (const k of REBOOT_KEYS) {
    if (canonical(olds[k]) !== canonical(news[k])) {
      changes.push(k);
      replaces.push(k);
    }
  }
  let nicOps: NicOp[] | undefined = [];
  if (olds.nics === UNKNOWN || news.nics === UNKNOWN) {
    // Known at update time; every NIC change can be applied in place.
    changes.push("nics");
    nicOps = undefined;
  } else {
    nicOps = planNics(olds.nics as NicInputs[], news.nics as NicInputs[]);
    if (nicOps.length > 0) changes.push("nics");
  }
  if (olds.readyTimeoutSeconds !== news.readyTimeoutSeconds) changes.push("readyTimeoutSeconds");
  if (!!olds.paused !== !!news.paused) changes.push("paused");
  return { changes, replaces, nicOps };
}

export function checkGuest(news: any): { inputs: any; failures?: CheckFailure[] } {
  return checkInputs(guestSchema(), news, labSocketFailures);
}

/** Write the host side of the guest contract: config, files/, startup; a fresh state/. */
export function writeGuestFolder(g: GuestInputs): void {
  const p = naming.guestPaths(g.labDir, g.name);
  fs.rmSync(p.dir, { recursive: true, force: true });
  fs.mkdirSync(p.state, { recursive: true, mode: 0o700 });
  // `cp -a files/. /` gives the guest's / the mode of files/ itself: 0700 there would lock
  // every non-root daemon (frr, ...) out of the guest's whole filesystem.
  fs.mkdirSync(p.files, { recursive: true, mode: 0o755 });
  fs.chmodSync(p.files, 0o755);
  fs.mkdirSync(p.execDir, { recursive: true, mode: 0o700 });
  host.writeFileAtomic(p.config, uml.contractConfig(g), 0o644);
  for (const [guestPath, content] of Object.entries(g.files)) {
    const target = path.join(p.files, guestPath);
    fs.mkdirSync(path.dirname(target), { recursive: true });
    host.writeFileAtomic(target, content, 0o644);
  }
  if (g.startup !== undefined) host.writeFileAtomic(p.startup, g.startup, 0o755);
}

/** Stop a guest: halt through mconsole, then signal its process group (helpers included). */
export async function stopGuest(o: Pick<GuestOutputs, "pid" | "instance" | "mconsole">): Promise<void> {
  const ours = host.sameRun(o.pid, o.instance);
  if (ours && fs.existsSync(o.mconsole)) {
    const r = await uml.mconsole(o.mconsole, ["halt"], 10_000).catch(() => ({ ok: false, text: "" }));
    if (r.ok) await host.waitFor(() => !host.processAlive(o.pid), 15_000, 100);
  }
  // Whether or not the halt worked (a guest stuck rebooting has no mconsole socket),
  // signal the group: the leader's pid is the group id, and helpers must not survive.
  if (ours || (o.pid && !host.processAlive(o.pid))) await host.stopGroup(o.pid);
}

/** The `paused` fault: mconsole `stop` freezes the guest kernel, `go` resumes it. */
async function setPaused(o: Pick<GuestOutputs, "name" | "mconsole">, paused: boolean): Promise<void> {
  const r = await uml.mconsole(o.mconsole, [paused ? "stop" : "go"]);
  if (!r.ok) throw new Error(`guest ${o.name}: mconsole ${paused ? "stop" : "go"} failed: ${r.text}`);
}

async function readBootId(mconsole: string): Promise<string> {
  const r = await uml.mconsole(mconsole, ["proc", "sys/kernel/random/boot_id"]);
  return r.ok ? r.text.trim() : "";
}

/**
 * Run shell lines in a running guest and wait for them: through the exec agent, or the
 * console shell for a guest booted from an image without the agent. Failures of single
 * lines are tolerated (re-adding an existing route is harmless), as on the console.
 */
async function guestShell(o: Pick<GuestOutputs, "labDir" | "name">, lines: string[]): Promise<void> {
  const p = naming.guestPaths(o.labDir, o.name);
  if (fs.existsSync(`${p.state}/agent`)) {
    const r = await exec.execInGuest(o.labDir, o.name, lines.join("\n"), { timeoutMs: 20_000 });
    if (r.stdout || r.stderr) fs.appendFileSync(`${p.state}/changes.log`, r.stdout + r.stderr);
  } else await uml.consoleExec(o.labDir, o.name, lines);
}

async function removeNic(o: GuestOutputs, index: number): Promise<void> {
  let r = await uml.mconsole(o.mconsole, ["remove", `eth${index}`]);
  if (!r.ok && /open/i.test(r.text)) {
    // UML refuses to remove an interface that is up: take it down first.
    await guestShell(o, [`ip link set eth${index} down`]);
    r = await uml.mconsole(o.mconsole, ["remove", `eth${index}`]);
  }
  if (!r.ok && !/not found|no such/i.test(r.text))
    throw new Error(`guest ${o.name}: remove eth${index} failed: ${r.text}`);
}

async function plugNic(o: GuestOutputs, index: number, nic: NicInputs): Promise<void> {
  const r = await uml.mconsole(o.mconsole, ["config", `eth${index}=${uml.nicTransport(nic)}`]);
  if (!r.ok) throw new Error(`guest ${o.name}: config eth${index} failed: ${r.text}`);
}

/** Apply NIC operations to a running guest; returns nothing, throws with the reason. */
async function applyNicOps(o: GuestOutputs, news: GuestInputs, ops: NicOp[]): Promise<void> {
  const nics = news.nics as NicInputs[];
  const shell: string[] = [];
  for (const op of ops) {
    if (op.kind === "detach" || op.kind === "replug") await removeNic(o, op.index);
    if (op.kind === "attach" || op.kind === "replug") {
      await plugNic(o, op.index, nics[op.index]);
      shell.push(...uml.nicAddressCommands(op.index, nics[op.index], false));
    }
    if (op.kind === "readdress") shell.push(...uml.nicAddressCommands(op.index, nics[op.index], true));
    if (op.kind === "link") shell.push(uml.nicLinkCommand(op.index, nics[op.index]));
  }
  if (shell.length > 0) {
    // Routes through a re-plugged NIC vanished with it; re-adding existing ones is harmless.
    for (const r of news.routes) shell.push(`ip route add ${r.dest} via ${r.via}`);
    await guestShell(o, shell);
  }
  for (const op of ops) {
    const replugged = op.kind === "attach" || op.kind === "replug";
    if (op.kind === "netem" || (replugged && uml.netemArgs(nics[op.index])))
      await setNetem(o, op.index, nics[op.index]);
  }
  // Keep the contract's config file true for the next boot.
  host.writeFileAtomic(naming.guestPaths(news.labDir, news.name).config, uml.contractConfig(news), 0o644);
}

/** Make NIC `index`'s qdisc match its netem settings, through the exec agent; throws with the reason. */
async function setNetem(
  o: Pick<GuestOutputs, "labDir" | "name">,
  index: number,
  nic: NicInputs,
): Promise<void> {
  const r = await exec.execInGuest(o.labDir, o.name, uml.nicNetemScript(index, nic), { timeoutMs: 20_000 });
  if (r.exitCode === 0) return;
  const what = uml.netemArgs(nic) ? `netem ${uml.netemArgs(nic)}` : "removing netem";
  if (r.exitCode === 3 && r.stderr.includes(uml.NETEM_NEEDS_IPROUTE2))
    throw new Error(`guest ${o.name}: eth${index}: ${uml.NETEM_NEEDS_IPROUTE2}`);
  throw new Error(
    `guest ${o.name}: eth${index}: ${what} failed (exit ${r.exitCode}): ${(r.stderr + r.stdout).trim()}`,
  );
}

export const guestProvider: pulumi.dynamic.ResourceProvider = {
  async check(_olds: any, news: any) {
    return checkGuest(news);
  },

  async diff(_id: string, olds: any, news: any) {
    const plan = planGuest(olds, news);
    return { changes: plan.changes.length > 0, replaces: plan.replaces, deleteBeforeReplace: true };
  },

  async create(inputs: any) {
    const g = inputs as GuestInputs;
    const p = naming.guestPaths(g.labDir, g.name);
    // Leftovers of an earlier run of this guest (killed, or a failed create).
    fs.rmSync(p.umidDir, { recursive: true, force: true });
    writeGuestFolder(g);
    await host.run("mkfifo", ["-m", "0600", p.consoleIn, p.agentIn]);
    // Read-write so the FIFOs never report EOF to the guest when no writer is attached.
    const consoleFd = fs.openSync(p.consoleIn, fs.constants.O_RDWR);
    const agentFd = fs.openSync(p.agentIn, fs.constants.O_RDWR);
    // SerialCable ends: read-write too, so a restarting peer never means EOF.
    const cableFds = uml.cableFifos(g.serial).map((f) => fs.openSync(f, fs.constants.O_RDWR));
    let pid: number;
    try {
      pid = host.spawnDetached(g.kernel, uml.guestArgs(g, g.labDir), {
        logFile: p.consoleLog,
        stdinFd: consoleFd,
        // fd 3: the exec agent's line (con7); see provider/exec.ts.
        extraFds: [agentFd, ...cableFds], // cable ends from fd 4 (uml.CABLE_FD_BASE)
      });
    } finally {
      fs.closeSync(consoleFd);
      fs.closeSync(agentFd);
      for (const fd of cableFds) fs.closeSync(fd);
    }
    const instance = host.processInstance(pid) ?? `${pid}:0`;
    // A 20 ms poll (one stat and one /proc read): a busybox guest is ready about 1.5 s after
    // launch, and a 100 ms poll added 50 ms on average to every boot.
    const ready = await host.waitFor(
      () => fs.existsSync(p.ready) || !host.processAlive(pid),
      g.readyTimeoutSeconds * 1000,
      20,
    );
    if (!ready || !fs.existsSync(p.ready)) {
      const why = ready ? "exited before it was ready" : `was not ready after ${g.readyTimeoutSeconds} s`;
      await host.stopGroup(pid);
      throw new Error(
        `guest ${g.name} ${why} (no ${p.ready})\n` +
          `--- console log ${p.consoleLog} (tail) ---\n${uml.fileTail(p.consoleLog)}\n` +
          `--- ${p.initLog} (tail) ---\n${uml.fileTail(p.initLog)}`,
      );
    }
    await host.waitFor(() => fs.existsSync(p.mconsole), 5000);
    const bootId = await readBootId(p.mconsole);
    // The init applied the netem lines (or logged why not): check them now, so a guest whose
    // image cannot do netem fails here with the reason instead of running without it.
    const nics = Array.isArray(g.nics) ? (g.nics as NicInputs[]) : [];
    for (const [k, nic] of nics.entries()) {
      if (!uml.netemArgs(nic)) continue;
      try {
        await setNetem(g, k, nic);
      } catch (e) {
        await host.stopGroup(pid);
        throw e;
      }
    }
    if (g.paused) await setPaused({ name: g.name, mconsole: p.mconsole }, true);
    const outs: GuestOutputs = {
      ...g,
      pid,
      instance,
      bootId,
      mconsole: p.mconsole,
      consoleLog: p.consoleLog,
      guestDir: p.dir,
    };
    return { id: `${g.name}@${g.labDir}`, outs };
  },

  async read(id: string, props: any) {
    const o = props as GuestOutputs;
    if (host.sameRun(o.pid, o.instance)) {
      // A NIC whose switch process died has a dead link: say so, so the next preview shows
      // the guest's re-plug (the switch itself is dropped by the same refresh).
      if (!Array.isArray(o.nics)) return { id, props };
      const nics = (o.nics as NicInputs[]).map((n) => {
        const pid = Number(String(n.switchInstance).split(":")[0]);
        const alive = pid > 0 && host.processInstance(pid) === n.switchInstance;
        return alive || n.switchInstance === SWITCH_GONE ? n : { ...n, switchInstance: SWITCH_GONE };
      });
      return { id, props: { ...o, nics } };
    }
    // Dead (kill -9, crash, halted from inside): gone, so the next `up` boots it again.
    // Its helpers may still run in its process group: stop them now.
    if (o.pid && !host.processAlive(o.pid)) host.signalGroup(o.pid, "SIGKILL");
    return { id: "", props: {} };
  },

  async update(_id: string, olds: any, news: any) {
    const o = olds as GuestOutputs;
    const n = news as GuestInputs;
    const ops =
      planGuest(o, n).nicOps ??
      planNics(Array.isArray(o.nics) ? o.nics : [], Array.isArray(n.nics) ? (n.nics as NicInputs[]) : []);
    // Resume before (console commands need a running kernel), pause after the NIC changes.
    if (o.paused && !n.paused) await setPaused(o, false);
    if (ops.length > 0) await applyNicOps(o, n, ops);
    if (n.paused && !o.paused) await setPaused(o, true);
    const outs: GuestOutputs = {
      ...n,
      pid: o.pid,
      instance: o.instance,
      bootId: o.bootId,
      mconsole: o.mconsole,
      consoleLog: o.consoleLog,
      guestDir: o.guestDir,
    };
    return { outs };
  },

  async delete(_id: string, props: any) {
    const o = props as GuestOutputs;
    if (o.paused) await setPaused(o, false).catch(() => undefined); // a halt needs a running kernel
    await stopGuest(o);
    const p = naming.guestPaths(o.labDir, o.name);
    fs.rmSync(p.umidDir, { recursive: true, force: true });
    fs.rmSync(p.dir, { recursive: true, force: true });
  },
};
