// The init's entry points for hot NIC changes (`umlab-init apply ...`, image/umlab-init): a NIC
// is applied from the contract's config lines. Run on the host with stub ip/tc/modprobe that
// record their argv; the script is cut before its boot part, so nothing of the host is touched.
import * as child_process from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { NETEM_NEEDS_IPROUTE2, initCommand } from "../../../provider/guest/nics";

const INIT = fs.readFileSync(path.join(__dirname, "../../../image/umlab-init"), "utf8");
const BOOT = "# --- early mounts";

interface Stubs {
  /** What `tc -V` prints (iproute2's or busybox's). */
  tcVersion?: string;
  /** Output and exit code of `tc qdisc ...`. */
  tcQdisc?: { out: string; code: number };
}

let scratch: string;
beforeAll(() => {
  scratch = fs.mkdtempSync(path.join(os.tmpdir(), "umlab-init-"));
  // Everything up to the boot part: the functions and the entry points, no mounts.
  expect(INIT).toContain(BOOT);
  fs.writeFileSync(path.join(scratch, "init"), INIT.slice(0, INIT.indexOf(BOOT)));
});
afterAll(() => fs.rmSync(scratch, { recursive: true, force: true }));

function init(config: string[], args: string[], stubs: Stubs = {}) {
  const dir = fs.mkdtempSync(path.join(scratch, "run-"));
  const bin = path.join(dir, "bin");
  fs.mkdirSync(bin);
  fs.writeFileSync(path.join(dir, "config"), config.map((l) => `${l}\n`).join(""));
  const calls = path.join(dir, "calls");
  const stub = (name: string, body = "exit 0") =>
    fs.writeFileSync(path.join(bin, name), `#!/bin/sh\necho "${name} $*" >>'${calls}'\n${body}\n`, {
      mode: 0o755,
    });
  stub("ip");
  stub("modprobe");
  const q = stubs.tcQdisc ?? { out: "", code: 0 };
  stub(
    "tc",
    [
      `[ "$1" = -V ] && { echo '${stubs.tcVersion ?? "tc utility, iproute2-6.1.0"}'; exit 0; }`,
      `printf '%s' '${q.out}'`,
      `exit ${q.code}`,
    ].join("\n"),
  );
  const r = child_process.spawnSync("sh", [path.join(scratch, "init"), ...args], {
    encoding: "utf8",
    env: { ...process.env, UMLAB_DIR: dir, UMLAB_PATH: `${bin}:${process.env.PATH}` },
  });
  const called = fs.existsSync(calls) ? fs.readFileSync(calls, "utf8").trim().split("\n") : [];
  return { code: r.status, stderr: r.stderr, calls: called.filter((c) => c !== "tc -V") };
}

const apply = (config: string[], ...args: string[]) => init(config, ["apply", ...args]);

