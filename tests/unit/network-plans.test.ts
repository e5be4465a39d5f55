// Pure plans of the network and fault pieces: what previews as an update, what as a replace.
import { planSwitch } from "../../provider/net/switch";
import { planGuest } from "../../provider/guest/plan";
import { planTap, checkTap, namespaceOf } from "../../provider/net/tap";
import { planCapture, checkCapture, captureCommand } from "../../provider/net/capture";
import { planSerialCable, relayCommand } from "../../provider/net/serial";
import { planImpairment, filterArgs, checkImpairment } from "../../provider/net/impairment";
import { guestArgs, serialTransports, cableFifos } from "../../provider/guest/boot";
import { SwitchInputs, GuestInputs } from "../../provider/core/schemas";

describe("faults as state", () => {
  const sw: SwitchInputs = { labDir: "/l", name: "sw0", engine: "vde", hub: true, suspended: false };
  test("suspending a switch is an in-place update, not a replace", () => {
    expect(planSwitch(sw, { ...sw, suspended: true })).toEqual({
      changes: true,
      replaces: [],
      deleteBeforeReplace: true,
    });
  });
  test("pausing a guest is an in-place change", () => {
    const g = {
      labDir: "/l",
      name: "g1",
      kernel: "/usr/bin/linux.uml",
      memory: "64M",
      disks: [{ path: "/l/d" }],
      nics: [],
      routes: [],
      sysctls: {},
      modules: [],
      files: {},
      serial: [],
      kernelArgs: [],
      readyTimeoutSeconds: 120,
      paused: false,
    } as GuestInputs;
    const p = planGuest(g, { ...g, paused: true });
    expect(p.changes).toEqual(["paused"]);
    expect(p.replaces).toEqual([]);
  });
  const imp = {
    labDir: "/l",
    name: "lossy",
    upstreamEngine: "vde" as const,
    upstream: "/l/sw/sw0",
    upstreamInstance: "1:2",
    lossPercent: 0,
    delayMs: 0,
    rateKbit: 0,
  };
  test("impairment settings and a new upstream switch change in place", () => {
    for (const over of [{ lossPercent: 20 }, { delayMs: 5 }, { rateKbit: 64 }, { upstreamInstance: "3:4" }])
      expect(planImpairment(imp, { ...imp, ...over })).toMatchObject({ changes: true, replaces: [] });
    expect(planImpairment(imp, { ...imp, name: "x" }).replaces).toEqual(["name"]);
  });
  test("wirefilter gets only the settings in use; rate in bytes per second", () => {
    expect(filterArgs(imp)).toEqual([]);
    expect(filterArgs({ lossPercent: 30, delayMs: 10, rateKbit: 8 })).toEqual([
      "-l",
      "30",
      "-d",
      "10",
      "-b",
      "1000",
    ]);
  });
  test("an impairment on a uml_switch is refused with the reason", () => {
    expect(checkImpairment({ ...imp, upstreamEngine: "uml_switch" }).failures?.[0].reason).toMatch(/vde/);
  });
});

describe("tap and capture", () => {
  const tap = {
    labDir: "/var/tmp/umlab/quick-dev-abc123",
    name: "tap0",
    engine: "vde" as const,
    control: "/l/sw/sw0",
    switchInstance: "1:2",
    addresses: ["10.0.0.254/24"],
  };
  test("the lab's namespace is named after its id", () => {
    expect(namespaceOf(tap.labDir)).toBe("umlab-quick-dev-abc123");
  });
  test("new addresses are in place; a new switch instance re-makes the tap", () => {
    expect(planTap(tap, { ...tap, addresses: [] })).toMatchObject({ changes: true, replaces: [] });
    expect(planTap(tap, { ...tap, switchInstance: "9:9" }).replaces).toEqual(["switchInstance"]);
  });
  test("a tap on a uml_switch and a too long device name are refused", () => {
    expect(checkTap({ ...tap, engine: "uml_switch" }).failures?.[0].reason).toMatch(/vde/);
    expect(checkTap({ ...tap, name: "a-very-long-tap-name" }).failures?.[0].property).toBe("name");
  });
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
});

describe("serial cable", () => {
  test("cable ends become inherited fds from 4, in order", () => {
    const serial = ["null", "cable:/l/ser/c.a", "pts", "cable:/l/ser/d.b"];
    expect(serialTransports(serial)).toEqual(["null", "fd:4,fd:5", "pts", "fd:6,fd:7"]);
    expect(cableFifos(serial)).toEqual([
      "/l/ser/c.a.in",
      "/l/ser/c.a.out",
      "/l/ser/d.b.in",
      "/l/ser/d.b.out",
    ]);
  });
  test("the guest command line names the fds, not the cable", () => {
    const args = guestArgs(
      {
        labDir: "/l",
        name: "g1",
        kernel: "/usr/bin/linux.uml",
        memory: "64M",
        disks: [{ path: "/l/d" }],
        nics: [],
        routes: [],
        sysctls: {},
        modules: [],
        files: {},
        serial: ["null", "cable:/l/ser/c.a"],
        kernelArgs: [],
        readyTimeoutSeconds: 120,
        paused: false,
      } as GuestInputs,
      "/l",
    );
    expect(args).toContain("ssl1=fd:4,fd:5");
  });
  test("toggling the byte log is in place; the relay crosses a.out->b.in and b.out->a.in", () => {
    const c = { labDir: "/l", name: "hb", log: false };
    expect(planSerialCable(c, { ...c, log: true })).toMatchObject({ changes: true, replaces: [] });
    expect(relayCommand({ ...c, log: true }).args).toEqual([
      "-x",
      "-b",
      "4096",
      "OPEN:/l/ser/hb.a.out,rdwr!!OPEN:/l/ser/hb.a.in,rdwr",
      "OPEN:/l/ser/hb.b.out,rdwr!!OPEN:/l/ser/hb.b.in,rdwr",
    ]);
  });
});
