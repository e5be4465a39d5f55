// examples/ha-cluster/cluster.ts, its pure parts: the resource order and configuration files,
// the client writer's log parser, the record verifier and the outage measure.
import {
  haCf,
  haResources,
  exportsFile,
  hanfsScript,
  nodeStartup,
  clientStartup,
  clientMountArgv,
  writerScript,
  startWriterCommand,
  parseWriterLog,
  verifyRecords,
  outage,
  WATCHDOG_DEVICE,
  WATCHDOG_SECONDS,
  REBOOT_MARKER,
  REJOIN_WAIT_SECONDS,
  DEFAULT_TIMING,
  SERVICE_ADDRESS,
  WRITER,
} from "../../../examples/ha-cluster/cluster";

const recs = (n: number) => Array.from({ length: n }, (_, i) => `rec ${i + 1}\n`).join("");
const acks = (n: number, t0 = 100, step = 0.5) =>
  Array.from({ length: n }, (_, i) => `ack ${i + 1} ${(t0 + i * step).toFixed(3)}\n`).join("");

describe("cluster configuration", () => {
  test("haresources: the disk is mounted, then NFS, then the address (v1 stops right to left)", () => {
    const words = haResources().trim().split(/\s+/);
    expect(words[0]).toBe("one");
    expect(words.slice(1).map((w) => w.split("::")[0])).toEqual(["Filesystem", "hanfs", "IPaddr2"]);
    expect(words[1]).toBe("Filesystem::/dev/ubdb::/srv/ha::ext4");
    expect(words[3]).toBe(`IPaddr2::${SERVICE_ADDRESS}/24/eth0`);
  });

  test("the export names a fixed fsid and is sync; hanfs keeps /var/lib/nfs on the shared disk", () => {
    expect(exportsFile()).toMatch(/^\/srv\/ha\/data 10\.0\.0\.10\/32\(.*\bfsid=1\b.*\)\n$/);
    expect(exportsFile()).toMatch(/[(,]sync[,)]/);
    const s = hanfsScript();
    expect(s).toMatch(/mount --bind "\$state" \/var\/lib\/nfs/);
    expect(s).toMatch(/state=\/srv\/ha\/nfs-state/);
    // Grace and lease are set before nfsd starts (they cannot change while it runs).
    expect(s.indexOf("nfsv4gracetime")).toBeLessThan(s.indexOf("nfs-kernel-server start"));
    expect(s).toMatch(/^status\)$/m);
  });

  test("heartbeat feeds the watchdog, whose margin is below deadtime", () => {
    expect(haCf()).toMatch(new RegExp(`^watchdog ${WATCHDOG_DEVICE}$`, "m"));
    expect(haCf(DEFAULT_TIMING, true, null)).not.toMatch(/^watchdog/m);
    expect(WATCHDOG_SECONDS).toBeLessThan(DEFAULT_TIMING.deadtime);
  });

  test("node startup makes what rpcbind and heartbeat need; without heartbeat, does not start it", () => {
    expect(nodeStartup(true)).toMatch(/mkdir -p .*\/run\/sendsigs\.omit\.d/);
    expect(nodeStartup(true)).toMatch(/heartbeat start/);
    expect(nodeStartup(false)).not.toMatch(/heartbeat start/);
  });

  test("after an in-guest reboot heartbeat starts only once the peer's takeover is over; a boot by umlab starts it at once", () => {
    const lines = nodeStartup(true).split("\n");
    // The marker lives in the guest's state folder, which umlab writes afresh at each boot it does.
    expect(REBOOT_MARKER.startsWith("/umlab/state/")).toBe(true);
    const test = lines.findIndex((l) => l === `if [ -e ${REBOOT_MARKER} ]; then`);
    const first = lines.findIndex((l) => l.trim() === `touch ${REBOOT_MARKER}`);
    expect(test).toBeGreaterThan(-1);
    expect(first).toBeGreaterThan(test);
    expect(lines[first + 1].trim()).toBe("/etc/init.d/heartbeat start");
    // Rebooted in place: in the background, wait while the peer answers and the service
    // address does not (the peer is taking over), bounded, then heartbeat.
    const rejoin = lines.find((l) => l.includes("setsid sh -c"))!;
    expect(rejoin).toMatch(
      new RegExp(
        `while \\[ \\$n -lt ${REJOIN_WAIT_SECONDS} \\] && ping .*"\\$peer".* && ! ping .*${SERVICE_ADDRESS.replace(/\./g, "\\.")}`,
      ),
    );
    expect(rejoin.indexOf("heartbeat start")).toBeGreaterThan(rejoin.indexOf("done"));
    // Single-quoted for sh -c: it must hold no single quote of its own.
    expect(rejoin.slice(rejoin.indexOf("'") + 1, rejoin.lastIndexOf("'"))).not.toContain("'");
    expect(nodeStartup(false)).not.toContain(REBOOT_MARKER);
  });

  test("the client mounts NFSv3, hard and sync, through the service address", () => {
    const argv = clientMountArgv();
    const opts = argv[argv.indexOf("-o") + 1].split(",");
    expect(opts).toEqual(expect.arrayContaining(["vers=3", "hard", "sync", "nolock"]));
    expect(opts).not.toContain("soft");
    expect(argv).toContain(`${SERVICE_ADDRESS}:/srv/ha/data`);
    expect(clientStartup()).toMatch(/until mount -t nfs/);
  });

  test("the writer script logs an ack only after the append returned, and stops on <log>.stop", () => {
    const s = writerScript();
    expect(s.startsWith("#!/bin/sh\n")).toBe(true);
    expect(s).toMatch(/if msg=\$\( \(printf 'rec %d\\n' "\$n" >>"\$f"\) 2>&1\); then\n\t\techo "ack \$n/);
    expect(s).toMatch(/while \[ ! -e "\$log\.stop" \]/);
    expect(startWriterCommand()).toContain(`setsid ${WRITER.script} ${WRITER.records} ${WRITER.log} 0.2`);
  });
});

