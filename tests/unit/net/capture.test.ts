// The Capture's plan, check and argv, and the pcap writer's formatting.
import { planCapture, checkCapture, captureCommand } from "../../../provider/net/capture";
import { pcapHeader, pcapRecord, splitFrames } from "../../../provider/net/pcap-writer";
import { UNKNOWN } from "../../../provider/core/unknown";

describe("capture", () => {
  const cap = {
    labDir: "/l",
    name: "c",
    mode: "plug" as const,
    engine: "vde" as const,
    control: "/l/sw/sw0",
    switchInstance: "1:2",
  };
  test("a capture restarts with its switch", () => {
    expect(planCapture(cap, { ...cap, switchInstance: "3:4" }).replaces).toEqual(["switchInstance"]);
    expect(checkCapture({ ...cap, engine: "uml_switch" }).failures?.[0].reason).toMatch(/vde/);
  });
  test("an unknown switch output (a preview of the switch's update) counts as unchanged", () => {
    const preview = { ...cap, control: UNKNOWN, switchInstance: UNKNOWN } as any;
    expect(planCapture(cap, preview)).toEqual({ changes: false, replaces: [], deleteBeforeReplace: true });
    expect(planCapture(cap, { ...cap, file: "/tmp/x.pcap" }).replaces).toEqual(["file"]);
  });
  test("tap captures run tcpdump in the namespace, packet-buffered, as root", () => {
    const c = captureCommand(
      { labDir: "/l", name: "c", mode: "tap", namespace: "umlab-x", device: "tap0" },
      "/l/cap/c.pcap",
    );
    expect(c).toEqual({
      cmd: "ip",
      args: ["netns", "exec", "umlab-x", "tcpdump", "-i", "tap0", "-U", "-Z", "root", "-w", "/l/cap/c.pcap"],
    });
  });
  test("plug captures run the compiled pcap writer with node: the switch's directory, then the file", () => {
    expect(captureCommand(cap, "/l/cap/c.pcap", "/x/pcap-writer.js")).toEqual({
      cmd: process.execPath,
      args: ["/x/pcap-writer.js", "/l/sw/sw0", "/l/cap/c.pcap"],
    });
  });
});

describe("pcap writer", () => {
  test("the file header: magic, version 2.4, snaplen 65535, Ethernet, little-endian", () => {
    expect(pcapHeader().toString("hex")).toBe(
      "d4c3b2a1" + "0200" + "0400" + "00000000" + "00000000" + "ffff0000" + "01000000",
    );
  });
  test("a record: seconds, microseconds, captured and original length, then the frame", () => {
    const frame = Buffer.from("0102030405", "hex");
    const r = pcapRecord(frame, 1_700_000_123_456);
    expect(r.readUInt32LE(0)).toBe(1_700_000_123);
    expect(r.readUInt32LE(4)).toBe(456_000);
    expect(r.readUInt32LE(8)).toBe(5);
    expect(r.readUInt32LE(12)).toBe(5);
    expect(r.subarray(16).equals(frame)).toBe(true);
  });
  test("vde_plug's stream splits into whole frames; a partial one waits for more bytes", () => {
    const stream = Buffer.from("0002aabb" + "0003ccddee" + "0004ff", "hex");
    const { frames, rest } = splitFrames(stream);
    expect(frames.map((f) => f.toString("hex"))).toEqual(["aabb", "ccddee"]);
    expect(rest.toString("hex")).toBe("0004ff");
    const more = splitFrames(Buffer.concat([rest, Buffer.from("000102", "hex")]));
    expect(more.frames.map((f) => f.toString("hex"))).toEqual(["ff000102"]);
    expect(more.rest.length).toBe(0);
  });
});
