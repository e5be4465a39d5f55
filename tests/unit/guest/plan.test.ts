import { planGuest, planNics, canonical, REBOOT_KEYS, SWITCH_GONE } from "../../provider/guest/provider";
import {
  guestArgs,
  contractConfig,
  nicTransport,
  nicAddressCommands,
  netemArgs,
  nicNetemScript,
  NETEM_NEEDS_IPROUTE2,
} from "../../provider/guest/boot";
import { GuestInputs, NicInputs, UNKNOWN } from "../../provider/core/schemas";

const nic = (over: Partial<NicInputs> = {}): NicInputs => ({
  engine: "uml_switch",
  control: "/l/sw/sw0.ctl",
  switchInstance: "100:5",
  switchGeneration: "switch/sw0/uml_switch/learning",
  mac: "02:00:00:00:00:01",
  addresses: ["10.0.0.1/24"],
  linkDown: false,
  ...over,
});

const base: GuestInputs = {
  labDir: "/l",
  name: "g1",
  kernel: "/usr/bin/linux.uml",
  memory: "64M",
  disks: [{ path: "/l/disk/g1.cow", backing: "/img/base.img" }],
  nics: [nic()],
  hostname: undefined,
  routes: [],
  sysctls: {},
  modules: [],
  files: {},
  startup: undefined,
  serial: [],
  kernelArgs: [],
  readyTimeoutSeconds: 120,
  paused: false,
};

