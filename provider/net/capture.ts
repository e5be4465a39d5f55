// Packet capture of a lab switch into a pcap file that `tcpdump -r` reads. Two ways:
//
// - "plug" (no tap, no privilege; vde switches): the pcap writer (pcap-writer.ts, its own
//   process) plugs into the switch with `vde_plug` and writes the frames as pcap. It sees
//   what the switch sends to a new port: every frame on a hub, only flooded frames
//   (broadcast, unknown unicast) on a switch.
// - "tap" (the seed's way): `tcpdump -i <tap> -w <file>` inside the lab's namespace, on a
//   Tap of the switch. Needs root or CAP_NET_ADMIN, like the Tap.
//
// uml_switch offers neither: vde_plug cannot attach to it and it takes a tap only at start.
import * as fs from "fs";
import * as path from "path";
import type * as pulumi from "@pulumi/pulumi";
import * as host from "../host/process";
import * as reap from "../host/reap";
import * as netns from "../host/netns";
import * as naming from "../core/naming";
import { captureSchema, capturePolicy, CaptureInputs, CheckFailure } from "../core/schemas";
import { planFromPolicy, diffResult } from "../core/diff";
import { defineProvider, checkInputs } from "../core/define";

export interface CaptureOutputs extends CaptureInputs {
  /** The pcap file being written (`tcpdump -r <path>`). */
  path: string;
  pid: number;
  instance: string;
  logPath: string;
}

/**
 * Where the compiled writer may be, fixed when this module loads in the program (so the
 * serialized provider carries these strings): beside this module when the SDK runs compiled
 * (dist/provider/net), in dist/ when a program imports the TypeScript source (the examples
 * and tests do). Not `__dirname` inside a handler: Pulumi leaves that name to the provider
 * process, where the revived provider module has none (it is ".").
 */
const PCAP_WRITER_PLACES = [
  path.join(__dirname, "pcap-writer.js"),
  path.join(__dirname, "../../dist/provider/net/pcap-writer.js"),
];

/** The compiled pcap writer, looked up in the provider process when a capture starts. */
export function pcapWriterPath(): string {
  const found = PCAP_WRITER_PLACES.find((p) => fs.existsSync(p));
  if (!found)
    throw new Error(
      `umlab: the pcap writer is not built (looked for ${PCAP_WRITER_PLACES.join(", ")}): run \`npm run build\``,
    );
  return found;
}

/** The argv of a capture process (`writer`: the compiled pcap writer, for "plug"). */
export function captureCommand(
  c: CaptureInputs,
  file: string,
  writer?: string,
): { cmd: string; args: string[] } {
  if (c.mode === "plug")
    return { cmd: process.execPath, args: [writer ?? pcapWriterPath(), c.control as string, file] };
  // -U: packet-buffered; -Z root: keep root so it can write into the 0700 lab directory.
  return netns.inNamespace(c.namespace as string, "tcpdump", [
    "-i",
    c.device as string,
    "-U",
    "-Z",
    "root",
    "-w",
    file,
  ]);
}

/** Any change starts a new capture (core/schemas/capture.ts capturePolicy). */
export function planCapture(olds: CaptureInputs, news: CaptureInputs): pulumi.dynamic.DiffResult {
  return diffResult(planFromPolicy(capturePolicy, olds, news));
}

/** What zod cannot see: which source each mode needs. */
function captureFailures(v: CaptureInputs): CheckFailure[] {
  const failures: CheckFailure[] = [];
  if (v.mode === "plug" && v.engine === "uml_switch")
    failures.push({
      property: "switch",
      reason:
        'capturing without a tap needs a switch with engine "vde" (vde_plug cannot attach to uml_switch); use engine "vde", or capture on a Tap',
    });
  if (v.mode === "plug" && !v.control)
    failures.push({ property: "switch", reason: "give a switch or a tap" });
  if (v.mode === "tap" && !v.device) failures.push({ property: "tap", reason: "give a switch or a tap" });
  return failures;
}

export function checkCapture(news: any): { inputs: any; failures?: CheckFailure[] } {
  return checkInputs(captureSchema(), news, captureFailures);
}

export const captureProvider = defineProvider<CaptureInputs, CaptureOutputs>({
  schema: captureSchema,
  policy: capturePolicy,
  checkMore: captureFailures,

  async create(c) {
    const p = naming.capturePaths(c.labDir, c.name, c.file);
    fs.mkdirSync(path.dirname(p.log), { recursive: true, mode: 0o700 });
    fs.mkdirSync(path.dirname(p.file), { recursive: true, mode: 0o700 });
    const { cmd, args } = captureCommand(c, p.file);
    // A writer of this file still running (an interrupted run): stop it before the new one.
    // (a process naming the file after -w, or beside this switch's control: never a reader of it).
    const writes = (argv: string[]) =>
      argv.includes(p.file) && (argv[argv.indexOf(p.file) - 1] === "-w" || argv.includes(String(c.control)));
    await reap.reapMatching((q) => writes(q.argv), `capture ${c.name}`);
    fs.rmSync(p.file, { force: true });
    const pid = host.spawnDetached(cmd, args, { logFile: p.log });
    // The file appears when the writer (or tcpdump) has opened its source and its output.
    const ok = await host.waitFor(() => fs.existsSync(p.file) || !host.processAlive(pid), 10_000, 100);
    if (!ok || !host.processAlive(pid)) {
      await host.stopGroup(pid);
      throw new Error(`Capture ${c.name} did not start writing ${p.file}\n${host.fileTail(p.log)}`);
    }
    const outs: CaptureOutputs = {
      ...c,
      path: p.file,
      pid,
      instance: host.processInstance(pid) as string,
      logPath: p.log,
    };
    return { id: `${c.name}@${c.labDir}`, outs };
  },

  async delete(o) {
    if (host.sameRun(o.pid, o.instance)) await host.stopGroup(o.pid);
    else if (o.pid && !host.processAlive(o.pid)) host.signalGroup(o.pid, "SIGKILL");
    fs.rmSync(o.logPath, { force: true });
    // A file the author named is theirs to keep; the default one goes with the lab.
    if (!o.file) fs.rmSync(o.path, { force: true });
  },
});
