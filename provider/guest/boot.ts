// How a guest boots: the kernel command line (NIC transports, serial lines, the contract's
// init), the contract folder the init reads (docs/guest-contract.md), and starting linux.uml
// detached until the init reports `state/ready`.
import * as fs from "fs";
import * as path from "path";
import * as host from "../host/process";
import { confinedCommand, systemBinds, type Bind } from "../host/confine";
import { readGuestTextSync } from "../host/files";
import * as naming from "../core/naming";
import { GuestInputs, NicInputs } from "../core/schemas";
import { netemSettings } from "./plan";
import { mayAccess, type GuestIdentity } from "../core/guest-user";
import { guestIdentityOf, giveToGuest } from "../lab/guest-user";
import { hotplugDir, prepareHotplugDir } from "./hotplug";
import { openCableEnds } from "./cable-ends";

export { cableFifos, openCableEnds } from "./cable-ends";

/** The UML `ethN=` transport for a NIC. */
export function nicTransport(nic: Pick<NicInputs, "engine" | "control" | "mac">): string {
  return nic.engine === "vde" ? `vde,${nic.control},${nic.mac}` : `daemon,${nic.mac},unix,${nic.control}`;
}

/** The first fd of SerialCable ends in the UML process (fd 3 is the exec agent's line). */
export const CABLE_FD_BASE = 4;

/** `sslN=` of each serial entry: a SerialCable end (`cable:<path>`) reads and writes inherited fds. */
export function serialTransports(serial: string[]): string[] {
  let j = 0;
  return serial.map((s) => {
    if (!s.startsWith("cable:")) return s;
    const fd = CABLE_FD_BASE + 2 * j++;
    return `fd:${fd},fd:${fd + 1}`;
  });
}

/**
 * The guest's ttys that are SerialCable ends (`sslN` is `/dev/ttySN`). The init drains them
 * at every boot (docs/guest-contract.md `cable`): an in-guest reboot keeps the UML process and
 * its cable fds, so what the peer sent meanwhile still waits there.
 */
export function cableTtys(serial: string[]): string[] {
  return serial.flatMap((s, k) => (s.startsWith("cable:") ? [`ttyS${k}`] : []));
}

/** The kernel command line of a guest (argv after linux.uml). */
export function guestArgs(g: GuestInputs, labDir: string): string[] {
  const p = naming.guestPaths(labDir, g.name);
  const nics = Array.isArray(g.nics) ? g.nics : [];
  return [
    `mem=${g.memory}`,
    ...g.disks.map((d, k) => `ubd${k}=${d.backing ? `${d.path},${d.backing}` : d.path}`),
    "root=/dev/ubda",
    "rw",
    `uml_dir=${naming.labPaths(labDir).umlDir}`,
    `umid=${g.name}`,
    // con0 reads a FIFO (the console shell) and writes to the log; no xterms anywhere.
    "con=null",
    "con0=fd:0,fd:1",
    // con7 (/dev/tty7) reads the exec agent's FIFO, which the UML process holds as fd 3.
    "con7=fd:3,null",
    "ssl=null",
    ...serialTransports(g.serial).map((s, k) => `ssl${k}=${s}`),
    ...nics.map((n, k) => `eth${k}=${nicTransport(n)}`),
    // hostfs confined to the guest folder; the init mounts it with `-o /` (relative to it).
    // `..` in a mount option still climbs on the host: guestView() is what stops it.
    `hostfs=${p.dir}`,
    "init=/sbin/umlab-init",
    "umlab.dir=/",
    ...g.kernelArgs,
  ];
}

/** The empty host directory the guest's confined view (its tmpfs root) is mounted on. */
export function viewRoot(labDir: string, name: string): string {
  return `${naming.labPaths(labDir).umlDir}/.${name}.root`;
}

/**
 * What a guest's UML process sees of the host (provider/host/confine.ts): the system files
 * that run linux.uml, its own guest folder, umid dir and disks, the lab's switch, tap and
 * impairment sockets, its serial devices; not the host's /etc, /tmp or home, no other lab,
 * no other guest's folder or disk. `umidSiblings` (other guests' umid dirs now present) are
 * hidden: UML must create its own umid dir, so the whole uml/ dir is bound.
 */
