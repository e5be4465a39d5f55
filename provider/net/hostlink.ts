// A link between hosts: a VDE cable over SSH. On the host of switch A (the link's own host:
// its lab's), `vde_plug <A> = ssh <peer> vde_plug <B>` plugs into A and runs ssh, whose
// stdin/stdout carry the frames to a vde_plug in switch B on the peer. Both switches are
// engine "vde". One process group here (vde_plug + ssh): suspending it (SIGSTOP) silences
// the link like a suspended switch; stopping it ends ssh, and B's vde_plug exits at EOF.
// The ssh argv is fixed words (host/remote-argv.ts sshCommandArgv): no shell with user data.
// Impairments (loss, delay, rate) like any link's: the cable plugs into a private vde_switch
// joined to switch A by a wirefilter (`wirefilter -v A:private -M mgmt`), so the frames cross
// `A = wirefilter = private = vde_plug = ssh peer vde_plug B`; new settings go to the running
// filter through its management socket (wirefilter-mgmt.ts), in place, nothing restarts.
import * as fs from "fs";
import { z } from "zod";
import * as host from "../host/process";
import * as reap from "../host/reap";
import * as naming from "../core/naming";
import { fields } from "../core/schemas/fields";
import { replace, inPlace, type ChangePolicy } from "../core/policy";
import { defineProvider } from "../core/define";
import { hostSchema, sshCommandArgv, hostLabel, type Host } from "../host/remote-argv";
import { filterArgs, startDaemon } from "./impairment";
import { impairmentSchema } from "../core/schemas";
import { filterCommands, wirefilterCommands } from "./wirefilter-mgmt";

export function hostLinkSchema() {
  const { orUnknown, path, name } = fields();
  return z.object({
    labDir: orUnknown(path),
    name,
    /** Switch A's control directory (here). */
    a: orUnknown(path),
    /** Switch B's control directory (on the peer). */
    b: orUnknown(path),
    /** The peer (switch B's host) as this host reaches it. */
    peer: hostSchema(),
    /** The switches' runs: a restarted switch re-makes the link. */
    aInstance: z.string().default(""),
    bInstance: z.string().default(""),
    /** A fault: the link's processes are stopped (SIGSTOP) and carry nothing. */
    suspended: z.boolean().default(false),
    /** Frames lost (percent), added one-way delay (ms), bandwidth limit (kbit/s), each direction: an Impairment's. */
    ...impairmentSchema().pick({ lossPercent: true, delayMs: true, rateKbit: true }).shape,
  });
}
export type HostLinkInputs = z.output<ReturnType<typeof hostLinkSchema>>;

export const hostLinkPolicy: ChangePolicy<HostLinkInputs> = {
  labDir: replace("its log and marker live in the lab dir"),
  name: replace("its marker names the process"),
  a: replace("another switch here"),
  b: replace("another switch on the peer"),
  peer: replace("another peer, or reached another way"),
  aInstance: replace("switch A restarted: plug again"),
  bInstance: replace("switch B restarted: plug again"),
  suspended: inPlace("SIGSTOP/SIGCONT of the link's process group"),
  lossPercent: inPlace("set in the running wirefilter (its management socket)"),
  delayMs: inPlace("set in the running wirefilter (its management socket)"),
  rateKbit: inPlace("set in the running wirefilter (its management socket)"),
};

export interface HostLinkOutputs extends HostLinkInputs {
  pid: number;
  instance: string;
  logPath: string;
  /** The private switch and the wirefilter between it and switch A. */
  switchPid: number;
  switchInstance: string;
  filterPid: number;
  filterInstance: string;
}

export interface HostLinkPaths {
  marker: string;
  log: string;
  /** The private switch's control dir, pid file and log. */
  control: string;
  switchPid: string;
  switchLog: string;
  /** The wirefilter's pid file, management socket and log. */
  filterPid: string;
  mgmt: string;
  filterLog: string;
}

/** The marker (vde_plug's description) naming this link's process, its log, its filter's files (pure). */
export function hostLinkPaths(labDir: string, name: string): HostLinkPaths {
  const dir = naming.labPaths(labDir).switchesDir;
  const hl = `${dir}/${name}.hl`;
  return {
    marker: `${dir}/${name}.hostlink`,
    log: `${dir}/${name}.hostlink.log`,
    control: `${hl}.sw`,
    switchPid: `${hl}.sw.pid`,
    switchLog: `${hl}.sw.log`,
    filterPid: `${hl}.wf.pid`,
    mgmt: `${hl}.wf.mgmt`,
    filterLog: `${hl}.wf.log`,
  };
}

/** The argv (pure): options first, and POSIXLY_CORRECT so vde_plug leaves ssh's options alone. */
export function hostLinkCommand(i: HostLinkInputs): { cmd: string; args: string[] } {
  const { marker, control } = hostLinkPaths(i.labDir, i.name);
  return {
    cmd: "vde_plug",
    args: ["-D", marker, control, "=", "ssh", ...sshCommandArgv(i.peer as Host, ["vde_plug", i.b])],
  };
}

async function stopLink(o: { pid: number; instance: string }): Promise<void> {
  if (!host.sameRun(o.pid, o.instance)) return;
  host.signalGroup(o.pid, "SIGCONT");
  await host.stopGroup(o.pid);
}