describe("guest plan", () => {
  test("an unchanged guest has no diff", () => {
    expect(planGuest(base, { ...base })).toEqual({ changes: [], replaces: [], nicOps: [] });
  });

  const rebootChanges: [string, Partial<GuestInputs>][] = [
    ["memory", { memory: "128M" }],
    ["disks", { disks: [{ path: "/l/disk/g1.cow", backing: "/img/other.img" }] }],
    ["kernel", { kernel: "/opt/linux" }],
    ["kernelArgs", { kernelArgs: ["quiet"] }],
    ["hostname", { hostname: "other" }],
    ["routes", { routes: [{ dest: "default", via: "10.0.0.254" }] }],
    ["sysctls", { sysctls: { "net.ipv4.ip_forward": "1" } }],
    ["modules", { modules: ["dummy"] }],
    ["files", { files: { "/etc/motd": "hi" } }],
    ["startup", { startup: "echo hi" }],
    ["serial", { serial: ["pts"] }],
    ["watchdog", { watchdog: { kind: "softdog", timeoutSeconds: 5 } }],
    ["name", { name: "g2" }],
    ["labDir", { labDir: "/m" }],
  ];
  test.each(rebootChanges)("changing %s needs a reboot: replace", (key, over) => {
    expect(planGuest(base, { ...base, ...over })).toEqual({ changes: [key], replaces: [key], nicOps: [] });
  });

  test("every reboot key is covered above", () => {
    expect(new Set(rebootChanges.map(([k]) => k))).toEqual(new Set(REBOOT_KEYS));
  });

  test("adding a NIC to a running guest is an in-place update (attach), not a replace", () => {
    const plan = planGuest(base, {
      ...base,
      nics: [nic(), nic({ control: "/l/sw/sw1.ctl", mac: "02:00:00:00:00:02" })],
    });
    expect(plan).toEqual({ changes: ["nics"], replaces: [], nicOps: [{ kind: "attach", index: 1 }] });
  });

  test("removing the last NIC is an in-place detach", () => {
    expect(planGuest(base, { ...base, nics: [] })).toEqual({
      changes: ["nics"],
      replaces: [],
      nicOps: [{ kind: "detach", index: 0 }],
    });
  });

  test("moving a NIC to another switch is an in-place re-plug", () => {
    expect(planGuest(base, { ...base, nics: [nic({ control: "/l/sw/sw1.ctl" })] }).nicOps).toEqual([
      { kind: "replug", index: 0 },
    ]);
  });

  test("a restarted or replaced switch (new instance) re-plugs its NICs in place", () => {
    const plan = planGuest(base, { ...base, nics: [nic({ switchInstance: "200:9" })] });
    expect(plan).toEqual({ changes: ["nics"], replaces: [], nicOps: [{ kind: "replug", index: 0 }] });
  });

  // During a preview, a switch being updated or created has unknown outputs.
  const previewOf = (over: Partial<NicInputs> = {}) =>
    nic({ control: UNKNOWN, switchInstance: UNKNOWN, ...over });

  test("a switch updated in place (suspended) is no change for its guests in a preview", () => {
    expect(planGuest(base, { ...base, nics: [previewOf()] })).toEqual({
      changes: [],
      replaces: [],
      nicOps: [],
    });
  });

  test("a switch being replaced (new generation) previews as an in-place re-plug", () => {
    const plan = planGuest(base, {
      ...base,
      nics: [previewOf({ switchGeneration: "switch/sw0/vde/learning" })],
    });
    expect(plan.replaces).toEqual([]);
    expect(plan.nicOps).toEqual([{ kind: "replug", index: 0 }]);
  });

  test("a switch that refresh found dead previews as a re-plug, and is re-plugged at apply time", () => {
    const olds = { ...base, nics: [nic({ switchInstance: SWITCH_GONE })] };
    expect(planGuest(olds, { ...base, nics: [previewOf()] }).nicOps).toEqual([{ kind: "replug", index: 0 }]);
    expect(planGuest(olds, { ...base, nics: [nic({ switchInstance: "300:1" })] }).nicOps).toEqual([
      { kind: "replug", index: 0 },
    ]);
  });

  test("a new MAC re-plugs even while the switch's outputs are unknown", () => {
    expect(planGuest(base, { ...base, nics: [previewOf({ mac: "02:00:00:00:00:09" })] }).nicOps).toEqual([
      { kind: "replug", index: 0 },
    ]);
  });

  test("a whole NIC list unknown (e.g. a dependency being replaced) is an update decided at apply time", () => {
    expect(planGuest(base, { ...base, nics: UNKNOWN })).toEqual({
      changes: ["nics"],
      replaces: [],
      nicOps: undefined,
    });
  });

  test("a new MAC re-plugs; new addresses only re-address", () => {
    expect(planNics([nic()], [nic({ mac: "02:00:00:00:00:09" })])).toEqual([{ kind: "replug", index: 0 }]);
    expect(planNics([nic()], [nic({ addresses: ["10.0.0.9/24"] })])).toEqual([
      { kind: "readdress", index: 0 },
    ]);
  });

  test("taking a link down or up is an in-place link change, kept in the boot config", () => {
    expect(planNics([nic()], [nic({ linkDown: true })])).toEqual([{ kind: "link", index: 0 }]);
    expect(planGuest(base, { ...base, nics: [nic({ linkDown: true })] }).replaces).toEqual([]);
    expect(contractConfig({ ...base, nics: [nic({ linkDown: true })] })).toContain("down eth0\n");
    // A re-plugged or re-addressed NIC that is meant to be down stays down.
    expect(nicAddressCommands(0, nic({ linkDown: true }), true)).toEqual([
      "ip addr flush dev eth0",
      "ip addr add 10.0.0.1/24 dev eth0",
      "ip link set eth0 down",
    ]);
  });

  test("setting, changing or removing netem is an in-place netem change, kept in the boot config", () => {
    const lossy = nic({ netem: { lossPercent: 40, delayMs: 0, jitterMs: 0 } });
    expect(planNics([nic()], [lossy])).toEqual([{ kind: "netem", index: 0 }]);
    expect(planNics([lossy], [nic()])).toEqual([{ kind: "netem", index: 0 }]);
    expect(planNics([lossy], [nic({ netem: { lossPercent: 40, delayMs: 20, jitterMs: 0 } })])).toEqual([
      { kind: "netem", index: 0 },
    ]);
    const plan = planGuest(base, { ...base, nics: [lossy] });
    expect(plan).toEqual({ changes: ["nics"], replaces: [], nicOps: [{ kind: "netem", index: 0 }] });
    // All zero is no netem: no change from none, and no config line.
    const zero = nic({ netem: { lossPercent: 0, delayMs: 0, jitterMs: 0 } });
    expect(planNics([nic()], [zero])).toEqual([]);
    expect(contractConfig({ ...base, nics: [zero] })).not.toContain("netem");
    expect(contractConfig({ ...base, nics: [lossy] })).toContain(
      "netem eth0 loss 40 delay 0 jitter 0 rate 0\n",
    );
    // Readdressed and netem changed at once: both; re-plugged: the re-plug re-applies netem.
    expect(planNics([nic()], [{ ...lossy, addresses: ["10.0.0.9/24"] }])).toEqual([
      { kind: "readdress", index: 0 },
      { kind: "netem", index: 0 },
    ]);
    expect(planNics([nic()], [{ ...lossy, switchInstance: "9:9" }])).toEqual([{ kind: "replug", index: 0 }]);
  });

  test("netem settings become tc arguments; removing netem deletes the root qdisc", () => {
    expect(netemArgs(nic({ netem: { lossPercent: 40, delayMs: 0, jitterMs: 0 } }))).toBe("loss 40%");
    expect(netemArgs(nic({ netem: { lossPercent: 0, delayMs: 20, jitterMs: 5, rateKbit: 512 } }))).toBe(
      "delay 20ms 5ms rate 512kbit",
    );
    expect(netemArgs(nic())).toBe("");
    const set = nicNetemScript(1, nic({ netem: { lossPercent: 10, delayMs: 0, jitterMs: 0 } }));
    expect(set).toContain("tc qdisc replace dev eth1 root netem loss 10%");
    expect(set).toContain("modprobe sch_netem");
    expect(set).toContain(NETEM_NEEDS_IPROUTE2);
    expect(nicNetemScript(1, nic())).toContain("tc qdisc del dev eth1 root");
  });

  test("NIC operations are ordered: detaches from the end first, then re-plugs, then attaches", () => {
    const olds = [nic(), nic({ mac: "02:00:00:00:00:02" }), nic({ mac: "02:00:00:00:00:03" })];
    const news = [nic({ switchInstance: "9:9" })];
    expect(planNics(olds, news)).toEqual([
      { kind: "detach", index: 2 },
      { kind: "detach", index: 1 },
      { kind: "replug", index: 0 },
    ]);
    expect(planNics([], [nic(), nic()])).toEqual([
      { kind: "attach", index: 0 },
      { kind: "attach", index: 1 },
    ]);
  });

  test("a changed ready timeout is a change with nothing to do in the guest", () => {
    expect(planGuest(base, { ...base, readyTimeoutSeconds: 5 })).toEqual({
      changes: ["readyTimeoutSeconds"],
      replaces: [],
      nicOps: [],
    });
  });

  test("key order in records does not count as a change", () => {
    expect(canonical({ a: 1, b: [1, { c: 2, d: 3 }] })).toBe(canonical({ b: [1, { d: 3, c: 2 }], a: 1 }));
    const a = { ...base, sysctls: { "a.b": "1", "c.d": "2" } };
    const b = { ...base, sysctls: { "c.d": "2", "a.b": "1" } };
    expect(planGuest(a, b).changes).toEqual([]);
  });
});