export function guestView(g: GuestInputs, umidSiblings: string[]): Bind[] {
  const lab = naming.labPaths(g.labDir);
  const p = naming.guestPaths(g.labDir, g.name);
  const binds: Bind[] = [
    ...systemBinds(),
    { kind: "rofile", path: g.kernel },
    { kind: "tmp", path: "/tmp" },
    { kind: "tmp", path: "/dev/shm" },
    ...["/dev/null", "/dev/zero", "/dev/random", "/dev/urandom"].map((d) => ({
      kind: "file" as const,
      path: d,
    })),
  ];
  if (g.serial.some((s) => s === "pts" || s === "pty"))
    binds.push({ kind: "dir", path: "/dev/pts" }, { kind: "file", path: "/dev/ptmx" });
  for (const s of g.serial) if (s.startsWith("tty:")) binds.push({ kind: "file", path: s.slice(4) });
  for (const d of [lab.switchesDir, lab.tapsDir, lab.impairmentsDir]) binds.push({ kind: "dir", path: d });
  binds.push({ kind: "dir", path: lab.umlDir });
  for (const s of umidSiblings) if (s !== g.name) binds.push({ kind: "hide", path: `${lab.umlDir}/${s}` });
  binds.push({ kind: "dir", path: p.dir });
  // Disks plugged later (guest/hotplug.ts) are links in here: the view is fixed at boot.
  binds.push({ kind: "dir", path: hotplugDir(g.labDir, g.name) });
  for (const d of g.disks) {
    if (d.backing) binds.push({ kind: "rofile", path: d.backing });
    binds.push({ kind: "file", path: d.path });
  }
  return binds;
}

/**
 * The `config` file of docs/guest-contract.md: the one written form of a guest's settings,
 * read by the init at boot and by `umlab-init apply` for hot NIC changes (guest/nics.ts).
 * Values were validated: no spaces anywhere.
 */
export function contractConfig(g: GuestInputs): string {
  const lines: string[] = [`hostname ${g.hostname ?? g.name}`];
  for (const m of g.modules) lines.push(`module ${m}`);
  if (g.watchdog) lines.push(`watchdog ${g.watchdog.kind} ${g.watchdog.timeoutSeconds}`);
  for (const t of cableTtys(g.serial)) lines.push(`cable ${t}`);
  const nics = Array.isArray(g.nics) ? g.nics : [];
  nics.forEach((n, k) => {
    for (const a of n.addresses) lines.push(`addr eth${k} ${a}`);
    if (n.linkDown) lines.push(`down eth${k}`);
    const ne = netemSettings(n);
    if (ne) lines.push(`netem eth${k} loss ${ne.loss} delay ${ne.delay} jitter ${ne.jitter} rate ${ne.rate}`);
  });
  for (const r of g.routes) lines.push(`route ${r.dest} via ${r.via}`);
  for (const k of Object.keys(g.sysctls).sort()) lines.push(`sysctl ${k} ${g.sysctls[k]}`);
  return lines.join("\n") + "\n";
}

/** Rewrite the contract's config file (atomically: the guest never reads half of it). */
export function writeContractConfig(g: GuestInputs): void {
  host.writeFileAtomic(naming.guestPaths(g.labDir, g.name).config, contractConfig(g), 0o644);
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
  writeContractConfig(g);
  for (const [guestPath, content] of Object.entries(g.files)) {
    const target = path.join(p.files, guestPath);
    // 0755 whatever the umask: `cp -a` gives the guest these modes, and a guest running as a
    // user of its own reads them by their "other" bits.
    const first = fs.mkdirSync(path.dirname(target), { recursive: true, mode: 0o755 });
    for (let d = path.dirname(target); first && d.length >= first.length; d = path.dirname(d))
      fs.chmodSync(d, 0o755);
    host.writeFileAtomic(target, content, 0o644);
  }
  if (g.startup !== undefined) host.writeFileAtomic(p.startup, g.startup, 0o755);
}

/** Is `p` inside the lab dir (made by umlab, so umlab may hand it to the guest's user)? */
function inLab(p: string, labDir: string): boolean {
  return p.startsWith(`${labDir}/`);
}

/**
 * When guests run as a user of their own (core/guest-user.ts): hand them what their UML process
 * writes (their folder's state and exec dirs, their COW files, the lab's umid dir), let them
 * through the socket dirs (traverse only), and refuse, naming the file and the fix, a kernel,
 * backing file or outside disk that user cannot use. Undefined: the guest runs as the caller.
 */
