// The pcap writer behind a Capture in "plug" mode, a standalone program:
//   node pcap-writer.js <vde control directory> <pcap file>
// It plugs into the switch with `vde_plug`, whose stdout carries each frame as a 2-byte
// big-endian length and the frame, and writes each frame as a pcap record as it comes
// (packet-buffered, so the file is readable while the capture runs).
//
// It starts vde_plug itself, through the host layer (host/pipe.ts), because it must own
// vde_plug's stdout for as long as the capture runs: the provider process that started the
// writer (detached, host.spawnDetached) exits at the end of `pulumi up`.
import * as fs from "fs";
import { spawnReader } from "../host/pipe";

/** The pcap file header: microsecond timestamps, version 2.4, snaplen 65535, Ethernet. */
export function pcapHeader(): Buffer {
  const h = Buffer.alloc(24);
  h.writeUInt32LE(0xa1b2c3d4, 0);
  h.writeUInt16LE(2, 4);
  h.writeUInt16LE(4, 6);
  // bytes 8..15: thiszone and sigfigs, both 0
  h.writeUInt32LE(65535, 16);
  h.writeUInt32LE(1, 20); // LINKTYPE_ETHERNET
  return h;
}

/** One pcap record: the 16-byte record header (time, captured and original length) and the frame. */
export function pcapRecord(frame: Buffer, timeMs: number): Buffer {
  const ph = Buffer.alloc(16);
  ph.writeUInt32LE(Math.floor(timeMs / 1000), 0);
  ph.writeUInt32LE((timeMs % 1000) * 1000, 4);
  ph.writeUInt32LE(frame.length, 8);
  ph.writeUInt32LE(frame.length, 12);
  return Buffer.concat([ph, frame]);
}

/** The whole frames at the start of vde_plug's stream (length-prefixed), and the bytes left over. */
export function splitFrames(buf: Buffer): { frames: Buffer[]; rest: Buffer } {
  const frames: Buffer[] = [];
  let at = 0;
  while (buf.length - at >= 2) {
    const n = buf.readUInt16BE(at);
    if (buf.length - at < 2 + n) break;
    frames.push(buf.subarray(at + 2, at + 2 + n));
    at += 2 + n;
  }
  return { frames, rest: buf.subarray(at) };
}

function main([ctl, file]: string[]): void {
  const out = fs.openSync(file, "w", 0o600);
  fs.writeSync(out, pcapHeader());
  let pending: Buffer = Buffer.alloc(0);
  const plug = spawnReader(
    "vde_plug",
    [ctl],
    (chunk) => {
      const { frames, rest } = splitFrames(Buffer.concat([pending, chunk]));
      for (const f of frames) fs.writeSync(out, pcapRecord(f, Date.now()));
      pending = rest;
    },
    (code) => process.exit(code === null ? 1 : code),
  );
  for (const s of ["SIGTERM", "SIGINT", "SIGHUP"] as const)
    process.on(s, () => {
      plug.stop();
      process.exit(0);
    });
}

if (require.main === module) main(process.argv.slice(2));
