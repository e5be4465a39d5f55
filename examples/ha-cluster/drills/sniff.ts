// The serial cable's byte log (socat -x: a header line `> <date> <time> length=N ...`, `>` one
// way and `<` the other, then the bytes in hex) read back as text. Pure.

export interface CableChunk {
  direction: ">" | "<";
  time: string;
  text: string;
}

/** The last `n` chunks of a socat -x dump, bytes shown as text (unprintable ones as '.'). */
export function decodeCableLog(dump: string, n = 2): CableChunk[] {
  const chunks: CableChunk[] = [];
  let cur: CableChunk | undefined;
  for (const line of dump.split("\n")) {
    const h = /^([<>]) \S+ (\S+)\s+length=/.exec(line);
    if (h) {
      cur = { direction: h[1] as ">" | "<", time: h[2], text: "" };
      chunks.push(cur);
    } else if (cur && /^\s*[0-9a-f]{2}( [0-9a-f]{2})*\s*$/.test(line)) {
      cur.text += line
        .trim()
        .split(" ")
        .map((b) => {
          const c = parseInt(b, 16);
          return c === 10 || (c >= 32 && c < 127) ? String.fromCharCode(c) : ".";
        })
        .join("");
    }
  }
  return chunks.slice(-n);
}

/** One packet of `tcpdump -r <pcap> -nn -tt` (IPv4 lines only). */
export interface PcapPacket {
  time: number;
  src: string;
  sport: number;
  dst: string;
  dport: number;
  /** What follows the addresses (UDP/TCP details, tcpdump's NFS decoding). */
  rest: string;
}

/** The IPv4 packets of `tcpdump -nn -tt` output (`<epoch> IP a.b.c.d.port > e.f.g.h.port: ...`). */
export function parseTcpdump(text: string): PcapPacket[] {
  const out: PcapPacket[] = [];
  const re = /^(\d+\.\d+) IP (\d+\.\d+\.\d+\.\d+)\.(\d+) > (\d+\.\d+\.\d+\.\d+)\.(\d+): (.*)$/;
  for (const line of text.split("\n")) {
    const m = re.exec(line.trim());
    if (m) out.push({ time: Number(m[1]), src: m[2], sport: +m[3], dst: m[4], dport: +m[5], rest: m[6] });
  }
  return out;
}

export const HEARTBEAT_PORT = 694;
export const NFS_PORT = 2049;

/** What a capture shows: heartbeat packets per sender, NFS requests and replies (and their kinds). */
export interface SniffSummary {
  packets: number;
  /** Heartbeat (UDP 694) packets per source address. */
  heartbeat: Record<string, number>;
  nfs: { requests: number; replies: number; from: string[]; ops: Record<string, number> };
}

export function summarizePackets(packets: PcapPacket[], since = 0): SniffSummary {
  const s: SniffSummary = { packets: 0, heartbeat: {}, nfs: { requests: 0, replies: 0, from: [], ops: {} } };
  for (const p of packets) {
    if (p.time < since) continue;
    s.packets++;
    if (p.dport === HEARTBEAT_PORT && /UDP/.test(p.rest)) s.heartbeat[p.src] = (s.heartbeat[p.src] ?? 0) + 1;
    else if (p.dport === NFS_PORT && /NFS request/.test(p.rest)) {
      s.nfs.requests++;
      if (!s.nfs.from.includes(p.src)) s.nfs.from.push(p.src);
      // tcpdump decodes RPC over TCP: "NFS request xid 123 140 write fh ..."
      const op = /NFS request xid \d+ \d+ (\w+)/.exec(p.rest)?.[1];
      if (op) s.nfs.ops[op] = (s.nfs.ops[op] ?? 0) + 1;
    } else if (p.sport === NFS_PORT && /NFS reply/.test(p.rest)) s.nfs.replies++;
  }
  return s;
}

/** A packet in one short line: time, addresses, and the UDP length or tcpdump's NFS decoding. */
export function packetLine(p: PcapPacket): string {
  const what =
    /NFS (request|reply).*/.exec(p.rest)?.[0] ?? p.rest.replace(/^Flags .*length (\d+)$/, "TCP, length $1");
  return `${p.time.toFixed(3)} ${p.src}.${p.sport} > ${p.dst}.${p.dport}: ${what}`.slice(0, 160);
}