describe("parseWriterLog", () => {
  test("acks and errors; anything else is bad", () => {
    const r = parseWriterLog(
      "ack 1 100.5\nerr 2 101.000 sh: 1: cannot create /mnt/ha/records: Stale file handle\n\nnoise\nack 2\n",
    );
    expect(r.events).toEqual([
      { kind: "ack", n: 1, t: 100.5 },
      { kind: "err", n: 2, t: 101, message: "sh: 1: cannot create /mnt/ha/records: Stale file handle" },
    ]);
    expect(r.bad).toEqual(["noise", "ack 2"]);
  });

  test("an ack with trailing words is not an ack", () => {
    expect(parseWriterLog("ack 1 100 extra").bad).toEqual(["ack 1 100 extra"]);
  });
});

describe("verifyRecords", () => {
  test("every acknowledged record, in order, plus one in flight: ok", () => {
    expect(verifyRecords(recs(5), acks(5))).toMatchObject({
      ok: true,
      problems: [],
      lastAcked: 5,
      records: 5,
    });
    expect(verifyRecords(recs(6), acks(5)).ok).toBe(true);
    // Acknowledged after the log was read (the log is read first).
    expect(verifyRecords(recs(9), acks(5)).ok).toBe(true);
    expect(verifyRecords("", "").ok).toBe(true);
  });

  test("a lost acknowledged record is caught", () => {
    const v = verifyRecords(recs(4), acks(5));
    expect(v.ok).toBe(false);
    expect(v.problems).toEqual(["file: 4 records, but records up to 5 were acknowledged"]);
  });

  test("a gap, a repeat or a reordering in the file is caught", () => {
    expect(verifyRecords("rec 1\nrec 3\nrec 4\n", acks(3)).problems[0]).toBe(
      'file: line 2 is "rec 3", want "rec 2"',
    );
    expect(verifyRecords("rec 1\nrec 1\nrec 2\n", acks(2)).ok).toBe(false);
    expect(verifyRecords("rec 2\nrec 1\n", acks(2)).ok).toBe(false);
    expect(verifyRecords("rec 1\ngarbage\n", acks(1)).ok).toBe(false);
  });

  test("a stale file handle (any writer error) fails the verdict even when the file is whole", () => {
    const log = acks(2) + "err 3 102.0 sh: cannot create /mnt/ha/records: Stale file handle\nack 3 103.0\n";
    const v = verifyRecords(recs(3), log);
    expect(v.ok).toBe(false);
    expect(v.errors).toHaveLength(1);
    expect(v.problems[0]).toMatch(/record 3 failed: .*Stale file handle/);
  });

  test("acks out of order are caught", () => {
    expect(verifyRecords(recs(2), "ack 2 1\nack 1 2\n").ok).toBe(false);
  });
});

describe("outage", () => {
  // Acks every 0.5 s from t=100 to 104.5 (1..10), then a hole, then 20.5 s later every 0.5 s again.
  const log = acks(10) + "ack 11 125.000\nack 12 125.500\nack 13 126.000\n";

  test("the longest gap between acknowledgements overlapping the window", () => {
    expect(outage(log, 104.6, 130)).toEqual({ seconds: 20.5, before: 10, after: 11 });
    expect(outage(log, 110, 111)).toEqual({ seconds: 20.5, before: 10, after: 11 });
  });

  test("gaps outside the window do not count", () => {
    expect(outage(log, 100.1, 102)).toEqual({ seconds: 0.5, before: 1, after: 2 });
    expect(outage(log, 125.1, 125.9).seconds).toBe(0.5);
  });

  test("no ack after the window started: the gap runs to its end, `after` undefined", () => {
    expect(outage(log, 127, 140)).toEqual({ seconds: 14, before: 13 });
    expect(outage("", 10, 12)).toEqual({ seconds: 2, before: undefined });
  });

  test("a writer that stopped before the window's end counts up to the end", () => {
    expect(outage(acks(3), 100, 110)).toEqual({ seconds: 9, before: 3 });
  });

  test("errors do not count as acknowledgements; time order, not log order", () => {
    const l = "ack 1 100\nerr 2 101 x\nack 2 110\nack 3 105\n";
    expect(outage(l, 100.5, 111)).toMatchObject({ seconds: 5, before: 1, after: 3 });
  });

  test("a window that ends before it starts is refused", () => {
    expect(() => outage(log, 10, 5)).toThrow(/window ends \(5\) before it starts \(10\)/);
  });
});