describe("guest command line and contract", () => {
  test("the kernel command line boots the contract init with the mconsole inside the lab dir", () => {
    const args = guestArgs({ ...base, serial: ["pts"], kernelArgs: ["quiet"] }, "/l");
    expect(args).toEqual([
      "mem=64M",
      "ubd0=/l/disk/g1.cow,/img/base.img",
      "root=/dev/ubda",
      "rw",
      "uml_dir=/l/uml",
      "umid=g1",
      "con=null",
      "con0=fd:0,fd:1",
      "con7=fd:3,null",
      "ssl=null",
      "ssl0=pts",
      "eth0=daemon,02:00:00:00:00:01,unix,/l/sw/sw0.ctl",
      "init=/sbin/umlab-init",
      "umlab.dir=/l/g/g1",
      "quiet",
    ]);
  });

  test("vde NICs use the vde transport with the control directory", () => {
    expect(nicTransport({ engine: "vde", control: "/l/sw/sw0", mac: "02:00:00:00:00:01" })).toBe(
      "vde,/l/sw/sw0,02:00:00:00:00:01",
    );
  });

  test("the config file carries the contract lines in the contract's vocabulary", () => {
    const text = contractConfig({
      ...base,
      nics: [nic(), nic({ addresses: ["10.0.1.1/24", "fd00::1/64"] })],
      modules: ["dummy"],
      routes: [{ dest: "default", via: "10.0.0.254" }],
      sysctls: { "net.ipv4.ip_forward": "1" },
    });
    expect(text).toBe(
      [
        "hostname g1",
        "module dummy",
        "addr eth0 10.0.0.1/24",
        "addr eth1 10.0.1.1/24",
        "addr eth1 fd00::1/64",
        "route default via 10.0.0.254",
        "sysctl net.ipv4.ip_forward 1",
        "",
      ].join("\n"),
    );
  });

  test("re-addressing a NIC flushes it first; a NIC without addresses is left down", () => {
    expect(nicAddressCommands(1, nic(), true)).toEqual([
      "ip addr flush dev eth1",
      "ip addr add 10.0.0.1/24 dev eth1",
      "ip link set eth1 up",
    ]);
    expect(nicAddressCommands(0, nic({ addresses: [] }), false)).toEqual([]);
  });
});