export function handToGuest(g: GuestInputs): GuestIdentity | undefined {
  const id = guestIdentityOf(g.labDir);
  if (!id) return undefined;
  const p = naming.guestPaths(g.labDir, g.name);
  const lab = naming.labPaths(g.labDir);
  const who = `the guests' user (uid ${id.uid}, gid ${id.gid}; UMLAB_GUEST_USER, README "Security model")`;
  const need = (file: string, want: "r" | "rw" | "rx", what: string) => {
    const st = fs.statSync(file, { throwIfNoEntry: false });
    if (st && !mayAccess(st, id, want))
      throw new Error(
        `guest ${g.name}: ${what} ${file} is not ${want === "rx" ? "executable" : want === "r" ? "readable" : "writable"} by ${who}: ` +
          "make it so (chmod/chown), or use a CowDisk in the lab for a disk",
      );
  };
  need(g.kernel, "rx", "the kernel");
  for (const d of g.disks) {
    if (d.backing) need(d.backing, "r", "the backing file");
    if (!inLab(d.path, g.labDir)) need(d.path, "rw", "the disk");
  }
  for (const s of g.serial) if (s.startsWith("tty:")) need(s.slice(4), "rw", "the serial device");
  for (const d of [lab.switchesDir, lab.impairmentsDir]) fs.chmodSync(d, 0o711);
  giveToGuest(g.labDir, [
    p.dir,
    p.state,
    p.execDir,
    lab.umlDir,
    ...g.disks.map((d) => d.path).filter((d) => inLab(d, g.labDir)),
  ]);
  return id;
}

/**
 * Boot a guest: a fresh contract folder, the console and agent FIFOs, linux.uml detached in
 * its own session; wait until the init wrote `state/ready` and UML its mconsole socket.
 * On failure the process group is stopped and the error shows the console and init logs.
 */
export async function bootGuest(g: GuestInputs): Promise<{ pid: number; instance: string }> {
  const p = naming.guestPaths(g.labDir, g.name);
  // Leftovers of an earlier run of this guest (killed, or a failed create).
  fs.rmSync(p.umidDir, { recursive: true, force: true });
  writeGuestFolder(g);
  const lab = naming.labPaths(g.labDir);
  for (const d of [lab.switchesDir, lab.tapsDir, lab.impairmentsDir, viewRoot(g.labDir, g.name)])
    fs.mkdirSync(d, { recursive: true, mode: 0o700 });
  prepareHotplugDir(g.labDir, g.name, g.disks as { path: string }[]);
  const runAs = handToGuest(g);
  const siblings = fs
    .readdirSync(lab.umlDir, { withFileTypes: true })
    .filter((e) => e.isDirectory())
    .map((e) => e.name);
  const confined = confinedCommand(
    viewRoot(g.labDir, g.name),
    guestView(g, siblings),
    g.kernel,
    guestArgs(g, g.labDir),
    undefined,
    runAs,
  );
  await host.run("mkfifo", ["-m", "0600", p.consoleIn, p.agentIn]);
  const cableFds = openCableEnds(g);
  // Read-write so the FIFOs never report EOF to the guest when no writer is attached.
  const consoleFd = fs.openSync(p.consoleIn, fs.constants.O_RDWR);
  const agentFd = fs.openSync(p.agentIn, fs.constants.O_RDWR);
  let pid: number;
  try {
    pid = host.spawnDetached(confined.cmd, confined.args, {
      logFile: p.consoleLog,
      // UML makes its memory file in $TMPDIR: the user's may be outside the view (the guest
      // would die at boot); the view's /tmp is a tmpfs of its own.
      env: { ...process.env, TMPDIR: "/tmp" },
      stdinFd: consoleFd,
      // fd 3: the exec agent's line (con7); see provider/exec/agent.ts.
      extraFds: [agentFd, ...cableFds], // cable ends from fd 4 (CABLE_FD_BASE)
    });
  } finally {
    fs.closeSync(consoleFd);
    fs.closeSync(agentFd);
    for (const fd of cableFds) fs.closeSync(fd);
  }
  try {
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
      const panic = panicExcerpt(readGuestTextSync(p.consoleLog, 1024 * 1024));
      throw new Error(
        `guest ${g.name} ${why} (no ${p.ready})\n` +
          (panic ? `--- the kernel's first error (console log) ---\n${panic}\n` : "") +
          `--- console log ${p.consoleLog} (tail) ---\n${host.fileTail(p.consoleLog, 20)}\n` +
          `--- ${p.initLog} (tail) ---\n${host.fileTail(p.initLog, 20)}`,
      );
    }
    if (!(await host.waitFor(() => fs.existsSync(p.mconsole), 5000)))
      throw new Error(`guest ${g.name} is ready but UML made no ${p.mconsole}`);
    return { pid, instance };
  } catch (e) {
    await host.stopGroup(pid); // nothing records this process once boot fails
    throw e;
  }
}

/**
 * The lines around the first sign of a failed boot in a console log (a panic's cause comes
 * before its stack, which is all a tail shows): from a few lines before the first "Kernel
 * panic", "VFS:", ubd or "Failed to" line to a few after it. "" when there is none.
 */
export function panicExcerpt(log: string, before = 8, after = 4): string {
  const lines = log.split("\n");
  const k = lines.findIndex((l) => /Kernel panic|VFS: |ubd[a-z0-9]*: |Failed to |Backing file/.test(l));
  return k < 0 ? "" : lines.slice(Math.max(0, k - before), k + after + 1).join("\n");
}
