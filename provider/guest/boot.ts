// What a guest looks like to linux.uml and to its init: the kernel command line, the NIC
// transports and the contract's `config` file (pure), plus thin wrappers over uml_mconsole
// and the console FIFO (through hosttools).
import * as fs from "fs";
import * as crypto from "crypto";
import * as host from "../host/process";
import * as naming from "../core/naming";
import { GuestInputs, NicInputs } from "../core/schemas";

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

/** The FIFOs behind the cable ends, in fd order from CABLE_FD_BASE: `<end>.in`, `<end>.out` each. */
export function cableFifos(serial: string[]): string[] {
  return serial
    .filter((s) => s.startsWith("cable:"))
    .flatMap((s) => [`${s.slice("cable:".length)}.in`, `${s.slice("cable:".length)}.out`]);
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
    "init=/sbin/umlab-init",
    `umlab.dir=${p.dir}`,
    ...g.kernelArgs,
  ];
}

/** The `config` file of docs/guest-contract.md. Values were validated: no spaces anywhere. */
export function contractConfig(g: GuestInputs): string {
  const lines: string[] = [`hostname ${g.hostname ?? g.name}`];
  for (const m of g.modules) lines.push(`module ${m}`);
  if (g.watchdog) lines.push(`watchdog ${g.watchdog.kind} ${g.watchdog.timeoutSeconds}`);
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

/** Shell lines that (re)apply the addresses of NIC `index` in a running guest. */
export function nicAddressCommands(index: number, nic: NicInputs, flush: boolean): string[] {
  const dev = `eth${index}`;
  const out = flush ? [`ip addr flush dev ${dev}`] : [];
  for (const a of nic.addresses) out.push(`ip addr add ${a} dev ${dev}`);
  if (nic.linkDown) out.push(`ip link set ${dev} down`);
  else if (nic.addresses.length > 0) out.push(`ip link set ${dev} up`);
  return out;
}

/** The shell line that applies a NIC's link state (`linkDown`) in a running guest. */
export function nicLinkCommand(index: number, nic: Pick<NicInputs, "linkDown">): string {
  return `ip link set eth${index} ${nic.linkDown ? "down" : "up"}`;
}

/** A NIC's netem settings with zeros for unset values, or undefined when there is nothing to apply. */
export function netemSettings(
  nic: Pick<NicInputs, "netem">,
): { loss: number; delay: number; jitter: number; rate: number } | undefined {
  const n = nic.netem;
  if (!n) return undefined;
  const s = {
    loss: n.lossPercent ?? 0,
    delay: n.delayMs ?? 0,
    jitter: n.jitterMs ?? 0,
    rate: n.rateKbit ?? 0,
  };
  return s.loss || s.delay || s.jitter || s.rate ? s : undefined;
}

/** The words after `netem` of `tc qdisc replace dev ethN root netem ...`; "" for no netem. */
export function netemArgs(nic: Pick<NicInputs, "netem">): string {
  const s = netemSettings(nic);
  if (!s) return "";
  const out: string[] = [];
  if (s.loss) out.push(`loss ${s.loss}%`);
  if (s.delay || s.jitter) out.push(`delay ${s.delay}ms${s.jitter ? ` ${s.jitter}ms` : ""}`);
  if (s.rate) out.push(`rate ${s.rate}kbit`);
  return out.join(" ");
}

/** What a guest without iproute2's tc says when asked for netem. */
export const NETEM_NEEDS_IPROUTE2 =
  "netem needs iproute2's tc in the guest image (Image preset debian); on a busybox image use an Impairment on a vde switch";

/**
 * The script (run through the exec agent) that makes NIC `index`'s root qdisc match its netem
 * settings: replace it with netem, or delete it ("no such qdisc" is fine). Exit 3 with
 * NETEM_NEEDS_IPROUTE2 on stderr when the guest's tc is not iproute2's (busybox has no netem).
 */
export function nicNetemScript(index: number, nic: Pick<NicInputs, "netem">): string {
  const dev = `eth${index}`;
  const args = netemArgs(nic);
  if (!args)
    return [
      `out=$(tc qdisc del dev ${dev} root 2>&1) && exit 0`,
      'case "$out" in',
      '*"No such"* | *"handle of zero"* | *"Invalid handle"* | *"No qdisc"* | *"not found"*) exit 0 ;;',
      "esac",
      'echo "$out" >&2',
      "exit 1",
    ].join("\n");
  return [
    `tc -V 2>&1 | grep -q iproute2 || { echo "${NETEM_NEEDS_IPROUTE2}" >&2; exit 3; }`,
    "modprobe sch_netem >/dev/null 2>&1",
    `tc qdisc replace dev ${dev} root netem ${args}`,
  ].join("\n");
}

export interface MconsoleReply {
  ok: boolean;
  text: string;
}

/** One uml_mconsole command against a socket path. Never throws for an ERR reply. */
export async function mconsole(socket: string, words: string[], timeoutMs = 15_000): Promise<MconsoleReply> {
  const r = await host.run("uml_mconsole", [socket, ...words], { allowFailure: true, timeoutMs });
  const out = r.stdout.trim();
  return {
    ok: r.code === 0 && out.startsWith("OK"),
    text: out.replace(/^(OK|ERR)\s*/, "") || r.stderr.trim(),
  };
}

/**
 * Run shell lines on the guest's console (the contract's console shell reads con0, which
 * is our FIFO) and wait until they finished: the last line touches a marker in the
 * guest folder through hostfs. Output lands in the console log.
 */
export async function consoleExec(
  labDir: string,
  guest: string,
  lines: string[],
  timeoutMs = 20_000,
): Promise<void> {
  const p = naming.guestPaths(labDir, guest);
  const nonce = crypto.randomBytes(6).toString("hex");
  const marker = `${p.state}/exec.${nonce}`;
  const script =
    [...lines.map((l) => `${l} 2>&1`), `echo done > /umlab/state/exec.${nonce}`].join("\n") + "\n";
  const fd = fs.openSync(p.consoleIn, fs.constants.O_WRONLY | fs.constants.O_NONBLOCK);
  try {
    fs.writeSync(fd, script);
  } finally {
    fs.closeSync(fd);
  }
  const done = await host.waitFor(() => fs.existsSync(marker), timeoutMs, 100);
  fs.rmSync(marker, { force: true });
  if (!done)
    throw new Error(
      `guest ${guest} did not run console commands within ${timeoutMs} ms (does its init keep a shell on con0?)\n` +
        `--- console log (tail) ---\n${fileTail(p.consoleLog)}`,
    );
}

export function fileTail(file: string, n = 20): string {
  try {
    return host.lastLines(fs.readFileSync(file, "utf8"), n);
  } catch {
    return "(none)";
  }
}
