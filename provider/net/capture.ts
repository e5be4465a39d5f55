// Packet capture of a lab switch into a pcap file that `tcpdump -r` reads. Two ways:
//
// - "plug" (no tap, no privilege; vde switches): a small writer process plugs into the
//   switch with `vde_plug` (whose stdout carries each frame as a 2-byte big-endian length
//   and the frame) and writes the frames as pcap. It sees what the switch sends to a new
//   port: every frame on a hub, only flooded frames (broadcast, unknown unicast) on a switch.
// - "tap" (the seed's way): `tcpdump -i <tap> -w <file>` inside the lab's namespace, on a
//   Tap of the switch. Needs root or CAP_NET_ADMIN, like the Tap.
//
// uml_switch offers neither: vde_plug cannot attach to it and it takes a tap only at start.
import * as fs from "fs";
import * as path from "path";
import type * as pulumi from "@pulumi/pulumi";
import { z } from "zod";
import * as host from "../host/process";
import { schemas, validate, CheckFailure, UNKNOWN } from "../core/schemas";

/** Builds the Capture schema (in a function: zod objects do not serialize into state). */
export function captureSchema() {
  const s = schemas();
  const unk = <T extends z.ZodTypeAny>(t: T) => z.union([z.literal(UNKNOWN), t]);
  return z.object({
    labDir: unk(s.path),
    name: s.name,
    mode: z.enum(["plug", "tap"]),
    /** plug: the switch's engine, control directory and instance. */
    engine: unk(s.engine).optional(),
    control: unk(s.path).optional(),
    switchInstance: z.string().optional(),
    /** tap: the Tap's namespace, device and instance. */
    namespace: z.string().optional(),
    device: z.string().optional(),
    tapInstance: z.string().optional(),
    /** Where the pcap goes; default `<labDir>/cap/<name>.pcap` (removed with the lab). */
    file: unk(s.path).optional(),
  });
}
export type CaptureInputs = z.output<ReturnType<typeof captureSchema>>;

export interface CaptureOutputs extends CaptureInputs {
  /** The pcap file being written (`tcpdump -r <path>`). */
  path: string;
  pid: number;
  instance: string;
  logPath: string;
}

/**
 * The pcap writer behind a `vde_plug` (run with `node -e`). Fixed code, no user data: the
 * control directory and the file arrive as argv. It writes each frame as it comes
 * (packet-buffered, so the file is readable while the capture runs).
 */
export const PCAP_WRITER = `
const fs = require("fs"), cp = require("child_process");
const [ctl, file] = process.argv.slice(1);
const out = fs.openSync(file, "w", 0o600);
const h = Buffer.alloc(24);
h.writeUInt32LE(0xa1b2c3d4, 0); h.writeUInt16LE(2, 4); h.writeUInt16LE(4, 6);
h.writeUInt32LE(65535, 16); h.writeUInt32LE(1, 20);
fs.writeSync(out, h);
// vde_plug exits when its stdin ends: keep a pipe open that is never written.
const plug = cp.spawn("vde_plug", [ctl], { stdio: ["pipe", "pipe", "inherit"] });
let buf = Buffer.alloc(0);
plug.stdout.on("data", (d) => {
  buf = Buffer.concat([buf, d]);
  while (buf.length >= 2) {
    const n = buf.readUInt16BE(0);
    if (buf.length < 2 + n) break;
    const t = Date.now(), ph = Buffer.alloc(16);
    ph.writeUInt32LE(Math.floor(t / 1000), 0); ph.writeUInt32LE((t % 1000) * 1000, 4);
    ph.writeUInt32LE(n, 8); ph.writeUInt32LE(n, 12);
    fs.writeSync(out, Buffer.concat([ph, buf.subarray(2, 2 + n)]));
    buf = buf.subarray(2 + n);
  }
});
plug.on("exit", (c) => process.exit(c === null ? 1 : c));
for (const s of ["SIGTERM", "SIGINT", "SIGHUP"]) process.on(s, () => { plug.kill("SIGTERM"); process.exit(0); });
`;