/** The private switch and the wirefilter joining it to switch A, with the link's settings. */
async function startFilter(
  i: HostLinkInputs,
): Promise<Pick<HostLinkOutputs, "switchPid" | "switchInstance" | "filterPid" | "filterInstance">> {
  const p = hostLinkPaths(i.labDir, i.name);
  await reap.reapPrevious("wirefilter", [p.filterPid], `host link ${i.name}`);
  await reap.reapPrevious("vde_switch", [p.switchPid], `host link ${i.name}`);
  for (const f of [p.control, p.mgmt]) fs.rmSync(f, { recursive: true, force: true });
  const switchPid = await startDaemon(
    "vde_switch",
    ["-s", p.control, "-d", "-p", p.switchPid],
    p.switchPid,
    p.switchLog,
  );
  const switchInstance = host.processInstance(switchPid) as string;
  try {
    await host.waitFor(() => fs.existsSync(`${p.control}/ctl`), 10_000);
    const filterPid = await startDaemon(
      "wirefilter",
      ["-v", `${i.a}:${p.control}`, "-M", p.mgmt, ...filterArgs(i), "--daemon", "--pidfile", p.filterPid],
      p.filterPid,
      p.filterLog,
    );
    const filterInstance = host.processInstance(filterPid);
    if (!filterInstance) throw new Error(`HostLink ${i.name}: wirefilter exited at once`);
    return { switchPid, switchInstance, filterPid, filterInstance };
  } catch (e) {
    await host.stopGroup(switchPid);
    throw e;
  }
}

async function stopFilter(o: HostLinkOutputs): Promise<void> {
  await host.stopRun(o.filterPid, o.filterInstance);
  await host.stopRun(o.switchPid, o.switchInstance);
  const p = hostLinkPaths(o.labDir, o.name);
  for (const f of [p.control, p.switchPid, p.switchLog, p.filterPid, p.mgmt, p.filterLog])
    fs.rmSync(f, { recursive: true, force: true });
}

/** Probe the peer, start the filter and the cable; nothing left running when it fails. */
async function createLink(i: HostLinkInputs): Promise<HostLinkOutputs> {
  const { marker, log } = hostLinkPaths(i.labDir, i.name);
  const peer = i.peer as Host;
  await reap.reapPrevious("vde_plug", [marker], `host link ${i.name}`);
  if (!fs.existsSync(`${i.a}/ctl`))
    throw new Error(
      `HostLink ${i.name}: switch A's control ${i.a} is not here (a switch with engine "vde"?)`,
    );
  // The peer answers and switch B is there, or nothing is started.
  const probe = await host.run("ssh", sshCommandArgv(peer, ["test", "-S", `${i.b}/ctl`]), {
    allowFailure: true,
    timeoutMs: 60_000,
  });
  if (probe.code !== 0)
    throw new Error(
      probe.code === 255
        ? `HostLink ${i.name}: ${hostLabel(peer)} cannot be reached over SSH from this host: ${host.lastLines(probe.stderr, 4)}\n` +
            "Fix: give `peer` an address, key and known_hosts that work from switch A's host"
        : `HostLink ${i.name}: switch B's control ${i.b} is not on ${hostLabel(peer)} (a switch with engine "vde" there?)`,
    );
  fs.rmSync(log, { force: true });
  const filter = await startFilter(i);
  const { cmd, args } = hostLinkCommand(i);
  const pid = host.spawnDetached(cmd, args, {
    logFile: log,
    env: { ...process.env, POSIXLY_CORRECT: "1" },
  });
  // ssh needs a moment to log in; a link that dies at once says why.
  await host.sleep(1500);
  if (!host.processAlive(pid)) {
    await stopFilter({ ...i, ...filter, pid, instance: "", logPath: log });
    throw new Error(`HostLink ${i.name}: the link ended at once\n${host.fileTail(log)}`);
  }
  const instance = host.processInstance(pid) as string;
  if (i.suspended) host.signalGroup(pid, "SIGSTOP");
  return { ...i, pid, instance, logPath: log, ...filter };
}

export const hostLinkProvider = defineProvider<HostLinkInputs, HostLinkOutputs>({
  schema: hostLinkSchema,
  policy: hostLinkPolicy,

  async create(i) {
    return { id: `${i.name}@${i.labDir}`, outs: await createLink(i) };
  },

  async update(o, n) {
    // A link made before HostLinks had a filter: made again with one (a new ssh login).
    if (!o.filterInstance) {
      await stopLink(o);
      return createLink(n);
    }
    if (host.sameRun(o.pid, o.instance)) host.signalGroup(o.pid, n.suspended ? "SIGSTOP" : "SIGCONT");
    if (o.lossPercent !== n.lossPercent || o.delayMs !== n.delayMs || o.rateKbit !== n.rateKbit)
      await wirefilterCommands(hostLinkPaths(o.labDir, o.name).mgmt, filterCommands(n));
    return {
      ...o,
      suspended: n.suspended,
      lossPercent: n.lossPercent,
      delayMs: n.delayMs,
      rateKbit: n.rateKbit,
    };
  },

  async delete(o) {
    await stopLink(o);
    await stopFilter(o);
    fs.rmSync(hostLinkPaths(o.labDir, o.name).log, { force: true });
  },
});
