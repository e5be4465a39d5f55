import { schemas, validate, memoryMiB, UNKNOWN, socketPathFailures } from "../../../provider/core/schemas";
import * as naming from "../../../provider/core/naming";
import { checkGuest } from "../../../provider/guest/provider";
import { switchProvider } from "../../../provider/net/switch";

const checkSwitch = (news: Record<string, unknown>) => switchProvider.check!({}, news);

const guest = (over: Record<string, unknown> = {}) => ({
  labDir: "/var/tmp/umlab/x",
  name: "g1",
  disks: [{ path: "/var/tmp/umlab/x/disk/g1.cow", backing: "/img/base.img" }],
  ...over,
});

function failuresOf(over: Record<string, unknown>) {
  const r = checkGuest(guest(over));
  return r.failures ?? [];
}

describe("validation", () => {
  test("a minimal guest gets the defaults: 64M, linux.uml, no NICs, 120 s", () => {
    const r = validate(schemas().guest, guest());
    expect(r.ok).toBe(true);
    if (r.ok)
      expect(r.value).toMatchObject({
        memory: "64M",
        kernel: "/usr/bin/linux.uml",
        nics: [],
        readyTimeoutSeconds: 120,
      });
  });

  test("a bad name names the property and the fix", () => {
    const f = failuresOf({ name: "Router 1" });
    expect(f).toEqual([{ property: "name", reason: expect.stringContaining("lower-case letters") }]);
  });

  test("a bad MAC names the NIC's property", () => {
    const nic = {
      engine: "uml_switch",
      control: "/l/sw/a.ctl",
      switchInstance: "1:2",
      mac: "02:00:00:00:00:GG",
    };
    expect(failuresOf({ nics: [nic] })).toEqual([
      { property: "nics[0].mac", reason: expect.stringContaining("hex") },
    ]);
  });

  test("netem settings are checked, naming the field", () => {
    const nic = (netem: unknown) => ({
      engine: "uml_switch",
      control: "/l/sw/a.ctl",
      switchInstance: "1:2",
      mac: "02:00:00:00:00:01",
      netem,
    });
    expect(failuresOf({ nics: [nic({ lossPercent: 40, delayMs: 20, jitterMs: 5, rateKbit: 1 })] })).toEqual(
      [],
    );
    expect(failuresOf({ nics: [nic({ lossPercent: 140 })] })).toEqual([
      { property: "nics[0].netem.lossPercent", reason: "use 0..100" },
    ]);
    expect(failuresOf({ nics: [nic({ delayMs: -1 })] })).toEqual([
      { property: "nics[0].netem.delayMs", reason: expect.stringContaining("0..60000") },
    ]);
    expect(failuresOf({ nics: [nic({ jitterMs: 60001 })] })).toEqual([
      { property: "nics[0].netem.jitterMs", reason: expect.stringContaining("0..60000") },
    ]);
    expect(failuresOf({ nics: [nic({ rateKbit: 0 })] })[0]).toMatchObject({
      property: "nics[0].netem.rateKbit",
      reason: expect.stringContaining("at least 1"),
    });
    expect(failuresOf({ nics: [nic({ loss: 10 })] })[0]).toMatchObject({ property: "nics[0].netem" });
  });

  test("a multicast MAC is refused", () => {
    const nic = {
      engine: "uml_switch",
      control: "/l/sw/a.ctl",
      switchInstance: "1:2",
      mac: "01:00:00:00:00:01",
    };
    expect(failuresOf({ nics: [nic] })[0]).toMatchObject({
      property: "nics[0].mac",
      reason: expect.stringContaining("unicast"),
    });
  });

  test("too little memory is refused with the reason (32M panics)", () => {
    expect(failuresOf({ memory: "32M" })[0]).toMatchObject({
      property: "memory",
      reason: expect.stringContaining("32M"),
    });
    expect(failuresOf({ memory: "lots" })[0]).toMatchObject({ property: "memory" });
    expect(failuresOf({ memory: "1G" })).toEqual([]);
    expect(memoryMiB("65536K")).toBe(64);
  });

  test("paths with spaces or commas are refused (UML splits its arguments on commas)", () => {
    expect(failuresOf({ disks: [{ path: "/a,b.img" }] })[0]).toMatchObject({
      property: "disks[0].path",
      reason: expect.stringContaining("comma"),
    });
    expect(failuresOf({ kernel: "relative/linux" })[0]).toMatchObject({ property: "kernel" });
  });

  test("a guest needs a root disk", () => {
    expect(failuresOf({ disks: [] })[0]).toMatchObject({ property: "disks" });
  });

  test("addresses, routes, sysctls and serial lines are checked", () => {
    const nic = {
      engine: "vde",
      control: "/l/sw/a",
      switchInstance: "1:2",
      mac: "02:00:00:00:00:01",
      addresses: ["10.0.0.1"],
    };
    expect(failuresOf({ nics: [nic] })[0]).toMatchObject({ property: "nics[0].addresses[0]" });
    expect(failuresOf({ routes: [{ dest: "default", via: "10.0.0.x" }] })[0]).toMatchObject({
      property: "routes[0].via",
    });
    expect(failuresOf({ sysctls: { "net.ipv4.ip_forward": "1; reboot" } })[0].property).toMatch(/^sysctls/);
    expect(failuresOf({ serial: ["xterm"] })[0]).toMatchObject({ property: "serial[0]" });
    expect(failuresOf({ files: { "/etc/../x": "" } })[0].property).toMatch(/^files/);
  });

  test("values unknown during preview pass check", () => {
    const nic = {
      engine: UNKNOWN,
      control: UNKNOWN,
      switchInstance: UNKNOWN,
      mac: "02:00:00:00:00:01",
      addresses: [UNKNOWN],
    };
    expect(
      failuresOf({ labDir: UNKNOWN, disks: [{ path: UNKNOWN, backing: UNKNOWN }], nics: [nic] }),
    ).toEqual([]);
    expect(failuresOf({ nics: UNKNOWN })).toEqual([]);
  });

  test("a runtime dir too long for unix sockets fails check with the fix", async () => {
    const long = "/tmp/" + "d".repeat(90);
    const f = (await checkSwitch({ labDir: long, name: "sw0" })).failures ?? [];
    expect(f[0]).toMatchObject({ property: "labDir", reason: expect.stringContaining("UMLAB_RUNTIME") });
    expect(socketPathFailures(UNKNOWN, ["a"], naming.longestSocketPath, 107)).toEqual([]);
  });

  test("switch engines are uml_switch or vde", async () => {
    expect((await checkSwitch({ labDir: "/l", name: "sw0", engine: "ovs" })).failures?.[0]).toMatchObject({
      property: "engine",
    });
    expect((await checkSwitch({ labDir: "/l", name: "sw0" })).inputs).toEqual({
      labDir: "/l",
      name: "sw0",
      engine: "uml_switch",
      hub: false,
      suspended: false,
    });
  });
});