export function capturePaths(labDir: string, name: string, file?: string) {
  return { file: file ?? `${labDir}/cap/${name}.pcap`, log: `${labDir}/cap/${name}.log` };
}

/** The argv of a capture process. */
export function captureCommand(c: CaptureInputs, file: string): { cmd: string; args: string[] } {
  if (c.mode === "plug")
    return { cmd: process.execPath, args: ["-e", PCAP_WRITER, c.control as string, file] };
  // -U: packet-buffered; -Z root: keep root so it can write into the 0700 lab directory.
  return {
    cmd: "ip",
    args: [
      "netns",
      "exec",
      c.namespace as string,
      "tcpdump",
      "-i",
      c.device as string,
      "-U",
      "-Z",
      "root",
      "-w",
      file,
    ],
  };
}

/**
 * Every input decides the process: any change starts a new capture (delete first: same file).
 * An unknown switch or tap output (a preview of their update) counts as unchanged, as in planTap.
 */
export function planCapture(olds: CaptureInputs, news: CaptureInputs): pulumi.dynamic.DiffResult {
  const keys = [
    "labDir",
    "name",
    "mode",
    "engine",
    "control",
    "switchInstance",
    "namespace",
    "device",
    "tapInstance",
    "file",
  ] as const;
  const replaces = keys.filter((k) => news[k] !== UNKNOWN && olds[k] !== news[k]);
  return { changes: replaces.length > 0, replaces, deleteBeforeReplace: true };
}

export function checkCapture(news: any): { inputs: any; failures?: CheckFailure[] } {
  const r = validate(captureSchema(), news);
  if (!r.ok) return { inputs: news, failures: r.failures };
  const v = r.value;
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
  return failures.length ? { inputs: news, failures } : { inputs: v };
}

export const captureProvider: pulumi.dynamic.ResourceProvider = {
  async check(_olds: any, news: any) {
    return checkCapture(news);
  },

  async diff(_id: string, olds: any, news: any) {
    return planCapture(olds, news);
  },

  async create(inputs: any) {
    const c = inputs as CaptureInputs;
    const p = capturePaths(c.labDir, c.name, c.file);
    fs.mkdirSync(path.dirname(p.log), { recursive: true, mode: 0o700 });
    fs.mkdirSync(path.dirname(p.file), { recursive: true, mode: 0o700 });
    fs.rmSync(p.file, { force: true });
    const { cmd, args } = captureCommand(c, p.file);
    const pid = host.spawnDetached(cmd, args, { logFile: p.log });
    // The file appears when the writer (or tcpdump) has opened its source and its output.
    const ok = await host.waitFor(() => fs.existsSync(p.file) || !host.processAlive(pid), 10_000, 100);
    if (!ok || !host.processAlive(pid)) {
      await host.stopGroup(pid);
      let tail = "";
      try {
        tail = host.lastLines(fs.readFileSync(p.log, "utf8"), 15);
      } catch {
        /* no log */
      }
      throw new Error(`Capture ${c.name} did not start writing ${p.file}\n${tail}`);
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

  async read(id: string, props: any) {
    const o = props as CaptureOutputs;
    if (!host.sameRun(o.pid, o.instance)) return { id: "", props: {} };
    return { id, props };
  },

  async delete(_id: string, props: any) {
    const o = props as CaptureOutputs;
    if (host.sameRun(o.pid, o.instance)) await host.stopGroup(o.pid);
    else if (o.pid && !host.processAlive(o.pid)) host.signalGroup(o.pid, "SIGKILL");
    fs.rmSync(o.logPath, { force: true });
    // A file the author named is theirs to keep; the default one goes with the lab.
    if (!o.file) fs.rmSync(o.path, { force: true });
  },
};
