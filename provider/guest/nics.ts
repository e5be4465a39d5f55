// How a link is made in a running guest: plug and unplug a NIC (mconsole config/remove), and
// re-apply its addresses, link state and netem. The guest applies them itself from the
// contract's config file, through the same init that reads it at boot (`umlab-init apply`,
// docs/guest-contract.md): the host rewrites the file, then asks the init to apply a NIC.
import * as fs from "fs";
import * as crypto from "crypto";
import * as host from "../host/process";
import * as files from "../host/files";
import { mconsole } from "../host/mconsole";
import * as naming from "../core/naming";
import * as exec from "../exec/agent";
import { GuestInputs, NicInputs } from "../core/schemas";
import { nicTransport, writeContractConfig } from "./boot";
import { NicOp, netemSettings } from "./plan";
import type { GuestRun } from "./power";

type GuestAt = Pick<GuestRun, "name"> & { labDir: string };

/** What a guest without iproute2's tc says when asked for netem (image/umlab-init prints it too). */
export const NETEM_NEEDS_IPROUTE2 =
  "netem needs iproute2's tc in the guest image (Image preset debian); on a busybox image use an Impairment on a vde switch";

/** The init's entry points for a running guest; every word is ours (no user data). */
const INIT = "/sbin/umlab-init";
export const initCommand = {
  /** Apply part of NIC `index` from the config: addr (flush, add, up/down), link (up/down), netem. */
  nic: (index: number, part: "addr" | "link" | "netem"): string[] => [
    INIT,
    "apply",
    "nic",
    `eth${index}`,
    part,
  ],
  /** Add the config's routes again (those through a re-plugged or re-addressed NIC vanished). */
  routes: (): string[] => [INIT, "apply", "routes"],
  /** Take NIC `index` down so UML lets it be removed. */
  release: (index: number): string[] => [INIT, "release", `eth${index}`],
};

/**
 * Run init commands in a running guest and wait for them: through the exec agent, or the
 * console shell for a guest booted from an image without the agent. Failures of single
 * commands are tolerated (re-adding an existing route is harmless), as on the console.
 */
async function guestShell(o: GuestAt, commands: string[][]): Promise<void> {
  const p = naming.guestPaths(o.labDir, o.name);
  const lines = commands.map((c) => c.join(" "));
  if (fs.existsSync(`${p.state}/agent`)) {
    const r = await exec.execInGuest(o.labDir, o.name, lines.join("\n"), { timeoutMs: 20_000 });
    if (r.stdout || r.stderr) files.appendGuestFile(`${p.state}/changes.log`, r.stdout + r.stderr);
  } else await consoleExec(o.labDir, o.name, lines);
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
        `--- console log (tail) ---\n${host.fileTail(p.consoleLog, 20)}`,
    );
}

async function unplugNic(o: GuestAt & Pick<GuestRun, "mconsole">, index: number): Promise<void> {
  let r = await mconsole.remove(o.mconsole, `eth${index}`);
  if (!r.ok && /open/i.test(r.text)) {
    // UML refuses to remove an interface that is up: take it down first.
    await guestShell(o, [initCommand.release(index)]);
    r = await mconsole.remove(o.mconsole, `eth${index}`);
  }
  if (!r.ok && !/not found|no such/i.test(r.text))
    throw new Error(`guest ${o.name}: remove eth${index} failed: ${r.text}`);
}

async function plugNic(o: Pick<GuestRun, "name" | "mconsole">, index: number, nic: NicInputs): Promise<void> {
  const r = await mconsole.config(o.mconsole, `eth${index}`, nicTransport(nic));
  if (!r.ok) throw new Error(`guest ${o.name}: config eth${index} failed: ${r.text}`);
}

/**
 * Make NIC `index`'s qdisc match the netem line of the config (replace it, or delete it),
 * through the exec agent; throws with the reason (the init says it; NETEM_NEEDS_IPROUTE2,
 * exit 3, when the guest's tc is not iproute2's).
 */
export async function setNetem(o: GuestAt, index: number): Promise<void> {
  const r = await exec.execInGuest(o.labDir, o.name, initCommand.nic(index, "netem"), { timeoutMs: 20_000 });
  if (r.exitCode === 0) return;
  if (r.exitCode === 3 && r.stderr.includes(NETEM_NEEDS_IPROUTE2))
    throw new Error(`guest ${o.name}: eth${index}: ${NETEM_NEEDS_IPROUTE2}`);
  throw new Error(`guest ${o.name}: eth${index}: ${(r.stderr + r.stdout).trim()}`);
}

/**
 * Apply NIC operations (guest/plan.ts planNics) to a running guest; throws with the reason.
 * The config file is the new one while the guest applies it, and the old one again when the
 * change fails (the guest keeps booting as recorded).
 */
export async function applyNicOps(
  o: GuestAt & Pick<GuestRun, "mconsole">,
  news: GuestInputs,
  ops: NicOp[],
): Promise<void> {
  const nics = news.nics as NicInputs[];
  const config = naming.guestPaths(o.labDir, o.name).config;
  const before = files.readGuestFileSync(config, { maxBytes: 1024 * 1024 })?.text;
  writeContractConfig(news);
  try {
    const commands: string[][] = [];
    for (const op of ops) {
      if (op.kind === "detach" || op.kind === "replug") await unplugNic(o, op.index);
      if (op.kind === "attach" || op.kind === "replug") {
        await plugNic(o, op.index, nics[op.index]);
        commands.push(initCommand.nic(op.index, "addr"));
      }
      if (op.kind === "readdress") commands.push(initCommand.nic(op.index, "addr"));
      if (op.kind === "link") commands.push(initCommand.nic(op.index, "link"));
    }
    if (commands.length > 0) {
      // Routes through a re-plugged NIC vanished with it; re-adding existing ones is harmless.
      commands.push(initCommand.routes());
      await guestShell(o, commands);
    }
    for (const op of ops) {
      // A new interface has no qdisc: a re-plugged NIC with netem gets it again.
      const replugged = op.kind === "attach" || op.kind === "replug";
      if (op.kind === "netem" || (replugged && netemSettings(nics[op.index]))) await setNetem(o, op.index);
    }
  } catch (e) {
    if (before !== undefined) host.writeFileAtomic(config, before, 0o644);
    throw e;
  }
}
