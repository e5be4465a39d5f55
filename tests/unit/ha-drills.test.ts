// The drill runner's pure parts: the probes' outage arithmetic (ping, NFS writer) and the argument parser.
import { pingOutage, parsePing } from "../../examples/ha-cluster/drills/probe";
import { parseArgs, DrillUsageError } from "../../examples/ha-cluster/drills/main";
import { findDrill, DRILLS } from "../../examples/ha-cluster/drills/drills";
import {
  decodeCableLog,
  packetLine,
  parseTcpdump,
  summarizePackets,
} from "../../examples/ha-cluster/drills/sniff";
import { writerResult } from "../../examples/ha-cluster/drills/writer-probe";
import { defaultProbe } from "../../examples/ha-cluster/drills/runner";
import { Cluster } from "../../examples/ha-cluster/drills/cluster";

describe("ping probe", () => {
  test("the longest run of unanswered seqs, times the interval", () => {
    const text = [
      "PING 10.0.0.100 (10.0.0.100) 56(84) bytes of data.",
      "64 bytes from 10.0.0.100: icmp_seq=1 ttl=64 time=0.3 ms",
      "no answer yet for icmp_seq=2",
      "no answer yet for icmp_seq=3",
      "From 10.0.0.10 icmp_seq=4 Destination Host Unreachable",
      "64 bytes from 10.0.0.100: icmp_seq=5 ttl=64 time=0.3 ms",
      "no answer yet for icmp_seq=6",
      "64 bytes from 10.0.0.100: icmp_seq=7 ttl=64 time=0.3 ms",
    ].join("\n");
    const p = parsePing(text);
    expect(p).toEqual({ answered: [1, 5, 7], sent: 7 });
    expect(pingOutage(p.answered, p.sent)).toEqual({ outageSeconds: 0.6, recovered: true });
  });

  test("an outage still running at the end is not recovered; no loss is zero", () => {
    expect(pingOutage([1, 2], 6)).toEqual({ outageSeconds: 0.8, recovered: false });
    expect(pingOutage([1, 2, 3], 3)).toEqual({ outageSeconds: 0, recovered: true });
    expect(pingOutage([], 0)).toEqual({ outageSeconds: 0, recovered: true });
  });
});

describe("drill arguments", () => {
  test("drill, --stack and --dir; bad options are named", () => {
    expect(parseArgs(["takeover", "--stack", "s1", "--dir", "/x"])).toEqual({
      drill: "takeover",
      stack: "s1",
      dir: "/x",
    });
    expect(() => parseArgs(["takeover", "--stack"])).toThrow(/--stack needs a value/);
    expect(() => parseArgs(["--force"])).toThrow(DrillUsageError);
    expect(() => parseArgs(["a", "b"])).toThrow(/one drill at a time/);
  });

  test("an unknown drill names every drill", () => {
    expect(() => findDrill("nope")).toThrow(new RegExp(DRILLS.map((d) => d.name).join(", ")));
    expect(findDrill("split-brain").name).toBe("split-brain");
  });
});

describe("serial cable log", () => {
  test("socat -x chunks read back as text, direction and time kept, the last n", () => {
    const dump = [
      "> 2026/11/27 11:18:01.000000001  length=3 from=0 to=2",
      " 3e 3e 3e",
      "< 2026/11/27 11:18:02.000000002  length=6 from=0 to=5",
      " 73 72 63 3d 0a 01",
      "--",
    ].join("\n");
    expect(decodeCableLog(dump, 5)).toEqual([
      { direction: ">", time: "11:18:01.000000001", text: ">>>" },
      { direction: "<", time: "11:18:02.000000002", text: "src=\n." },
    ]);
    expect(decodeCableLog(dump, 1)).toHaveLength(1);
    expect(decodeCableLog("garbage\n 3e 3e")).toEqual([]);
  });
});