describe("umlab-init apply: a NIC from its config lines", () => {
  test("addresses: flush, then each address (IPv4 with brd +, IPv6 with -6), then up", () => {
    const r = apply(
      ["hostname g1", "addr eth1 10.0.0.1/24", "addr eth0 10.9.0.1/24", "addr eth1 fd00::1/64"],
      "nic",
      "eth1",
      "addr",
    );
    expect(r.code).toBe(0);
    expect(r.calls).toEqual([
      "ip addr flush dev eth1",
      "ip addr add 10.0.0.1/24 brd + dev eth1",
      "ip -6 addr add fd00::1/64 dev eth1",
      "ip link set dev eth1 up",
    ]);
  });

  test("a re-plugged or re-addressed NIC that is meant to be down stays down", () => {
    expect(apply(["addr eth0 10.0.0.1/24", "down eth0"], "nic", "eth0", "addr").calls).toEqual([
      "ip addr flush dev eth0",
      "ip addr add 10.0.0.1/24 brd + dev eth0",
      "ip link set dev eth0 down",
    ]);
  });

  test("a NIC without addresses is flushed and left down", () => {
    expect(apply(["addr eth1 10.0.0.1/24"], "nic", "eth0", "addr").calls).toEqual(["ip addr flush dev eth0"]);
  });

  test("the link state alone: down with a down line, up without one", () => {
    expect(apply(["down eth0"], "nic", "eth0", "link").calls).toEqual(["ip link set dev eth0 down"]);
    expect(apply(["down eth1"], "nic", "eth0", "link").calls).toEqual(["ip link set dev eth0 up"]);
  });

  test("netem settings become tc's words; only the ones set", () => {
    const loss = apply(["netem eth1 loss 10 delay 0 jitter 0 rate 0"], "nic", "eth1", "netem");
    expect(loss.code).toBe(0);
    expect(loss.calls).toEqual(["modprobe sch_netem", "tc qdisc replace dev eth1 root netem loss 10%"]);
    const more = apply(["netem eth0 loss 0 delay 20 jitter 5 rate 512"], "nic", "eth0", "netem");
    expect(more.calls).toContain("tc qdisc replace dev eth0 root netem delay 20ms 5ms rate 512kbit");
    const loss40 = apply(["netem eth0 loss 40 delay 0 jitter 0 rate 0"], "nic", "eth0", "netem");
    expect(loss40.calls).toContain("tc qdisc replace dev eth0 root netem loss 40%");
  });

  test("no netem line deletes the root qdisc; none there is fine", () => {
    const none = { out: "Error: Cannot delete qdisc with handle of zero.", code: 2 };
    const r = init(["addr eth1 10.0.0.1/24"], ["apply", "nic", "eth1", "netem"], { tcQdisc: none });
    expect(r.code).toBe(0);
    expect(r.calls).toEqual(["tc qdisc del dev eth1 root"]);
    const all0 = apply(["netem eth1 loss 0 delay 0 jitter 0 rate 0"], "nic", "eth1", "netem");
    expect(all0.calls).toEqual(["tc qdisc del dev eth1 root"]);
    const other = init([], ["apply", "nic", "eth1", "netem"], { tcQdisc: { out: "Error: busy", code: 2 } });
    expect(other.code).toBe(1);
    expect(other.stderr).toBe("removing netem failed (exit 1): Error: busy\n");
  });

  test("netem with busybox's tc: exit 3 saying what to use instead, nothing changed", () => {
    const r = init(["netem eth0 loss 10 delay 0 jitter 0 rate 0"], ["apply", "nic", "eth0", "netem"], {
      tcVersion: "BusyBox v1.35.0 (Debian 1:1.35.0-4+b3) multi-call binary.",
    });
    expect(r.code).toBe(3);
    expect(r.stderr).toContain(NETEM_NEEDS_IPROUTE2);
    expect(r.calls).toEqual([]);
  });

  test("a failing tc says which netem and why, with tc's exit code", () => {
    const r = init(["netem eth0 loss 10 delay 0 jitter 0 rate 0"], ["apply", "nic", "eth0", "netem"], {
      tcQdisc: { out: "RTNETLINK answers: Operation not permitted", code: 2 },
    });
    expect(r.code).toBe(2);
    expect(r.stderr).toBe("netem loss 10% failed (exit 2): RTNETLINK answers: Operation not permitted\n");
  });

  test("routes are added again; releasing a NIC takes it down", () => {
    const routes = ["route default via 10.0.0.254", "route fd01::/64 via fd00::2", "addr eth0 10.0.0.1/24"];
    expect(apply(routes, "routes").calls).toEqual([
      "ip route add default via 10.0.0.254",
      "ip -6 route add fd01::/64 via fd00::2",
    ]);
    expect(init([], ["release", "eth2"]).calls).toEqual(["ip link set dev eth2 down"]);
  });

  test("errors go to stderr; bad requests exit 2 with the usage", () => {
    const r = apply(["addr eth0 10.0.0.1/24"], "nic", "eth0", "bogus");
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/unknown part bogus/);
    expect(apply([], "nic").code).toBe(2);
    expect(init([], ["release"]).stderr).toMatch(/^usage: umlab-init apply nic <ifname>/);
  });

  test("the host's commands are these entry points, and it says the same about busybox", () => {
    expect(initCommand.nic(1, "addr")).toEqual(["/sbin/umlab-init", "apply", "nic", "eth1", "addr"]);
    expect(initCommand.routes()).toEqual(["/sbin/umlab-init", "apply", "routes"]);
    expect(initCommand.release(0)).toEqual(["/sbin/umlab-init", "release", "eth0"]);
    expect(INIT).toContain(`NETEM_NEEDS_IPROUTE2="${NETEM_NEEDS_IPROUTE2}"`);
  });
});
