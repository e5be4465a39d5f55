// A link between hosts: a VDE cable over SSH. On the host of switch A (the link's own host:
// its lab's), `vde_plug <A> = ssh <peer> vde_plug <B>` plugs into A and runs ssh, whose
// stdin/stdout carry the frames to a vde_plug in switch B on the peer. Both switches are
// engine "vde". One process group here (vde_plug + ssh): suspending it (SIGSTOP) silences
// the link like a suspended switch; stopping it ends ssh, and B's vde_plug exits at EOF.
// The ssh argv is fixed words (host/remote-argv.ts sshCommandArgv): no shell with user data.
import * as fs from "fs";
import { z } from "zod";
import * as host from "../host/process";
import * as reap from "../host/reap";
import * as naming from "../core/naming";
import { fields } from "../core/schemas/fields";
import { replace, inPlace, type ChangePolicy } from "../core/policy";
import { defineProvider } from "../core/define";
import { hostSchema, sshCommandArgv, hostLabel, type Host } from "../host/remote-argv";

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
};

export interface HostLinkOutputs extends HostLinkInputs {
  pid: number;
  instance: string;
  logPath: string;
}

/** The marker (vde_plug's description) naming this link's process, and its log (pure). */
export function hostLinkPaths(labDir: string, name: string): { marker: string; log: string } {
  const dir = naming.labPaths(labDir).switchesDir;
  return { marker: `${dir}/${name}.hostlink`, log: `${dir}/${name}.hostlink.log` };
}

/** The argv (pure): options first, and POSIXLY_CORRECT so vde_plug leaves ssh's options alone. */
export function hostLinkCommand(i: HostLinkInputs): { cmd: string; args: string[] } {
  const { marker } = hostLinkPaths(i.labDir, i.name);
  return {
    cmd: "vde_plug",
    args: ["-D", marker, i.a, "=", "ssh", ...sshCommandArgv(i.peer as Host, ["vde_plug", i.b])],
  };
}

async function stopLink(o: { pid: number; instance: string }): Promise<void> {
  if (!host.sameRun(o.pid, o.instance)) return;
  host.signalGroup(o.pid, "SIGCONT");
  await host.stopGroup(o.pid);
}

export const hostLinkProvider = defineProvider<HostLinkInputs, HostLinkOutputs>({
  schema: hostLinkSchema,
  policy: hostLinkPolicy,

  async create(i) {
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
    const { cmd, args } = hostLinkCommand(i);
    const pid = host.spawnDetached(cmd, args, {
      logFile: log,
      env: { ...process.env, POSIXLY_CORRECT: "1" },
    });
    // ssh needs a moment to log in; a link that dies at once says why.
    await host.sleep(1500);
    if (!host.processAlive(pid))
      throw new Error(`HostLink ${i.name}: the link ended at once\n${host.fileTail(log)}`);
    const instance = host.processInstance(pid) as string;
    if (i.suspended) host.signalGroup(pid, "SIGSTOP");
    return { id: `${i.name}@${i.labDir}`, outs: { ...i, pid, instance, logPath: log } };
  },

  async update(o, n) {
    if (host.sameRun(o.pid, o.instance)) host.signalGroup(o.pid, n.suspended ? "SIGSTOP" : "SIGCONT");
    return { ...o, suspended: n.suspended };
  },

  async delete(o) {
    await stopLink(o);
    fs.rmSync(hostLinkPaths(o.labDir, o.name).log, { force: true });
  },
});