describe("public switch pcap (tcpdump -r -nn -tt)", () => {
  // Lines as tcpdump 4.99 printed them from the ha-cluster's public hub capture.
  const text = [
    "1795790998.131000 IP 10.0.0.2.34598 > 10.0.0.255.694: UDP, length 307",
    "1795790998.361000 IP 10.0.0.1.58068 > 10.0.0.255.694: UDP, length 281",
    "1795791514.950000 IP 10.0.0.10.36996 > 10.0.0.100.2049: Flags [P.], seq 1:45, ack 1, win 4015, options [nop,nop,TS val 2376651389 ecr 1700029637], length 44: NFS request xid 3550056915 40 null",
    "1795791514.951000 IP 10.0.0.100.2049 > 10.0.0.10.36996: Flags [P.], seq 1:29, ack 45, win 4070, options [nop,nop,TS val 1700029638 ecr 2376651389], length 28: NFS reply xid 3550056915 reply ok 24 null",
    "1795791515.000000 IP 10.0.0.10.777 > 10.0.0.100.2049: Flags [P.], seq 1:45, ack 1, length 140: NFS request xid 77 136 write fh Unknown/0100 12 (12) bytes @ 40 <filesync>",
    "1795791515.001000 IP 10.0.0.10.777 > 10.0.0.100.2049: Flags [.], ack 1177, win 4006, length 0",
    "1795791515.002000 ARP, Request who-has 10.0.0.100 tell 10.0.0.10, length 28",
    "reading from file x.pcap, link-type EN10MB (Ethernet), snapshot length 65535",
    "",
  ].join("\n");

  test("heartbeat packets per sender; NFS requests (by operation) and replies; TCP acks are neither", () => {
    const packets = parseTcpdump(text);
    expect(packets).toHaveLength(6);
    expect(packets[0]).toMatchObject({ src: "10.0.0.2", sport: 34598, dst: "10.0.0.255", dport: 694 });
    expect(summarizePackets(packets)).toEqual({
      packets: 6,
      heartbeat: { "10.0.0.2": 1, "10.0.0.1": 1 },
      nfs: { requests: 2, replies: 1, from: ["10.0.0.10"], ops: { null: 1, write: 1 } },
    });
    // `since` drops what came before the drill
    expect(summarizePackets(packets, 1795791515).nfs).toEqual({
      requests: 1,
      replies: 0,
      from: ["10.0.0.10"],
      ops: { write: 1 },
    });
    expect(summarizePackets(parseTcpdump("garbage\n"))).toMatchObject({ packets: 0, heartbeat: {} });
  });

  test("a packet in one short line: the NFS decoding, not the TCP options", () => {
    const [hb, , req, , , ack] = parseTcpdump(text);
    expect(packetLine(hb)).toBe("1795790998.131 10.0.0.2.34598 > 10.0.0.255.694: UDP, length 307");
    expect(packetLine(req)).toMatch(/2049: NFS request xid 3550056915 40 null$/);
    expect(packetLine(ack)).toMatch(/2049: TCP, length 0$/);
  });
});

describe("NFS writer probe", () => {
  const log = ["ack 1 100.0", "ack 2 100.5", "ack 3 131.2", "ack 4 131.4", ""].join("\n");
  const file = "rec 1\nrec 2\nrec 3\nrec 4\nrec 5\n";
  test("the outage is the longest gap between acks; every acked record read back", () => {
    const r = writerResult(log, file, "w");
    expect(r).toMatchObject({ outageSeconds: 30.7, answered: 4, sent: 4, recovered: true, verified: true });
    expect(r.notes[0]).toMatch(/all 4 acknowledged records read back/);
  });
  test("a lost acknowledged record, an error or a hung export is not verified", () => {
    expect(writerResult(log, "rec 1\nrec 2\nrec 4\n", "w").verified).toBe(false);
    const stale = writerResult(`${log}err 5 132.0 Stale file handle\n`, file, "w");
    expect(stale.verified).toBe(false);
    expect(stale.sent).toBe(5);
    expect(stale.notes[0]).toMatch(/Stale file handle/);
    const hung = writerResult(log, undefined, "w");
    expect(hung.verified).toBeUndefined();
    expect(hung.notes[0]).toMatch(/not read back/);
  });
  test("a writer still hung when the probe stops: the outage runs to the stop, not recovered", () => {
    expect(writerResult(log, undefined, "w", 200.0)).toMatchObject({ outageSeconds: 68.6, recovered: false });
    expect(writerResult(log, file, "w", 131.5)).toMatchObject({ outageSeconds: 30.7, recovered: true });
  });
  test("no ack at all is no recovery", () => {
    expect(writerResult("", "", "w")).toMatchObject({ answered: 0, recovered: false, outageSeconds: 0 });
  });
  test("the drills use the writer when the program exports the shared disk, pings otherwise", () => {
    const o = { guests: [], serviceAddress: "10.0.0.100", labDir: "/x" };
    expect(defaultProbe(new Cluster({ ...o, exportPath: "10.0.0.100:/srv/ha/data" })).kind).toMatch(
      /NFS writer/,
    );
    expect(defaultProbe(new Cluster(o)).kind).toMatch(/^ping/);
  });
});
